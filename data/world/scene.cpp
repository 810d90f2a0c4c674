#include "data/world/scene.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/ops/random.h"
#include "kernels/philox.h"

namespace clipt::world {

namespace {

constexpr float kPi = 3.14159265f;

template <typename T> T pick(const std::vector<T>& pool, Generator& gen) {
  return pool[size_t(gen.randint(0, int64_t(pool.size())))];
}

template <typename Enum> std::vector<Enum> all_of(int n) {
  std::vector<Enum> v;
  for (int i = 0; i < n; ++i) v.push_back(Enum(i));
  return v;
}

float uniform(Generator& gen, float lo, float hi) { return float(gen.uniform(lo, hi)); }

float clamp255(float v) { return std::clamp(v, 0.0f, 255.0f); }

Rgb mix(Rgb a, Rgb b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }

float luminance(Rgb c) { return 0.299f * c.r + 0.587f * c.g + 0.114f * c.b; }

float distance(Rgb a, Rgb b) {
  const float dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
  return std::sqrt(dr * dr + dg * dg + db * db);
}

// Small brightness and per-channel jitter: images of one class are not all the same red, but no colour drifts
// into another (the closest reference pair, orange and yellow, is 79 apart; jitter moves a colour by ≤ ~30).
Rgb jitter_colour(Rgb c, Generator& gen) {
  const float scale = uniform(gen, 0.9f, 1.08f);
  return {clamp255(c.r * scale + uniform(gen, -9, 9)), clamp255(c.g * scale + uniform(gen, -9, 9)),
          clamp255(c.b * scale + uniform(gen, -9, 9))};
}

Rgb accent_of(Rgb fill, Generator& gen) {
  // Light colours get a darker pattern and dark ones a lighter one, so the pattern is visible but the object
  // still reads as its colour.
  if (luminance(fill) > 150.0f) return mix(fill, Rgb{20, 20, 20}, uniform(gen, 0.3f, 0.42f));
  return mix(fill, Rgb{255, 255, 255}, uniform(gen, 0.42f, 0.55f));
}

bool excluded(const SceneOptions& o, Colour c, Shape s) {
  return std::find(o.excluded_pairs.begin(), o.excluded_pairs.end(), std::make_pair(c, s)) != o.excluded_pairs.end();
}

float radius_for(Size size, Generator& gen) {
  switch (size) {
    case Size::Small: return uniform(gen, 0.13f, 0.155f);
    case Size::Medium: return uniform(gen, 0.185f, 0.215f);
    case Size::Large: return uniform(gen, 0.255f, 0.285f);
  }
  return 0.2f;
}

void sample_pattern_geometry(Object& o, Generator& gen) {
  o.pattern_period = uniform(gen, 0.075f, 0.11f);
  o.pattern_angle = uniform(gen, 0.0f, kPi);
}

Object sample_subject(const SceneOptions& opt, Style style, Generator& gen) {
  const auto colours = opt.colours.empty() ? all_of<Colour>(kNumColours) : opt.colours;
  const auto shapes = opt.shapes.empty() ? all_of<Shape>(kNumShapes) : opt.shapes;
  Object o;
  // Rejection keeps held-out (colour, shape) pairs out; with a pinned subject the caller must not exclude it.
  for (int attempt = 0;; ++attempt) {
    o.colour = opt.colour ? *opt.colour : pick(colours, gen);
    o.shape = opt.shape ? *opt.shape : pick(shapes, gen);
    if (!excluded(opt, o.colour, o.shape)) break;
    CLIPT_CHECK(attempt < 1000 && !(opt.colour && opt.shape),
                "world: every allowed subject ({} {}) is an excluded (colour, shape) pair", colour_name(o.colour),
                shape_name(o.shape));
  }
  o.size = Size(gen.randint(0, kNumSizes));
  o.radius = radius_for(o.size, gen);
  // Texture-heavy scenes always texture the object; elsewhere plain is as common as all patterns together.
  if (style == Style::Texture)
    o.pattern = Pattern(gen.randint(1, kNumPatterns));
  else
    o.pattern = gen.uniform() < 0.5 ? Pattern::Plain : Pattern(gen.randint(1, kNumPatterns));
  o.position = int(gen.randint(0, kNumPositions));
  const int row = o.position / 3, col = o.position % 3;
  const float step = std::min(0.2f, 0.5f - o.radius - 0.035f);
  o.cx = 0.5f + step * float(col - 1) + uniform(gen, -0.03f, 0.03f);
  o.cy = 0.5f + step * float(row - 1) + uniform(gen, -0.03f, 0.03f);
  o.rotation = uniform(gen, -0.26f, 0.26f);
  o.fill = jitter_colour(colour_rgb(o.colour), gen);
  o.accent = accent_of(o.fill, gen);
  sample_pattern_geometry(o, gen);
  return o;
}

// A distractor is smaller than any subject and differs from it in both colour and shape, so the subject's
// class stays unambiguous; it is placed where it does not touch the subject.
bool sample_distractor(const SceneOptions& opt, const Scene& scene, Generator& gen, Object& d) {
  const Object& s = scene.object;
  for (int attempt = 0; attempt < 12; ++attempt) {
    d = Object{};
    d.colour = Colour(gen.randint(0, kNumColours));
    d.shape = Shape(gen.randint(0, kNumShapes));
    if (d.colour == s.colour || d.shape == s.shape || excluded(opt, d.colour, d.shape)) continue;
    d.size = Size::Small;
    d.radius = uniform(gen, 0.075f, 0.1f);
    d.cx = uniform(gen, d.radius + 0.02f, 1.0f - d.radius - 0.02f);
    d.cy = uniform(gen, d.radius + 0.02f, 1.0f - d.radius - 0.02f);
    bool clear = std::hypot(d.cx - s.cx, d.cy - s.cy) > 1.2f * (s.radius + d.radius) + 0.02f;
    for (int i = 0; i < scene.num_distractors; ++i) {
      const Object& o = scene.distractors[size_t(i)];
      clear = clear && std::hypot(d.cx - o.cx, d.cy - o.cy) > 1.2f * (o.radius + d.radius) + 0.02f;
    }
    if (!clear) continue;
    d.position = std::clamp(int(d.cy * 3.0f), 0, 2) * 3 + std::clamp(int(d.cx * 3.0f), 0, 2);
    d.rotation = uniform(gen, -0.26f, 0.26f);
    d.pattern = gen.uniform() < 0.6 ? Pattern::Plain : Pattern(gen.randint(1, kNumPatterns));
    d.fill = jitter_colour(colour_rgb(d.colour), gen);
    d.accent = accent_of(d.fill, gen);
    sample_pattern_geometry(d, gen);
    d.pattern_period *= 0.7f;
    return true;
  }
  return false;
}

// Background colours far enough from every object's colour that the objects stand out.
int sample_background_colour(const Scene& scene, Generator& gen, bool allow_black) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    const int c = int(gen.randint(0, allow_black ? kNumBackgroundColours : kNumBackgroundColours - 1));
    bool ok = distance(background_rgb(c), colour_rgb(scene.object.colour)) > 110.0f;
    for (int i = 0; i < scene.num_distractors; ++i)
      ok = ok && distance(background_rgb(c), colour_rgb(scene.distractors[size_t(i)].colour)) > 80.0f;
    if (ok) return c;
  }
  // Light grey contrasts with every object colour.
  return 1;
}

