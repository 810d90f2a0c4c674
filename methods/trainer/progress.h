// Progress with an ETA for long loops: evaluation batches, classified images, the runs of a protocol sweep
// (b2n, dg, xd), training and pretraining steps. On a terminal one status line is redrawn in place ("\r")
// and ended with a newline when done; when the output is not a terminal (a pipe, a file, CI) nothing is
// drawn and the log gets one line every `every` items and one at the end — so logs hold one line per
// PRINT_FREQ, not a line per batch. Loops that print their own line (training, pretraining) take the ETA
// from here: every ETA in clipt is the mean time per item so far × the items left (eta_seconds).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace clipt::trainer {

// Seconds left after `done` of `total` items took `elapsed` seconds; negative (printed "?") before the first.
double eta_seconds(double elapsed, int64_t done, int64_t total);

class Progress {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic
  // `log_line` receives the log lines (not the terminal redraws; may be empty); `terminal`: the stream to
  // redraw the status line on, or nullptr (see terminal()).
  Progress(std::string label, int64_t total, std::function<void(const std::string&)> log_line, int64_t every,
           std::FILE* terminal, Clock clock = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance(int64_t n = 1);
  // "label [k/n] 40% elapsed 0:00:10 eta 0:00:15".
  std::string status() const;
  double elapsed() const;  // seconds since construction
  double eta() const;      // eta_seconds of the items done so far
  // `stream` when it is a terminal, else nullptr: where to redraw, "quiet when output is not a terminal".
  static std::FILE* terminal(std::FILE* stream);

 private:
  std::string label_;
  int64_t total_, done_ = 0, every_;
  std::function<void(const std::string&)> log_line_;
  std::FILE* terminal_;
  bool drawn_ = false;
  Clock clock_;
  double start_;
};

}  // namespace clipt::trainer
