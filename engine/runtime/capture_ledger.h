// The device blocks a CUDA graph capture touches, and what may be freed while it runs (issue 19). During
// stream capture cudaMallocAsync/cudaFreeAsync become graph memory nodes, with two rules the allocator must
// keep:
//   - a free node may only free a block an allocation node of the same graph returned, so a block allocated
//     before the capture whose last handle goes during it (the previous step's gradient, say) is not freed
//     there: it is kept until the graph is destroyed (a replay may still read it, since kernels captured
//     before its release were given its address);
//   - a block the capture allocated and did not free outlives the graph's launch: the graph could not be
//     launched again before it is freed, so such blocks ("escapes": a cache built lazily inside the step, a
//     tensor the step keeps) make the capture unusable for replay.
// Generic over the block handle and the deferred free, so the bookkeeping is tested on the CPU
// (tests/engine/capture_ledger_test.cpp); engine/runtime/memory.cpp uses it with device pointers.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace clipt::runtime {

template <typename Block> class CaptureLedger {
 public:
  using Free = std::function<void()>;

  // A block the capture allocated (a graph allocation).
  void allocated(Block b, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    live_[b] = bytes;
  }
  // The last handle on `b` went while capturing. Returns true when the capture allocated it: free it now
  // (a graph free node). Otherwise keeps `free_later` and returns false: the block is freed by
  // release_kept(), once the graph that may read it is gone.
  bool released(Block b, Free free_later) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (live_.erase(b) > 0) return true;
    kept_.push_back(std::move(free_later));
    return false;
  }
  // Blocks the capture allocated and has not freed, with their sizes.
  std::map<Block, size_t> escapes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_;
  }
  size_t kept() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return kept_.size();
  }
  // Frees the kept blocks (the graph is destroyed, or the capture was abandoned before any launch).
  void release_kept() {
    std::vector<Free> frees;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      frees.swap(kept_);
    }
    for (Free& f : frees) f();
  }

 private:
  mutable std::mutex mutex_;
  std::map<Block, size_t> live_;
  std::vector<Free> kept_;
};

}  // namespace clipt::runtime
