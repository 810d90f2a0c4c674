#include "methods/trainer/progress.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "methods/trainer/run_log.h"

namespace clipt::trainer {

Progress::Progress(std::string label, int64_t total, std::function<void(const std::string&)> log_line, int64_t every,
                   bool terminal, Clock clock)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)),
      every_(std::max<int64_t>(every, 1)),
      log_line_(std::move(log_line)),
      terminal_(terminal),
      clock_(clock ? std::move(clock) : Clock([] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      })) {
  start_ = clock_();
}

Progress::~Progress() {
  if (drawn_) std::fputc('\n', stdout), std::fflush(stdout);
}

bool Progress::stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::string Progress::status() const {
  const double elapsed = clock_() - start_;
  const double eta = done_ > 0 ? elapsed / double(done_) * double(total_ - done_) : -1;
  return fmt::format("{} [{}/{}] {:.0f}% elapsed {} eta {}", label_, done_, total_,
                     total_ ? 100.0 * double(done_) / double(total_) : 100.0, format_duration(elapsed),
                     format_duration(eta));
}

void Progress::advance(int64_t n) {
  done_ = std::min(total_, done_ + n);
  const bool finished = done_ == total_;
  if (terminal_) {
    fmt::print("\r{}\x1b[K", status());
    std::fflush(stdout);
    drawn_ = true;
    if (finished) {
      std::fputc('\n', stdout);
      drawn_ = false;
    }
  }
  if (log_line_ && (done_ % every_ == 0 || finished)) log_line_(status());
}

}  // namespace clipt::trainer
