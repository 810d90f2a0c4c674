#include "data/world/captions.h"

#include <algorithm>
#include <array>
#include <set>

#include "engine/core/error.h"
#include "engine/ops/random.h"

namespace clipt::world {

namespace {

using Words = std::vector<std::string_view>;

std::string_view choose(const Words& options, Generator& gen) {
  return options[size_t(gen.randint(0, int64_t(options.size())))];
}
bool chance(Generator& gen, double p) { return gen.uniform() < p; }

std::string with_article(std::string_view phrase) {
  const char c = phrase.empty() ? 'x' : phrase[0];
  const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return std::string(vowel ? "an " : "a ") + std::string(phrase);
}

Words size_words(Size s) {
  switch (s) {
    case Size::Small: return {"small", "little"};
    case Size::Medium: return {"medium", "medium-sized", "mid-sized"};
    case Size::Large: return {"large", "big"};
  }
  return {""};
}

Words pattern_adjectives(Pattern p) {
  switch (p) {
    case Pattern::Plain: return {"plain", "solid"};
    case Pattern::Striped: return {"striped"};
    case Pattern::Dotted: return {"dotted", "polka-dot", "spotted"};
    case Pattern::Checkered: return {"checkered", "chequered"};
    case Pattern::Wavy: return {"wavy"};
  }
  return {""};
}

Words pattern_with(Pattern p) {
  switch (p) {
    case Pattern::Plain: return {"with no pattern", "in a single colour"};
    case Pattern::Striped: return {"with stripes", "with straight stripes"};
    case Pattern::Dotted: return {"with dots", "with polka dots", "with spots"};
    case Pattern::Checkered: return {"with a checkered pattern", "with checks"};
    case Pattern::Wavy: return {"with wavy stripes", "with wavy lines"};
  }
  return {""};
}

Words style_prefixes(Style s) {
  switch (s) {
    case Style::Photo: return {"a photo of", "a picture of", "an image of", "a close-up photo of", "a good photo of"};
    case Style::Sketch: return {"a sketch of", "a drawing of", "a pencil sketch of", "a line drawing of"};
    case Style::Cartoon:
      return {"a cartoon of", "a cartoon drawing of", "an illustration of", "a flat illustration of"};
    case Style::Texture: return {"a textured photo of", "a photo of", "a busy picture of"};
    case Style::Noisy:
      return {"a noisy photo of", "a blurry photo of", "a grainy picture of", "a low quality photo of"};
  }
  return {""};
}

std::string background_phrase(const Scene& scene, Generator& gen) {
  const Background& bg = scene.background;
  const std::string name(background_colour_name(bg.colour));
  if (scene.style == Style::Sketch) return std::string(choose({"on white paper", "on a white background"}, gen));
  if (scene.style == Style::Texture)
    return "on a busy " + std::string(choose(pattern_adjectives(bg.pattern), gen)) + " background";
  switch (bg.kind) {
    case BackgroundKind::Plain: return "on " + with_article(name) + " background";
    case BackgroundKind::Gradient:
      return chance(gen, 0.5) ? "on " + with_article(name) + " gradient background" : "on a gradient background";
    case BackgroundKind::Mottled: return "on a mottled " + name + " background";
    case BackgroundKind::Table:
      return chance(gen, 0.5) ? "on a table" : "on a table in front of " + with_article(name) + " wall";
  }
  return "";
}

std::string object_phrase(const Object& o) {
  return with_article(std::string(colour_name(o.colour)) + " " + std::string(shape_name(o.shape)));
}

std::string distractor_phrase(const Scene& scene, Generator& gen) {
  std::string others;
  for (int i = 0; i < scene.num_distractors; ++i) {
    const Object& d = scene.distractors[size_t(i)];
    if (i > 0) others += " and ";
    others += with_article(std::string(colour_name(d.colour)) + " " + std::string(shape_name(d.shape)));
  }
  return std::string(choose({"next to", "beside", "near"}, gen)) + " " + others;
}

// The subject as a noun phrase with a random selection and order of its adjectives; colour and shape
// always present, colour directly before the shape.
std::string subject_phrase(const Object& o, Generator& gen, bool with_size, bool with_pattern) {
  std::string adjectives;
  auto add = [&](std::string_view w) {
    if (!adjectives.empty()) adjectives += " ";
    adjectives += w;
  };
  const bool pattern = with_pattern && (o.pattern != Pattern::Plain || chance(gen, 0.2));
  const bool pattern_first = chance(gen, 0.5);
  if (with_size) add(choose(size_words(o.size), gen));
  if (pattern && pattern_first) add(choose(pattern_adjectives(o.pattern), gen));
  add(colour_name(o.colour));
  std::string phrase = adjectives + " " + std::string(shape_name(o.shape));
  if (pattern && !pattern_first) {
    // "a red circle with stripes" instead of "a striped red circle".
    return with_article(phrase) + " " + std::string(choose(pattern_with(o.pattern), gen));
  }
  return with_article(phrase);
}

}  // namespace

std::string caption_with_template(const Scene& scene, int template_index, uint64_t seed) {
  CLIPT_CHECK(template_index >= 0 && template_index < kNumCaptionTemplates,
              "world caption: template {} out of range [0, {})", template_index, kNumCaptionTemplates);
  Generator gen(seed);
  const Object& o = scene.object;
  const std::string colour(colour_name(o.colour)), shape(shape_name(o.shape));
  const std::string prefix(choose(style_prefixes(scene.style), gen));
  const std::string position(position_phrase(o.position));
  const bool photo_like = scene.style == Style::Photo;
  std::string text;
  switch (template_index) {
    case 0:  // "a photo of a small red striped circle."
      text = prefix + " " + subject_phrase(o, gen, chance(gen, 0.6), chance(gen, 0.6)) + ".";
      break;
    case 1:  // "a red circle on a grey background"
      text = subject_phrase(o, gen, chance(gen, 0.3), chance(gen, 0.3)) + " " + background_phrase(scene, gen);
      break;
    case 2:  // "a large star, coloured blue, with dots"
      text = with_article(std::string(choose(size_words(o.size), gen)) + " " + shape) + ", coloured " + colour + ", " +
             std::string(choose(pattern_with(o.pattern), gen));
      break;
    case 3:  // "there is a green triangle on the left"
      text = "there is " + subject_phrase(o, gen, chance(gen, 0.4), chance(gen, 0.3)) + " " + position;
      break;
    case 4:  // "on the left, a small red circle."
      text = position + ", " + subject_phrase(o, gen, chance(gen, 0.5), chance(gen, 0.5)) + ".";
      break;
    case 5:  // "a photo of a red circle in the top left on a grey background"
      text = prefix + " " + subject_phrase(o, gen, chance(gen, 0.5), chance(gen, 0.5)) + " " + position + " " +
             background_phrase(scene, gen);
      break;
    case 6:  // "a red circle next to a blue star" (falls back to the bare form without distractors)
      text = subject_phrase(o, gen, chance(gen, 0.5), chance(gen, 0.3));
      if (scene.num_distractors > 0) text += " " + distractor_phrase(scene, gen);
      break;
    case 7:  // "a red circle." — the class prompt's own form
      text = object_phrase(o) + (chance(gen, 0.5) ? "." : "");
      break;
    case 8:  // "a photo of a star that is red and striped."
      text = prefix + " " + with_article(shape) + " that is " + colour;
      if (o.pattern != Pattern::Plain) text += " and " + std::string(choose(pattern_adjectives(o.pattern), gen));
      text += ".";
      break;
    case 9:  // alt-text style: "red circle, small, striped, grey background"
      text = colour + " " + shape + ", " + std::string(choose(size_words(o.size), gen)) + ", " +
             std::string(choose(pattern_adjectives(o.pattern), gen));
      if (photo_like && chance(gen, 0.5))
        text += ", " + std::string(background_colour_name(scene.background.colour)) + " background";
      else
        text += ", " + std::string(style_name(scene.style));
      break;
    case 10:  // "a circle. it is red and large."
      text = with_article(shape) + ". it is " + colour + " and " + std::string(choose(size_words(o.size), gen)) + ".";
      break;
    case 11:  // "the red circle is on the left."
      text = "the " + colour + " " + shape + " is " + position + (chance(gen, 0.5) ? "." : "");
      break;
  }
  return text;
}

std::string caption(const Scene& scene, uint64_t seed) {
  Generator gen(seed);
  const int t = int(gen.randint(0, kNumCaptionTemplates));
  return caption_with_template(scene, t, (uint64_t(gen.next_u32()) << 32) | gen.next_u32());
}

std::vector<std::string> caption_vocabulary() {
  std::set<std::string> words;
  auto add_text = [&](std::string_view text) {
    std::string w;
    for (char c : text) {
      if (c == ' ' || c == ',' || c == '.') {
        if (!w.empty()) words.insert(w);
        w.clear();
      } else {
        w += c;
      }
    }
    if (!w.empty()) words.insert(w);
  };
  for (int i = 0; i < kNumShapes; ++i) add_text(shape_name(Shape(i)));
  for (int i = 0; i < kNumColours; ++i) add_text(colour_name(Colour(i)));
  for (int i = 0; i < kNumStyles; ++i) {
    add_text(style_name(Style(i)));
    for (auto w : style_prefixes(Style(i))) add_text(w);
  }
  for (int i = 0; i < kNumSizes; ++i)
    for (auto w : size_words(Size(i))) add_text(w);
  for (int i = 0; i < kNumPatterns; ++i) {
    for (auto w : pattern_adjectives(Pattern(i))) add_text(w);
    for (auto w : pattern_with(Pattern(i))) add_text(w);
  }
  for (int i = 0; i < kNumBackgroundColours; ++i) add_text(background_colour_name(i));
  for (int i = 0; i < kNumPositions; ++i) add_text(position_phrase(i));
  add_text(
      "a an on of the is it and that there coloured background gradient mottled table in front wall busy "
      "white paper next to beside near");
  return {words.begin(), words.end()};
}

}  // namespace clipt::world
