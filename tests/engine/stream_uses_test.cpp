// Freeing a device block used on several streams (engine/runtime/stream_uses.h), on simulated streams: each
// stream is a timeline; a use enqueues work that ends at some time; an event waited for by the home stream
// moves the home timeline past that stream's work. The stream-ordered free then happens after every use,
// whichever stream used the block last, and without waiting for streams that never touched it.
#include "engine/runtime/stream_uses.h"

#include <gtest/gtest.h>

#include <map>

namespace clipt::runtime {
namespace {

struct SimulatedStreams {
  std::map<int, int> busy_until;  // per stream: when its enqueued work ends
  int free_time = -1;
  std::vector<int> waited;
  void use(int stream, int until) { busy_until[stream] = std::max(busy_until[stream], until); }
  // Record an event on s; the home stream (0) waits for it.
  void wait_behind(int s) {
    waited.push_back(s);
    busy_until[0] = std::max(busy_until[0], busy_until[s]);
  }
  void free_on(int home) { free_time = busy_until[home]; }
};

TEST(StreamUses, TheFreeComesAfterTheLastUseOnEveryStream) {
  SimulatedStreams sim;
  StreamUses<int> uses(0);
  sim.use(0, 3);  // allocated and written on its own stream
  uses.record(0);
  sim.use(1, 10);  // read by a copy stream until t=10
  uses.record(1);
  sim.use(2, 7);
  uses.record(2);
  uses.record(1);   // recorded twice: one event
  sim.use(3, 100);  // a stream that never touched the block
  uses.free_behind(sim);
  EXPECT_EQ(sim.waited, (std::vector<int>{1, 2}));
  EXPECT_EQ(sim.free_time, 10) << "freed before stream 1 finished reading, or waited for stream 3";
}

TEST(StreamUses, ABlockUsedOnlyOnItsOwnStreamIsFreedInStreamOrder) {
  SimulatedStreams sim;
  StreamUses<int> uses(0);
  sim.use(0, 4);
  uses.record(0);
  uses.free_behind(sim);
  EXPECT_TRUE(sim.waited.empty());
  EXPECT_EQ(sim.free_time, 4);
}

}  // namespace
}  // namespace clipt::runtime
