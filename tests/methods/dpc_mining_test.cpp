// DPC's hard-negative mining against hand-worked cases of the released code's rules (specs/dpc.md §3.1):
// top-K minus the ground truth (K−1 or K), no class twice per batch (the `used` list seeded with every
// batch label), the random fallback ([1, n_base−2], at most n_base−2 attempts), tiny class counts, and
// where the negatives' images come from (the few-shot training images, or the released JSON library).
#include <deque>
#include <fstream>
#include <set>

#include "methods/dpc/hard_negatives.h"
#include "tests/common/test_util.h"

namespace clipt::methods::dpc {
namespace {

using V = std::vector<int64_t>;

// Replays fixed draws and fails the test if more are asked for.
struct Replay {
  std::deque<int64_t> draws;
  int64_t asked = 0;
  FallbackDraw fn() {
    return [this] {
      ++asked;
      if (draws.empty()) {
        ADD_FAILURE() << "more fallback draws than expected";
        return int64_t(0);
      }
      const int64_t c = draws.front();
      draws.pop_front();
      return c;
    };
  }
};

TEST(DpcMining, CandidatesAreTopKMinusTheGroundTruthKeepingAllKWhenItIsAbsent) {
  EXPECT_EQ(hard_negative_candidates({5, 2, 7, 1}, 2), (V{5, 7, 1}));     // K − 1
  EXPECT_EQ(hard_negative_candidates({5, 2, 7, 1}, 9), (V{5, 2, 7, 1}));  // K: the quirk
  EXPECT_EQ(hard_negative_candidates({3}, 3), V{});
}

TEST(DpcMining, NoClassTwicePerBatchAndLaterSamplesGetFewer) {
  // 20 base classes; `used` starts as {4, 9, 4} (duplicates kept).
  Replay r{{3, 15}};
  const auto s = select_hard_negatives({{7, 9, 3}, {7, 3, 12}, {12, 5, 6}}, {4, 9, 4}, 20, r.fn());
  EXPECT_EQ(s.negatives[0], (V{7, 3}));    // 9 is a batch label
  EXPECT_EQ(s.negatives[1], (V{12, 15}));  // 7, 3 taken by sample 0; fallback: 3 used, 15 kept
  EXPECT_EQ(s.negatives[2], (V{5, 6}));    // 12 taken by sample 1
  EXPECT_EQ(r.asked, 2);
  EXPECT_EQ(s.fallback_draws, 2);
  EXPECT_EQ(s.fallback_kept, 1);
  EXPECT_EQ(s.short_samples, 0);
}

TEST(DpcMining, FallbackDrawsUntilTwoNegativesSkippingUsedClasses) {
  // 10 base classes: draws in [1, 8].
  Replay r{{4, 1, 1, 6, 6, 8}};
  const auto s = select_hard_negatives({{2}, {}}, {0, 2}, 10, r.fn());
  EXPECT_EQ(s.negatives[0], (V{4, 1}));  // candidate 2 is sample 1's label; 4 and 1 drawn
  EXPECT_EQ(s.negatives[1], (V{6, 8}));  // 1 used, 6 kept, 6 used, 8 kept
  EXPECT_EQ(r.asked, 6);
  EXPECT_EQ(s.fallback_kept, 4);
}

TEST(DpcMining, FallbackGivesUpAfterNBaseMinusTwoAttempts) {
  // 5 base classes (EuroSAT): draws in [1, 3], at most 3 attempts per sample; 1, 2, 3 are batch labels.
  Replay r{{1, 2, 3, 1, 2, 3, 1, 2, 3}};
  const auto s = select_hard_negatives({{4}, {4}, {4}}, {1, 2, 3}, 5, r.fn());
  EXPECT_EQ(s.negatives[0], V{4});
  EXPECT_TRUE(s.negatives[1].empty());
  EXPECT_TRUE(s.negatives[2].empty());
  EXPECT_EQ(r.asked, 9);
  EXPECT_EQ(s.fallback_kept, 0);
  EXPECT_EQ(s.short_samples, 3);  // fewer than 2 negatives is possible, as in the released code
}

TEST(DpcMining, TinyClassCountsMakeNoDrawsBelowThreeClasses) {
  Replay r;
  // n_base = 2: n_base − 2 = 0 attempts, the range [1, 0] is never sampled.
  const auto s2 = select_hard_negatives({{1}, {0}}, {0, 1}, 2, r.fn());
  EXPECT_TRUE(s2.negatives[0].empty());  // 1 is the other sample's label
  EXPECT_TRUE(s2.negatives[1].empty());
  EXPECT_EQ(r.asked, 0);
  // n_base = 3: one attempt per sample, only class 1 can be drawn.
  Generator g(3);
  const auto s3 = select_hard_negatives({{}, {}}, {0, 2}, 3, generator_draw(g, 3));
  EXPECT_EQ(s3.negatives[0], V{1});
  EXPECT_TRUE(s3.negatives[1].empty());
  EXPECT_EQ(s3.fallback_draws, 2);
}

TEST(DpcMining, FiveBaseClassesWithKEightAsEuroSat) {
  // K = 8 is capped at 5 classes (the caller does it): every list holds all classes by similarity.
  Generator g(1);
  const V labels = {0, 3, 3, 1};
  const std::vector<V> top = {{0, 2, 4, 1, 3}, {3, 1, 0, 4, 2}, {3, 4, 2, 0, 1}, {1, 0, 2, 3, 4}};
  std::vector<V> cand;
  for (size_t i = 0; i < labels.size(); ++i) cand.push_back(hard_negative_candidates(top[i], labels[i]));
  const auto s = select_hard_negatives(cand, labels, 5, generator_draw(g, 5));
  EXPECT_EQ(s.negatives[0], (V{2, 4}));                                          // 1 and 3 are batch labels
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(s.negatives[size_t(i)].empty()) << i;  // every class is used by now
  EXPECT_EQ(s.fallback_draws, 9);  // three attempts for each of samples 1-3, all failing
  EXPECT_EQ(s.short_samples, 3);
}

TEST(DpcMining, GeneratorDrawCoversOneToNBaseMinusTwoInclusive) {
  Generator g(42);
  auto draw = generator_draw(g, 7);
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(draw());
  EXPECT_EQ(seen, (std::set<int64_t>{1, 2, 3, 4, 5}));  // never 0, never 6
}

TEST(DpcMining, SameStepSameDraws) {
  Generator a(9), b(9);
  const auto s1 = select_hard_negatives({{}, {}, {}}, {0, 1, 2}, 30, generator_draw(a, 30));
  const auto s2 = select_hard_negatives({{}, {}, {}}, {0, 1, 2}, 30, generator_draw(b, 30));
  EXPECT_EQ(s1.negatives, s2.negatives);
  for (const auto& n : s1.negatives) EXPECT_EQ(n.size(), 2u);
}

// ---- where the negatives' images come from ----

std::vector<data::Sample> samples(const std::vector<int64_t>& labels) {
  std::vector<data::Sample> out;
  for (size_t i = 0; i < labels.size(); ++i)
    out.push_back({"/d/images/c" + std::to_string(labels[i]) + "/" + std::to_string(i) + ".png", labels[i],
                   "class" + std::to_string(labels[i]), 0});
  return out;
}

TEST(DpcNegativePool, IndexesTheTrainingImagesByClassAndPicksUniformly) {
  const auto pool = NegativePool::from_samples(samples({0, 1, 0, 2, 1, 0}), 3);
  EXPECT_FALSE(pool.owns_samples());
  EXPECT_EQ(pool.count(0), 3);
  EXPECT_EQ(pool.count(2), 1);
  Generator g(4);
  std::map<int64_t, int> hits;
  for (int i = 0; i < 3000; ++i) hits[pool.pick(0, g)]++;
  ASSERT_EQ(hits.size(), 3u);
  for (int64_t at : {0, 2, 5}) EXPECT_NEAR(hits[at], 1000, 150) << at;
  EXPECT_EQ(pool.pick(2, g), 3);
  EXPECT_ERROR_CONTAINS(NegativePool::from_samples(samples({0, 0}), 2), "base class 1 has no training image");
}

TEST(DpcNegativePool, ReadsTheReleasedLibraryJson) {
  const auto dir = test::scratch_dir("dpc_library");
  const auto file = dir / "SPLE_Test.json";
  {
    std::ofstream out(file);
    out << R"({"train": [{"red_circle": [0, ["red_circle/a.png", "red_circle/b.png"]]},
                         {"blue square": [1, ["blue_square/c.png"]]},
                         {"unused": [9, ["x/y.png"]]}],
              "val": [{"red_circle": [0, ["red_circle/val.png"]]}], "train_obj_list": [], "val_obj_list": []})";
  }
  // The anchor is a training image: "<root>/images/<class>/<file>"; paths with two components strip two.
  const auto pool =
      NegativePool::from_library(file, {"red circle", "blue_square"}, "/data/world/images/green_star/train_0001.png");
  ASSERT_TRUE(pool.owns_samples());
  ASSERT_EQ(pool.samples().size(), 3u);  // val is never read
  EXPECT_EQ(pool.samples()[0].path, "/data/world/images/red_circle/a.png");
  EXPECT_EQ(pool.samples()[2].path, "/data/world/images/blue_square/c.png");
  EXPECT_EQ(pool.samples()[2].label, 1);
  EXPECT_EQ(pool.count(0), 2);

  EXPECT_ERROR_CONTAINS(NegativePool::from_library(file, {"red circle", "green star"}, "/a/b/c.png"),
                        "no training images for base class 'green star'");
  EXPECT_ERROR_CONTAINS(NegativePool::from_library(dir / "missing.json", {"x"}, "/a/b.png"), "missing.json");
  {
    std::ofstream out(dir / "bad.json");
    out << R"({"val": []})";
  }
  EXPECT_ERROR_CONTAINS(NegativePool::from_library(dir / "bad.json", {"x"}, "/a/b.png"), "no \"train\" part");
}

}  // namespace
}  // namespace clipt::methods::dpc
