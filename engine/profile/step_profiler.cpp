#include "engine/profile/step_profiler.h"

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace clipt::profile {

StepProfiler::StepProfiler(Device device, int64_t steps, int64_t warmup)
    : device_(device), steps_(steps), warmup_(warmup) {
  CLIPT_CHECK(steps > 0, "profile: the number of steps to profile must be positive, got {}", steps);
  CLIPT_CHECK(warmup >= 0, "profile: the number of warm-up steps must be >= 0, got {}", warmup);
}

void StepProfiler::begin_step() {
  if (done_ || seen_ < warmup_) return;
  if (!session_) session_ = std::make_unique<Session>(device_, /*steps_only=*/true);
  session_->begin_step();
}

void StepProfiler::abandon_step() {
  if (session_ && session_->in_step()) session_->abandon_step();
}

bool StepProfiler::end_step() {
  ++seen_;
  if (!session_ || !session_->in_step()) return false;
  session_->end_step();
  if (++profiled_ < steps_) return false;
  done_ = true;
  return true;
}

Profile StepProfiler::finish() {
  done_ = true;
  if (!session_) return Profile{device_};
  Profile p = session_->finish();
  session_.reset();
  return p;
}

std::string write_profile_files(const Profile& profile, const Summary& summary, const std::filesystem::path& dir,
                                int top) {
  std::filesystem::create_directories(dir);
  const std::string report = format_report(summary, top);
  io::write_file_atomic(dir / "report.md", report);
  io::write_file_atomic(dir / "profile.json", summary_json(summary).dump(2) + "\n");
  io::write_file_atomic(dir / "trace.json", chrome_trace(profile).dump() + "\n");
  io::write_file_atomic(dir / "roofline.svg", roofline_svg(summary));
  return report;
}

}  // namespace clipt::profile
