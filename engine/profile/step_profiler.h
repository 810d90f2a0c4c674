// Profiles a window of a step loop: steps [warmup, warmup + steps) are recorded, the warm-up ones (first
// allocations, caches, packed weights) are not. The loop calls begin_step() before a step's data and
// end_step() after its update; results are ready when end_step() returns true.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "engine/profile/profiler.h"
#include "engine/profile/report.h"

namespace clipt::profile {

class StepProfiler {
 public:
  StepProfiler(Device device, int64_t steps, int64_t warmup);
  void begin_step();
  void abandon_step();  // the step had no data after all
  bool end_step();      // true when the last profiled step just ended
  bool recording() const { return session_ != nullptr; }
  bool done() const { return done_; }
  int64_t profiled_steps() const { return profiled_; }
  // Stops recording (if still on) and returns the records.
  Profile finish();

 private:
  Device device_;
  int64_t steps_, warmup_, seen_ = 0, profiled_ = 0;
  bool done_ = false;
  std::unique_ptr<Session> session_;
};

// Writes report.md (the tables), profile.json (summary_json), trace.json (chrome_trace) and roofline.svg
// into `dir` (each atomically); returns the report text.
std::string write_profile_files(const Profile& profile, const Summary& summary, const std::filesystem::path& dir,
                                int top = 15);

}  // namespace clipt::profile
