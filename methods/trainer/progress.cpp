#include "methods/trainer/progress.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "methods/trainer/run_log.h"

namespace clipt::trainer {

double eta_seconds(double elapsed, int64_t done, int64_t total) {
  if (done <= 0) return -1;
  return elapsed / double(done) * double(std::max<int64_t>(total - done, 0));
}

Progress::Progress(std::string label, int64_t total, std::function<void(const std::string&)> log_line, int64_t every,
                   std::FILE* terminal, Clock clock)
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
  if (drawn_) std::fputc('\n', terminal_), std::fflush(terminal_);
}

std::FILE* Progress::terminal(std::FILE* stream) { return ::isatty(::fileno(stream)) == 1 ? stream : nullptr; }

double Progress::elapsed() const { return clock_() - start_; }

double Progress::eta() const { return eta_seconds(elapsed(), done_, total_); }

std::string Progress::status() const {
  const double seconds = elapsed();
  return fmt::format("{} [{}/{}] {:.0f}% elapsed {} eta {}", label_, done_, total_,
                     total_ ? 100.0 * double(done_) / double(total_) : 100.0, format_duration(seconds),
                     format_duration(eta_seconds(seconds, done_, total_)));
}

void Progress::advance(int64_t n) {
  const int64_t before = done_;
  done_ = std::min(total_, done_ + n);
  const bool finished = done_ == total_;
  if (terminal_) {
    fmt::print(terminal_, "\r{}\x1b[K", status());
    drawn_ = true;
    if (finished) {
      std::fputc('\n', terminal_);
      drawn_ = false;
    }
    std::fflush(terminal_);
  }
  // A line each time the count passes a multiple of `every` (advance may move by more than one) and at the end.
  if (log_line_ && (done_ / every_ > before / every_ || (finished && before < total_))) log_line_(status());
}

}  // namespace clipt::trainer
