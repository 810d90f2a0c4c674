// Progress with an ETA for long loops: evaluation batches, the runs of a protocol sweep. On a terminal
// one status line is redrawn in place ("\r") and ended with a newline when done; when the output is not a
// terminal (a pipe, a file, CI) nothing goes to the console and the log gets one line every `every` items
// and one at the end — so logs hold one line per PRINT_FREQ, not a line per batch.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace clipt::trainer {

class Progress {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic
  // `log_line` receives the log lines (not the terminal redraws); `terminal`: draw on stdout in place.
  Progress(std::string label, int64_t total, std::function<void(const std::string&)> log_line, int64_t every,
           bool terminal, Clock clock = {});
  ~Progress();
  void advance(int64_t n = 1);
  // "label [k/n] 40% elapsed 0:00:10 eta 0:00:15" (the ETA from the mean time per item so far).
  std::string status() const;
  static bool stdout_is_terminal();

 private:
  std::string label_;
  int64_t total_, done_ = 0, every_;
  std::function<void(const std::string&)> log_line_;
  bool terminal_, drawn_ = false;
  Clock clock_;
  double start_;
};

}  // namespace clipt::trainer
