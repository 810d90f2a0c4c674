// The release-behind-events logic of the pinned-buffer pool (engine/runtime/deferred_release.h) on a fake
// clock: events are "done" once the clock has passed their time, as a stream passes an event. A buffer
// freed while a stream may still read it is not handed out again before every stream that read it has
// passed its read; nothing waits for anything else; reuse picks the smallest buffer that fits.
#include "engine/runtime/deferred_release.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>

namespace clipt::runtime {
namespace {

struct FakeEvent {
  int stream;
  int time;  // completes when the clock reaches it
};

struct FakeClock {
  int now = 0;
  std::vector<int> dropped;  // times of the events given back
  DeferredReleasePool<std::string, FakeEvent> pool{[this](const FakeEvent& e) { return now >= e.time; },
                                                   [this](const FakeEvent& e) { dropped.push_back(e.time); }};
};

TEST(DeferredRelease, ABufferReadByTwoStreamsIsReusedOnlyAfterBothReads) {
  FakeClock c;
  c.pool.release("A", 1024, {{1, 5}, {2, 9}});  // stream 1 reads it until t=5, stream 2 until t=9
  std::string got;
  size_t cap = 0;
  EXPECT_FALSE(c.pool.acquire(512, got, cap)) << "handed out while both streams may read it";
  c.now = 5;
  EXPECT_FALSE(c.pool.acquire(512, got, cap)) << "handed out while stream 2 may still read it";
  EXPECT_EQ(c.pool.pending(), 1u);
  c.now = 9;
  ASSERT_TRUE(c.pool.acquire(512, got, cap));
  EXPECT_EQ(got, "A");
  EXPECT_EQ(cap, 1024u);
  EXPECT_EQ(c.pool.pending(), 0u);
  EXPECT_EQ(c.dropped, (std::vector<int>{5, 9})) << "each event is given back once, when the buffer is freed";
}

TEST(DeferredRelease, AnUnreadBufferIsFreeAtOnceAndReuseTakesTheSmallestThatFits) {
  FakeClock c;
  c.pool.release("big", 4096, {});
  c.pool.release("small", 256, {});
  c.pool.release("mid", 1024, {});
  std::string got;
  size_t cap = 0;
  ASSERT_TRUE(c.pool.acquire(300, got, cap));
  EXPECT_EQ(got, "mid");
  ASSERT_TRUE(c.pool.acquire(100, got, cap));
  EXPECT_EQ(got, "small");
  EXPECT_FALSE(c.pool.acquire(5000, got, cap)) << "nothing fits: the caller allocates";
  EXPECT_EQ(c.pool.free_count(), 1u);
  EXPECT_TRUE(c.dropped.empty());
}

TEST(DeferredRelease, BuffersCompleteIndependently) {
  // A double-buffered loader: batch k's buffer is freed behind its copy; the next batch must not wait for
  // a later copy, and a buffer whose copy has passed is reused while another is still being read.
  FakeClock c;
  c.pool.release("even", 2048, {{1, 3}});
  c.pool.release("odd", 2048, {{1, 7}});
  c.now = 4;
  EXPECT_EQ(c.pool.collect(), 1u);
  std::string got;
  size_t cap = 0;
  ASSERT_TRUE(c.pool.acquire(2048, got, cap));
  EXPECT_EQ(got, "even");
  EXPECT_FALSE(c.pool.acquire(2048, got, cap)) << "'odd' is still being read until t=7";
  c.now = 7;
  ASSERT_TRUE(c.pool.acquire(2048, got, cap));
  EXPECT_EQ(got, "odd");
}

TEST(DeferredRelease, ASmallRequestDoesNotTakeABatchSizedBuffer) {
  // A staged index vector (a few hundred bytes) must not take the free image buffer that the next batch
  // wants: it would force a fresh (slow, page-locking) allocation for that batch every step.
  FakeClock c;
  using Pool = DeferredReleasePool<std::string, FakeEvent>;
  c.pool.release("image", 4 << 20, {});
  std::string got;
  size_t cap = 0;
  EXPECT_FALSE(c.pool.acquire(256, got, cap)) << "a 256-byte request took a 4 MiB buffer";
  EXPECT_TRUE(c.pool.acquire(3 << 20, got, cap)) << "a request of at least half the capacity reuses it";
  EXPECT_EQ(got, "image");
  c.pool.release("slack", Pool::kSlackBytes, {});
  EXPECT_TRUE(c.pool.acquire(1, got, cap)) << "small buffers are shared by small requests within the slack";
  EXPECT_EQ(Pool::max_capacity_for(100), 100 + Pool::kSlackBytes);
  EXPECT_EQ(Pool::max_capacity_for(size_t(1) << 30), size_t(2) << 30);
}

// The trainer's staging, simulated: each step (10 ticks) the loader allocates the buffers of the batch
// `window` steps ahead (images, labels), the step stages one small index vector, and the consumed batch's
// buffers are let go while its copy (and the index copy) may still run for `copy_ticks` more — past the
// start of the next step. A buffer is handed out only once its copy has passed; after the warm-up no
// buffer is ever allocated again (a fixed set of buffers cycles: pooled, double-buffered staging).
struct SimulatedStaging {
  FakeClock clock;
  std::map<std::string, int> busy_until;  // the read time of each buffer's last copy
  int allocations = 0;

  std::string get(size_t bytes) {
    std::string b;
    size_t cap = 0;
    if (!clock.pool.acquire(bytes, b, cap)) {
      b = fmt::format("buf{}({})", allocations++, bytes);
      busy_until[b] = -1;
    }
    EXPECT_GE(clock.now, busy_until[b]) << b << " handed out while a copy still reads it";
    return b;
  }
  void let_go(const std::string& b, size_t bytes, int read_until) {
    busy_until[b] = read_until;
    clock.pool.release(b, bytes, {{1, read_until}});
  }
};

TEST(DeferredRelease, DoubleBufferedStagingReusesAFixedSetOfBuffers) {
  constexpr size_t kImages = size_t(1) << 20, kLabels = 256, kIndex = 64;
  for (int copy_ticks : {3, 15, 25}) {
    SCOPED_TRACE(fmt::format("copy takes {} ticks (a step takes 10)", copy_ticks));
    SimulatedStaging sim;
    const int window = 2;
    std::deque<std::pair<std::string, std::string>> ready;  // allocated batches, oldest first
    for (int k = 0; k < window; ++k) ready.push_back({sim.get(kImages), sim.get(kLabels)});
    int after_warmup = 0;
    for (int step = 0; step < 40; ++step) {
      sim.clock.now = 10 * step;
      const int before = sim.allocations;
      auto batch = ready.front();  // consumed: its copy is queued now
      ready.pop_front();
      ready.push_back({sim.get(kImages), sim.get(kLabels)});  // the window advances
      const std::string index = sim.get(kIndex);
      const int copied = sim.clock.now + copy_ticks;
      sim.let_go(index, kIndex, copied);
      sim.let_go(batch.first, kImages, copied);
      sim.let_go(batch.second, kLabels, copied);
      if (step >= 5) after_warmup += sim.allocations - before;
    }
    EXPECT_EQ(after_warmup, 0) << "buffers allocated in the steady state";
    // The window's batches, the ones whose copies are in flight, and the index buffers.
    const int in_flight = (copy_ticks + 9) / 10 + 1;
    EXPECT_LE(sim.allocations, 2 * (window + in_flight) + in_flight + 1);
  }
}

}  // namespace
}  // namespace clipt::runtime
