// The release-behind-events logic of the pinned-buffer pool (engine/runtime/deferred_release.h) on a fake
// clock: events are "done" once the clock has passed their time, as a stream passes an event. A buffer
// freed while a stream may still read it is not handed out again before every stream that read it has
// passed its read; nothing waits for anything else; reuse picks the smallest buffer that fits.
#include "engine/runtime/deferred_release.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace clipt::runtime
