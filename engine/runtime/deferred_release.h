// Buffers that their last owner has let go of while a stream may still read them (an asynchronous
// host→device copy out of a pinned buffer): each waits behind one event per stream that used it and is
// handed back for reuse only once all of its events have completed, never by synchronising the device.
// A pool of such buffers by size: acquire() reuses a free buffer of at least the size asked (the smallest
// one, and not one far larger), after collecting the deferred ones whose events are done.
//
// Generic over the event (anything `done` can query) and the buffer handle, so the logic is tested on the
// CPU with a fake clock (tests/engine/deferred_release_test.cpp); engine/runtime/pinned_host.cpp uses it
// with cudaEvent_t and page-locked host blocks. Not thread-safe: the caller holds a lock.
#pragma once
#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

namespace clipt::runtime {

template <typename Buffer, typename Event> class DeferredReleasePool {
 public:
  using EventDone = std::function<bool(const Event&)>;
  using EventDrop = std::function<void(const Event&)>;  // e.g. cudaEventDestroy

  DeferredReleasePool(EventDone done, EventDrop drop) : done_(std::move(done)), drop_(std::move(drop)) {}

  // The largest buffer handed out for `bytes`: a small request (a staged index vector) does not take a
  // batch-sized buffer, which the next batch would then have to allocate again.
  static size_t max_capacity_for(size_t bytes) { return std::max(2 * bytes, bytes + kSlackBytes); }
  static constexpr size_t kSlackBytes = size_t(64) << 10;

  // A free buffer of at least `bytes` (the smallest such, at most max_capacity_for(bytes)), after
  // collecting completed deferrals; false when none fits (the caller allocates a new one).
  bool acquire(size_t bytes, Buffer& out, size_t& capacity) {
    collect();
    auto it = free_.lower_bound(bytes);
    if (it == free_.end() || it->first > max_capacity_for(bytes)) return false;
    out = it->second;
    capacity = it->first;
    free_.erase(it);
    return true;
  }

  // The last owner let go of `buffer` (`capacity` bytes); `events` were recorded after the last use on every
  // stream that read it. With no events it is free at once.
  void release(Buffer buffer, size_t capacity, std::vector<Event> events) {
    if (events.empty()) {
      free_.emplace(capacity, buffer);
      return;
    }
    pending_.push_back({buffer, capacity, std::move(events)});
  }

  // Moves every deferred buffer whose events have all completed to the free list; returns how many.
  size_t collect() {
    size_t moved = 0;
    for (auto it = pending_.begin(); it != pending_.end();) {
      bool all_done = true;
      for (const Event& e : it->events) all_done = all_done && done_(e);
      if (!all_done) {
        ++it;
        continue;
      }
      for (const Event& e : it->events) drop_(e);
      free_.emplace(it->capacity, it->buffer);
      it = pending_.erase(it);
      ++moved;
    }
    return moved;
  }

  size_t pending() const { return pending_.size(); }
  size_t free_count() const { return free_.size(); }
  // Every free buffer, removed from the pool (to give back to the system at exit or on trimming).
  std::vector<std::pair<Buffer, size_t>> take_free() {
    std::vector<std::pair<Buffer, size_t>> out;
    for (auto& [cap, b] : free_) out.push_back({b, cap});
    free_.clear();
    return out;
  }

 private:
  struct Deferred {
    Buffer buffer;
    size_t capacity;
    std::vector<Event> events;
  };
  EventDone done_;
  EventDrop drop_;
  std::multimap<size_t, Buffer> free_;  // by capacity
  std::vector<Deferred> pending_;
};

}  // namespace clipt::runtime
