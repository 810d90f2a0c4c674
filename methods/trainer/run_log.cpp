#include "methods/trainer/run_log.h"

#include <cmath>

#include "methods/trainer/tensorboard_scalars.h"

namespace clipt::trainer {

namespace {

// True for an empty or missing file too: only a last line without its newline needs one.
bool ends_with_newline(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() <= 0) return true;
  in.seekg(-1, std::ios::end);
  return in.get() == '\n';
}

}  // namespace

RunLog::RunLog(const std::filesystem::path& dir, bool quiet) : quiet_(quiet) {
  if (dir.empty()) return;
  std::filesystem::create_directories(dir);
  log_.open(dir / "log.txt", std::ios::app);
  metrics_.open(dir / "metrics.jsonl", std::ios::app);
  // A run killed while writing a record left its last line cut short: the resumed run's records start on
  // a line of their own (the report skips the cut one, naming it), rather than being glued onto it.
  if (!ends_with_newline(dir / "metrics.jsonl")) metrics_ << '\n' << std::flush;
  tensorboard_ = std::make_unique<io::TfEventsWriter>(dir / "tensorboard");
}

RunLog RunLog::for_rank(const std::filesystem::path& dir, bool quiet, bool root) {
  if (!root) return muted();
  return RunLog(dir, quiet);
}

RunLog RunLog::muted() { return RunLog(Muted{}); }

void RunLog::line(const std::string& text) {
  std::lock_guard lock(mutex_);
  if (!quiet_ && !muted_) {
    std::fputs(text.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  if (log_.is_open()) log_ << text << '\n' << std::flush;
}

void RunLog::file_line(const std::string& text) {
  std::lock_guard lock(mutex_);
  if (log_.is_open()) log_ << text << '\n' << std::flush;
}

void RunLog::record(const nlohmann::json& j) {
  std::lock_guard lock(mutex_);
  if (metrics_.is_open()) metrics_ << j.dump() << '\n' << std::flush;
  if (tensorboard_)
    for (const Scalar& s : tensorboard_scalars(j, last_epoch_)) tensorboard_->add_scalar(s.tag, s.value, s.step);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = int64_t(seconds + 0.5);
  return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace clipt::trainer
