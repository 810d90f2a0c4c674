// World captions: they name what was drawn, vary, are deterministic, and stay inside the vocabulary.
#include "data/world/captions.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "data/world/classes.h"
#include "tests/common/test_util.h"

namespace clipt::world {
namespace {

bool contains(const std::string& text, std::string_view word) { return text.find(word) != std::string::npos; }

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text) {
    if (c == ' ' || c == ',' || c == '.') {
      if (!w.empty()) out.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

TEST(WorldCaptions, EveryTemplateNamesColourAndShape) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SceneOptions options;
    options.style = Style(seed % kNumStyles);
    options.distractor_probability = 0.5f;
    const Scene s = sample_scene(options, seed);
    for (int t = 0; t < kNumCaptionTemplates; ++t) {
      const std::string c = caption_with_template(s, t, seed * 31 + uint64_t(t));
      const auto words = words_of(c);
      EXPECT_NE(std::find(words.begin(), words.end(), colour_name(s.object.colour)), words.end()) << c;
      EXPECT_NE(std::find(words.begin(), words.end(), shape_name(s.object.shape)), words.end()) << c;
      // Lowercase ASCII with single spaces.
      for (char ch : c) EXPECT_TRUE((ch >= 'a' && ch <= 'z') || ch == ' ' || ch == ',' || ch == '.' || ch == '-') << c;
      EXPECT_EQ(c.find("  "), std::string::npos) << c;
      EXPECT_NE(c.front(), ' ');
      EXPECT_NE(c.back(), ' ');
    }
  }
}

TEST(WorldCaptions, MentionedAttributesAreTrue) {
  // Whatever a caption says about size, pattern, position, style and distractors matches the scene.
  const std::pair<std::string_view, Size> size_words[] = {{"small", Size::Small},
                                                          {"little", Size::Small},
                                                          {"medium", Size::Medium},
                                                          {"large", Size::Large},
                                                          {"big", Size::Large}};
  for (uint64_t seed = 0; seed < 400; ++seed) {
    SceneOptions options;
    options.style = Style(seed % kNumStyles);
    options.distractor_probability = 0.0f;
    const Scene s = sample_scene(options, seed);
    const std::string c = caption(s, seed + 1000);
    const auto words = words_of(c);
    auto has = [&](std::string_view w) { return std::find(words.begin(), words.end(), w) != words.end(); };
    for (const auto& [w, size] : size_words)
      if (has(w)) { EXPECT_EQ(s.object.size, size) << c; }
    if (has("striped") || (has("stripes") && !has("wavy"))) {
      EXPECT_TRUE(s.object.pattern == Pattern::Striped || s.background.pattern == Pattern::Striped) << c;
    }
    if (has("dots") || has("dotted")) {
      EXPECT_TRUE(s.object.pattern == Pattern::Dotted || s.background.pattern == Pattern::Dotted) << c;
    }
    if (has("sketch") || has("drawing")) { EXPECT_TRUE(s.style == Style::Sketch || s.style == Style::Cartoon) << c; }
    if (has("noisy") || has("blurry") || has("grainy")) { EXPECT_EQ(s.style, Style::Noisy) << c; }
    for (int p = 0; p < kNumPositions; ++p)
      if (contains(c, std::string(position_phrase(p)) + " ") || c.ends_with(position_phrase(p)) ||
          contains(c, std::string(position_phrase(p)) + ",") || contains(c, std::string(position_phrase(p)) + ".")) {
        EXPECT_EQ(s.object.position, p) << c;
      }
    if (has("next") || has("beside") || has("near")) ADD_FAILURE() << "no distractors, but: " << c;
  }
}

TEST(WorldCaptions, DistractorsAreNamed) {
  SceneOptions options;
  options.distractor_probability = 1.0f;
  int named = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const Scene s = sample_scene(options, seed);
    if (s.num_distractors == 0) continue;
    const std::string c = caption_with_template(s, 6, seed);
    for (int i = 0; i < s.num_distractors; ++i) {
      const Object& d = s.distractors[size_t(i)];
      EXPECT_TRUE(contains(c, class_name(d.colour, d.shape))) << c;
    }
    ++named;
  }
  EXPECT_GT(named, 50);
}

TEST(WorldCaptions, ArticlesAgree) {
  SceneOptions options;
  options.colour = Colour::Orange;
  options.shape = Shape::Circle;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const std::string c = caption_with_template(sample_scene(options, seed), 7, seed);
    EXPECT_TRUE(c.starts_with("an orange circle")) << c;
  }
}

TEST(WorldCaptions, DeterministicAndVaried) {
  const Scene s = sample_scene({}, 5);
  EXPECT_EQ(caption(s, 11), caption(s, 11));
  std::set<std::string> distinct;
  for (uint64_t seed = 0; seed < 300; ++seed) distinct.insert(caption(s, seed));
  EXPECT_GT(distinct.size(), size_t(40));
  std::set<std::string> first_words;
  for (const auto& c : distinct) first_words.insert(words_of(c).front());
  EXPECT_GE(first_words.size(), size_t(5));  // several word orders, not one template
  EXPECT_ERROR_CONTAINS(caption_with_template(s, kNumCaptionTemplates, 0), "template");
}

TEST(WorldCaptions, VocabularyCoversCaptionsAndClassNames) {
  const std::vector<std::string> vocab = caption_vocabulary();
  const std::set<std::string> known(vocab.begin(), vocab.end());
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    SceneOptions options;
    options.style = Style(seed % kNumStyles);
    options.distractor_probability = 0.5f;
    const std::string c = caption(sample_scene(options, seed), seed);
    for (const std::string& w : words_of(c)) EXPECT_TRUE(known.count(w)) << "'" << w << "' in: " << c;
  }
  for (int c = 0; c < kNumColours; ++c)
    for (int s = 0; s < kNumShapes; ++s)
      for (const std::string& w : words_of(class_name(Colour(c), Shape(s)))) EXPECT_TRUE(known.count(w)) << w;
}

}  // namespace
}  // namespace clipt::world
