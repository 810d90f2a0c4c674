// Which streams other than its own (the one it was allocated and is freed on) used a device block, and how
// the block is freed behind them: one event per such stream, recorded after its last use, that the home
// stream waits for before the stream-ordered free. The pool can then hand the block out again only after
// every use has completed, and no one synchronises the device.
//
// Generic over the stream type and the operations, so the ordering is tested on the CPU with simulated
// streams (tests/engine/stream_uses_test.cpp); engine/runtime/memory.cpp uses it with cudaStream_t.
#pragma once
#include <algorithm>
#include <mutex>
#include <vector>

namespace clipt::runtime {

template <typename Stream> class StreamUses {
 public:
  explicit StreamUses(Stream home) : home_(home) {}
  Stream home() const { return home_; }
  // Notes that `s` used the block (its own stream is implied).
  void record(Stream s) {
    if (s == home_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::find(others_.begin(), others_.end(), s) == others_.end()) others_.push_back(s);
  }
  std::vector<Stream> others() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return others_;
  }

  // Frees the block: ops.wait_behind(s) for every other stream (record an event on s, make the home
  // stream wait for it), then ops.free_on(home).
  template <typename Ops> void free_behind(Ops& ops) const {
    for (Stream s : others()) ops.wait_behind(s);
    ops.free_on(home_);
  }

 private:
  Stream home_;
  mutable std::mutex mutex_;
  std::vector<Stream> others_;
};

}  // namespace clipt::runtime
