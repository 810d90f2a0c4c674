// A scene is the complete description of one world image: every random choice is made when the scene is
// sampled (from a seed, with the engine's Philox generator), so rendering is a pure function of the scene
// and captions can name exactly what was drawn.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "data/world/attributes.h"

namespace clipt::world {

// Geometry is in units of the image side: (0, 0) is the top-left corner, (1, 1) the bottom-right; so a
// scene renders the same at any resolution.
struct Object {
  Shape shape = Shape::Circle;
  Colour colour = Colour::Red;
  Size size = Size::Medium;
  Pattern pattern = Pattern::Plain;
  int position = 4;  // coarse 3×3 cell (see position_phrase)
  float cx = 0.5f, cy = 0.5f;
  float radius = 0.2f;    // the shape fits a circle of this radius (image units)
  float rotation = 0.0f;  // radians
  Rgb fill;               // the colour with this image's jitter
  Rgb accent;             // pattern colour: a lighter or darker shade of the fill
  float pattern_period = 0.1f;
  float pattern_angle = 0.0f;
};

struct Background {
  BackgroundKind kind = BackgroundKind::Plain;
  int colour = 0;                    // index into the named background colours (what captions say)
  Rgb base, second;                  // second: gradient end, table surface or texture colour
  float angle = 0.0f;                // gradient direction
  float horizon = 0.6f;              // table edge (image units from the top)
  Pattern pattern = Pattern::Plain;  // busy texture (texture style only)
  float pattern_period = 0.08f;
  float pattern_angle = 0.0f;
};

inline constexpr int kMaxDistractors = 2;

struct Scene {
  Style style = Style::Photo;
  Background background;
  Object object;  // the subject: what a class label and the caption are about
  std::array<Object, kMaxDistractors> distractors;
  int num_distractors = 0;
  float light_angle = 0.0f;  // direction the light comes from (photo-like styles)
  uint64_t detail_seed = 0;  // per-pixel detail: sensor noise, mottling, pencil wobble
};

// What may be sampled. Empty pools mean "all". `colour`/`shape` pin the subject (benchmark classes).
struct SceneOptions {
  std::vector<Colour> colours;
  std::vector<Shape> shapes;
  std::optional<Colour> colour;
  std::optional<Shape> shape;
  Style style = Style::Photo;
  float distractor_probability = 0.3f;  // chance of at least one distractor (a second one half as often)
  // (colour, shape) pairs that no object may have: the held-out new classes when pretraining.
  std::vector<std::pair<Colour, Shape>> excluded_pairs;
};

// Deterministic: the same options and seed give the same scene on every machine.
Scene sample_scene(const SceneOptions& options, uint64_t seed);

// A 64-bit seed for item (a, b) of stream `stream` under `seed` (one Philox block; streams keep the
// seeds of, e.g., train images and pretraining images apart).
uint64_t derive_seed(uint64_t seed, uint32_t stream, uint64_t a, uint64_t b = 0);

}  // namespace clipt::world
