// The on-the-fly pretraining stream: deterministic by index, held-out pairs, style mix.
#include "data/world/pretrain_stream.h"

#include <set>

#include "tests/common/test_util.h"

namespace clipt::world {
namespace {

TEST(WorldPretrain, SamplesArePureFunctionsOfTheIndex) {
  const PretrainStream a(PretrainSpec{}), b(PretrainSpec{});
  for (uint64_t i : {0ull, 1ull, 12345ull, 1ull << 40}) {
    const PretrainSample x = a.at(i), y = b.at(i);
    EXPECT_EQ(x.image.pixels, y.image.pixels);
    EXPECT_EQ(x.caption, y.caption);
    std::vector<uint8_t> buffer(64 * 64 * 3);
    EXPECT_EQ(a.render_at(i, buffer.data()), x.caption);
    EXPECT_EQ(buffer, x.image.pixels);
    EXPECT_EQ(a.caption_at(i), x.caption);
  }
  EXPECT_NE(a.at(3).image.pixels, a.at(4).image.pixels);
  PretrainSpec other;
  other.seed = 1;
  EXPECT_NE(PretrainStream(other).at(3).image.pixels, a.at(3).image.pixels);
}

TEST(WorldPretrain, NewClassPairsAreHeldOutByDefault) {
  const PretrainStream stream(PretrainSpec{});
  const auto held = new_class_pairs(make_classes(default_class_set()));
  ASSERT_EQ(stream.held_out_pairs(), held);
  const std::set<std::pair<Colour, Shape>> held_set(held.begin(), held.end());
  std::set<Colour> colours;
  std::set<Shape> shapes;
  for (uint64_t i = 0; i < 4000; ++i) {
    const Scene s = stream.scene_at(i);
    EXPECT_FALSE(held_set.count({s.object.colour, s.object.shape})) << i;
    for (int d = 0; d < s.num_distractors; ++d)
      EXPECT_FALSE(held_set.count({s.distractors[size_t(d)].colour, s.distractors[size_t(d)].shape})) << i;
    colours.insert(s.object.colour);
    shapes.insert(s.object.shape);
  }
  // …while every colour and every shape still occurs.
  EXPECT_EQ(colours.size(), size_t(kNumColours));
  EXPECT_EQ(shapes.size(), size_t(kNumShapes));

  PretrainSpec all;
  all.holdout = Holdout::None;
  const PretrainStream open(all);
  EXPECT_TRUE(open.held_out_pairs().empty());
  int seen = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    const Scene s = open.scene_at(i);
    seen += held_set.count({s.object.colour, s.object.shape}) > 0;
  }
  EXPECT_GT(seen, 100);  // 32 of 100 pairs are held-out pairs: about a third of the subjects
}

// Colour groups: consecutive indices [g·G, (g+1)·G) share the subject's colour and differ in shape (the
// hard negatives of a batch); groups themselves cover every colour; held-out pairs stay held out.
TEST(WorldPretrain, ColourGroupsShareTheSubjectsColourAndKeepPairsHeldOut) {
  PretrainSpec spec;
  spec.colour_group = 16;
  const PretrainStream stream(spec);
  const auto held = new_class_pairs(make_classes(default_class_set()));
  const std::set<std::pair<Colour, Shape>> held_set(held.begin(), held.end());
  std::set<Colour> group_colours;
  for (uint64_t g = 0; g < 64; ++g) {
    const Colour colour = stream.scene_at(g * 16).object.colour;
    group_colours.insert(colour);
    std::set<Shape> shapes;
    for (uint64_t i = g * 16; i < (g + 1) * 16; ++i) {
      const Scene s = stream.scene_at(i);
      EXPECT_EQ(s.object.colour, colour) << "index " << i;
      EXPECT_FALSE(held_set.count({s.object.colour, s.object.shape})) << i;
      shapes.insert(s.object.shape);
    }
    EXPECT_GE(shapes.size(), 3u) << "group " << g << " should mix shapes";
  }
  EXPECT_EQ(group_colours.size(), size_t(kNumColours));
  // Grouping changes which subjects are drawn, not the stream's other properties: still a pure function.
  EXPECT_EQ(PretrainStream(spec).caption_at(77), stream.caption_at(77));
  spec.colour_group = 0;
  EXPECT_ERROR_CONTAINS(PretrainStream{spec}, "colour_group 0");
}

TEST(WorldPretrain, StyleWeights) {
  PretrainSpec spec;
  spec.style_weights = {0, 0, 1, 0, 3};
  const PretrainStream stream(spec);
  int counts[kNumStyles] = {};
  for (uint64_t i = 0; i < 4000; ++i) ++counts[int(stream.scene_at(i).style)];
  EXPECT_EQ(counts[0] + counts[1] + counts[3], 0);
  EXPECT_NEAR(counts[2] / 4000.0, 0.25, 0.03);
  EXPECT_NEAR(counts[4] / 4000.0, 0.75, 0.03);
  spec.style_weights = {0, 0, 0, 0, 0};
  EXPECT_ERROR_CONTAINS(PretrainStream{spec}, "all style weights are zero");
  spec.style_weights = {1, -1, 0, 0, 0};
  EXPECT_ERROR_CONTAINS(PretrainStream{spec}, "negative");
}

}  // namespace
}  // namespace clipt::world