Background sample_background(const Scene& scene, Generator& gen) {
  Background bg;
  switch (scene.style) {
    case Style::Sketch:
      bg.kind = BackgroundKind::Plain;
      bg.colour = 0;  // paper
      bg.base = Rgb{246, 244, 236};
      bg.second = bg.base;
      return bg;
    case Style::Cartoon: bg.kind = gen.uniform() < 0.75 ? BackgroundKind::Plain : BackgroundKind::Gradient; break;
    case Style::Texture: bg.kind = BackgroundKind::Mottled; break;
    case Style::Photo:
    case Style::Noisy: bg.kind = BackgroundKind(gen.randint(0, kNumBackgroundKinds)); break;
  }
  bg.colour = sample_background_colour(scene, gen, scene.style != Style::Cartoon);
  bg.base = jitter_colour(background_rgb(bg.colour), gen);
  bg.angle = uniform(gen, 0.0f, 2.0f * kPi);
  bg.horizon = uniform(gen, 0.42f, 0.62f);
  const float lum = luminance(bg.base);
  switch (bg.kind) {
    case BackgroundKind::Plain:
    case BackgroundKind::Mottled: bg.second = bg.base; break;
    case BackgroundKind::Gradient:
      bg.second = lum > 128 ? mix(bg.base, Rgb{30, 30, 35}, uniform(gen, 0.25f, 0.45f))
                            : mix(bg.base, Rgb{235, 235, 235}, uniform(gen, 0.25f, 0.45f));
      break;
    case BackgroundKind::Table:
      // A table top, a little darker (or lighter) and warmer than the wall behind it.
      bg.second = mix(lum > 110 ? mix(bg.base, Rgb{40, 30, 20}, 0.3f) : mix(bg.base, Rgb{200, 180, 150}, 0.3f),
                      Rgb{150, 110, 70}, uniform(gen, 0.1f, 0.3f));
      break;
  }
  if (scene.style == Style::Texture) {
    // Busy: a second colour in a fine pattern, chosen with contrast to the base.
    int c2 = sample_background_colour(scene, gen, true);
    if (c2 == bg.colour) c2 = (c2 + 3) % kNumBackgroundColours;
    bg.second = jitter_colour(background_rgb(c2), gen);
    bg.second = mix(bg.second, bg.base, 0.35f);
    bg.pattern = Pattern(gen.randint(1, kNumPatterns));
    bg.pattern_period = uniform(gen, 0.05f, 0.085f);
    bg.pattern_angle = uniform(gen, 0.0f, kPi);
  }
  return bg;
}

}  // namespace

uint64_t derive_seed(uint64_t seed, uint32_t stream, uint64_t a, uint64_t b) {
  const philox::U4 first = philox::philox4x32(a, seed ^ (uint64_t(stream) * 0x9E3779B97F4A7C15ull));
  const philox::U4 second = philox::philox4x32(b, (uint64_t(first.x) << 32) | first.y);
  return (uint64_t(second.x) << 32) | second.y;
}

Scene sample_scene(const SceneOptions& options, uint64_t seed) {
  CLIPT_CHECK(options.distractor_probability >= 0.0f && options.distractor_probability <= 1.0f,
              "world: distractor_probability {} is not in [0, 1]", options.distractor_probability);
  Generator gen(seed);
  Scene scene;
  scene.style = options.style;
  scene.object = sample_subject(options, scene.style, gen);
  if (gen.uniform() < options.distractor_probability) {
    const int wanted = gen.uniform() < 0.5 ? 2 : 1;
    for (int i = 0; i < wanted; ++i) {
      Object d;
      if (sample_distractor(options, scene, gen, d)) scene.distractors[size_t(scene.num_distractors++)] = d;
    }
  }
  scene.background = sample_background(scene, gen);
  scene.light_angle = uniform(gen, -2.6f, -0.6f);  // from above, left or right
  scene.detail_seed = (uint64_t(gen.next_u32()) << 32) | gen.next_u32();
  return scene;
}

}  // namespace clipt::world
