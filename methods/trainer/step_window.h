// The training steps since the host last read their loss and accuracy (issue 19). On a device every
// read of a tensor value waits for the stream to drain, so a step queues no read: its loss and its number
// of correct predictions are written, on the device, into the next slot of a [2, capacity] f32 buffer
// allocated once, and read() brings the whole window to the host in one read when the trainer prints,
// checkpoints or stops. The host then adds the values up in f64 in step order, so epoch figures and
// metrics.jsonl records are the ones a read per step gave.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "methods/method.h"

namespace clipt::trainer {

class StepWindow {
 public:
  StepWindow(int64_t capacity, Device device);

  // Queues one step's values (device ops only, no host read). `labels`: the batch's labels on the device,
  // compared with the argmax of r.logits when the method reports logits. Keeps r.metrics for read().
  void add(const methods::StepResult& r, const Tensor& labels, int64_t iteration, int64_t global_step);

  int64_t size() const { return int64_t(steps_.size()); }
  int64_t capacity() const { return capacity_; }
  bool full() const { return size() == capacity_; }

  struct Step {
    int64_t iteration = 0, global_step = 0;  // of the step (0-based)
    double loss = 0;                         // this rank's (the trainer averages it over ranks)
    int64_t correct = 0, seen = 0;           // training predictions of this rank's share
  };
  struct Read {
    std::vector<Step> steps;                // in step order
    std::map<std::string, double> metrics;  // of the window's last step, when asked for
  };
  // Brings the window's values to the host and empties it: one read of the device values (with the last
  // step's device metrics appended when `with_metrics`; metrics the method computed on the host are read
  // from their cpu scalars).
  Read read(bool with_metrics);

 private:
  int64_t capacity_;
  Tensor values_;  // f32 [2, capacity]: row 0 the losses, row 1 the correct counts (exact below 2^24)
  std::vector<Step> steps_;
  methods::Metrics last_metrics_;
};

}  // namespace clipt::trainer
