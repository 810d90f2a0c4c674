// The capture ledger (engine/runtime/capture_ledger.h) with integer blocks: what a graph capture may free,
// what it keeps until the graph is gone, and which of its allocations escape.
#include "engine/runtime/capture_ledger.h"

#include <gtest/gtest.h>

#include <vector>

namespace clipt::runtime {
namespace {

TEST(CaptureLedger, FreesItsOwnBlocksAndKeepsOthersUntilReleased) {
  CaptureLedger<int> ledger;
  std::vector<int> freed;
  ledger.allocated(1, 64);
  ledger.allocated(2, 32);
  // A block the capture allocated is freed inside it (a graph free node): nothing deferred.
  EXPECT_TRUE(ledger.released(1, [&] { freed.push_back(1); }));
  // A block from before the capture (the previous step's gradient): kept, the graph may read it.
  EXPECT_FALSE(ledger.released(7, [&] { freed.push_back(7); }));
  EXPECT_EQ(ledger.kept(), 1u);
  EXPECT_TRUE(freed.empty());
  // Block 2 was allocated and never freed: it escapes.
  const auto escapes = ledger.escapes();
  ASSERT_EQ(escapes.size(), 1u);
  EXPECT_EQ(escapes.begin()->first, 2);
  EXPECT_EQ(escapes.begin()->second, 32u);
  ledger.release_kept();
  EXPECT_EQ(freed, std::vector<int>{7});
  EXPECT_EQ(ledger.kept(), 0u);
  ledger.release_kept();  // nothing twice
  EXPECT_EQ(freed.size(), 1u);
}

TEST(CaptureLedger, ABlockIsFreedInTheCaptureOnlyOnce) {
  CaptureLedger<int> ledger;
  ledger.allocated(3, 8);
  EXPECT_TRUE(ledger.released(3, [] {}));
  // The same address handed out again before the capture ends is a new graph allocation.
  ledger.allocated(3, 8);
  EXPECT_TRUE(ledger.released(3, [] {}));
  EXPECT_TRUE(ledger.escapes().empty());
  EXPECT_EQ(ledger.kept(), 0u);
}

}  // namespace
}  // namespace clipt::runtime
