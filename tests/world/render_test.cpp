// The world renderer: determinism, every attribute visible, analytic anti-aliasing, styles, sizes.
#include "data/world/render.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "data/world/scene.h"
#include "tests/common/test_util.h"

namespace clipt::world {
namespace {

constexpr int kSize = 64;

// A scene with one plain object of known geometry in the middle of a flat grey background.
Scene centred(Shape shape, Colour colour, Style style = Style::Photo, float radius = 0.3f) {
  SceneOptions options;
  options.shape = shape;
  options.colour = colour;
  options.style = style;
  options.distractor_probability = 0.0f;
  Scene s = sample_scene(options, 1234);
  s.object.cx = s.object.cy = 0.5f;
  s.object.radius = radius;
  s.object.rotation = 0.0f;
  s.object.pattern = Pattern::Plain;
  s.object.fill = colour_rgb(colour);
  s.background.kind = BackgroundKind::Plain;
  s.background.pattern = Pattern::Plain;
  s.background.base = s.background.second = Rgb{128, 128, 128};
  return s;
}

// Per-pixel object coverage (up to shading): render the scene with two fills and take the difference.
// Background, shadow and noise are the same in both renders, so only the object's pixels change.
std::vector<float> coverage_signal(Scene s) {
  s.object.fill = Rgb{230, 30, 30};
  const Image a = render(s, kSize, kSize);
  s.object.fill = Rgb{30, 30, 230};
  const Image b = render(s, kSize, kSize);
  std::vector<float> diff(size_t(kSize * kSize));
  for (size_t i = 0; i < diff.size(); ++i)
    diff[i] = std::abs(float(a.pixels[i * 3]) - float(b.pixels[i * 3])) +
              std::abs(float(a.pixels[i * 3 + 2]) - float(b.pixels[i * 3 + 2]));
  return diff;
}

std::vector<bool> mask_of(const std::vector<float>& signal) {
  const float peak = *std::max_element(signal.begin(), signal.end());
  std::vector<bool> m(signal.size());
  for (size_t i = 0; i < signal.size(); ++i) m[i] = signal[i] > 0.4f * peak;
  return m;
}

// Fraction of the pixel box [x, x+1]×[y, y+1] inside the disc, by 32×32 supersampling: the reference
// the analytic anti-aliasing should approximate.
double disc_coverage(int x, int y, double cx, double cy, double r) {
  int inside = 0;
  for (int j = 0; j < 32; ++j)
    for (int i = 0; i < 32; ++i) {
      const double px = x + (i + 0.5) / 32.0, py = y + (j + 0.5) / 32.0;
      inside += (px - cx) * (px - cx) + (py - cy) * (py - cy) < r * r;
    }
  return inside / 1024.0;
}

TEST(WorldRender, SameSeedSameBytesDifferentSeedDifferent) {
  for (int style = 0; style < kNumStyles; ++style) {
    SceneOptions options;
    options.style = Style(style);
    options.distractor_probability = 0.5f;
    const Image a = render(sample_scene(options, 77), kSize, kSize);
    const Image b = render(sample_scene(options, 77), kSize, kSize);
    const Image c = render(sample_scene(options, 78), kSize, kSize);
    EXPECT_EQ(a.pixels, b.pixels) << style_name(Style(style));
    EXPECT_NE(a.pixels, c.pixels) << style_name(Style(style));
  }
}

TEST(WorldRender, ThreadsRenderTheSameBytes) {
  std::vector<Image> serial(8), parallel(8);
  auto scene = [](int i) {
    SceneOptions o;
    o.style = Style(i % kNumStyles);
    return sample_scene(o, derive_seed(5, 0, uint64_t(i)));
  };
  for (int i = 0; i < 8; ++i) serial[size_t(i)] = render(scene(i), kSize, kSize);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { parallel[size_t(i)] = render(scene(i), kSize, kSize); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(serial[size_t(i)].pixels, parallel[size_t(i)].pixels) << i;
}

TEST(WorldRender, EveryColourIsTheObjectsColour) {
  // The mean of the object's inner pixels is nearest to its own reference colour among all ten, across
  // jitter (sampled fills), shading and the photo, cartoon and noisy styles.
  for (Style style : {Style::Photo, Style::Cartoon, Style::Noisy}) {
    for (int c = 0; c < kNumColours; ++c) {
      for (uint64_t seed = 0; seed < 5; ++seed) {
        SceneOptions options;
        options.colour = Colour(c);
        options.shape = Shape::Circle;
        options.style = style;
        options.distractor_probability = 0.0f;
        Scene s = sample_scene(options, seed);
        s.object.pattern = Pattern::Plain;
        const Image img = render(s, kSize, kSize);
        double sum[3] = {0, 0, 0};
        int n = 0;
        const double r = 0.92 * s.object.radius * kSize * 0.5;  // inner half of the disc
        for (int y = 0; y < kSize; ++y)
          for (int x = 0; x < kSize; ++x) {
            const double dx = x + 0.5 - s.object.cx * kSize, dy = y + 0.5 - s.object.cy * kSize;
            if (dx * dx + dy * dy > r * r) continue;
            for (int ch = 0; ch < 3; ++ch) sum[ch] += img.pixels[size_t(y * kSize + x) * 3 + size_t(ch)];
            ++n;
          }
        ASSERT_GT(n, 20);
        int nearest = -1;
        double best = 1e30;
        for (int k = 0; k < kNumColours; ++k) {
          const Rgb ref = colour_rgb(Colour(k));
          const double d =
              std::pow(sum[0] / n - ref.r, 2) + std::pow(sum[1] / n - ref.g, 2) + std::pow(sum[2] / n - ref.b, 2);
          if (d < best) {
            best = d;
            nearest = k;
          }
        }
        EXPECT_EQ(nearest, c) << style_name(style) << " " << colour_name(Colour(c)) << " seed " << seed << ": mean ("
                              << sum[0] / n << ", " << sum[1] / n << ", " << sum[2] / n << ")";
      }
    }
  }
}

TEST(WorldRender, CircleMatchesTheAnalyticDisc) {
  const Scene s = centred(Shape::Circle, Colour::Red);
  const std::vector<bool> mask = mask_of(coverage_signal(s));
  const double r = 0.92 * 0.3 * kSize, c = 0.5 * kSize;
  int checked = 0;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      const double d = std::hypot(x + 0.5 - c, y + 0.5 - c);
      if (d < r - 1.5) {
        EXPECT_TRUE(mask[size_t(y * kSize + x)]) << x << "," << y;
        ++checked;
      } else if (d > r + 1.5) {
        EXPECT_FALSE(mask[size_t(y * kSize + x)]) << x << "," << y;
        ++checked;
      }
    }
  EXPECT_GT(checked, kSize * kSize - 400);  // all but a ±1.5 px band around the edge
}

TEST(WorldRender, EdgesAreAntiAliased) {
  // Edge pixels take intermediate values that follow the true (supersampled) pixel coverage of the disc.
  const Scene s = centred(Shape::Circle, Colour::Red);
  const std::vector<float> signal = coverage_signal(s);
  const double r = 0.92 * 0.3 * kSize, c = 0.5 * kSize;
  float interior = 0;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x)
      if (disc_coverage(x, y, c, c, r) == 1.0) interior = std::max(interior, signal[size_t(y * kSize + x)]);
  int partial = 0, intermediate = 0, boundary = 0;
  double sxy = 0, sxx = 0, syy = 0, sx = 0, sy = 0;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      const double cov = disc_coverage(x, y, c, c, r);
      const double v = signal[size_t(y * kSize + x)] / interior;
      if (cov == 0.0) { EXPECT_LT(v, 0.03) << x << "," << y; }
      if (cov <= 0.0 || cov >= 1.0) continue;
      if (cov > 0.2 && cov < 0.8) {
        ++partial;
        intermediate += v > 0.08 && v < 0.92;
      }
      ++boundary;
      sx += cov, sy += v, sxx += cov * cov, syy += v * v, sxy += cov * v;
    }
  ASSERT_GT(partial, 30);  // a disc of radius ~18 px has ~110 boundary pixels
  EXPECT_GE(intermediate, partial * 9 / 10) << "edge pixels should be partially covered, not all-or-nothing";
  // Correlation between the rendered and the true coverage over all boundary pixels.
  const double m = boundary;
  const double corr = (sxy - sx * sy / m) / std::sqrt((sxx - sx * sx / m) * (syy - sy * sy / m));
  EXPECT_GT(corr, 0.95);
}

TEST(WorldRender, EveryShapeHasItsOwnMask) {
  std::vector<std::vector<bool>> masks;
  int circle_area = 0;
  for (int k = 0; k < kNumShapes; ++k) {
    masks.push_back(mask_of(coverage_signal(centred(Shape(k), Colour::Red))));
    const int area = int(std::count(masks.back().begin(), masks.back().end(), true));
    if (k == 0) circle_area = area;
    // Every shape is a sizeable blob: between a quarter and all of the circle's area.
    EXPECT_GT(area, circle_area / 4) << shape_name(Shape(k));
    EXPECT_LE(area, circle_area * 11 / 10) << shape_name(Shape(k));
  }
  for (int a = 0; a < kNumShapes; ++a)
    for (int b = a + 1; b < kNumShapes; ++b) {
      int inter = 0, uni = 0;
      for (size_t i = 0; i < masks[size_t(a)].size(); ++i) {
        inter += masks[size_t(a)][i] && masks[size_t(b)][i];
        uni += masks[size_t(a)][i] || masks[size_t(b)][i];
      }
      EXPECT_LT(double(inter) / uni, 0.9) << shape_name(Shape(a)) << " vs " << shape_name(Shape(b));
    }
  // Holes and bites: the ring's and the crescent's centres are background; the others cover their centre.
  for (int k = 0; k < kNumShapes; ++k) {
    const bool centre = masks[size_t(k)][size_t((kSize / 2) * kSize + kSize / 2)];
    EXPECT_EQ(centre, Shape(k) != Shape::Ring && Shape(k) != Shape::Crescent) << shape_name(Shape(k));
  }
}

TEST(WorldRender, SizesAndPatternsShowUp) {
  // Larger size classes cover more pixels.
  int previous = 0;
  for (float radius : {0.14f, 0.2f, 0.27f}) {
    const auto m = mask_of(coverage_signal(centred(Shape::Square, Colour::Blue, Style::Photo, radius)));
    const int area = int(std::count(m.begin(), m.end(), true));
    EXPECT_GT(area, previous * 3 / 2);
    previous = area;
  }
  // A pattern adds a second tone inside the object: more distinct red-channel levels than plain.
  auto inner_levels = [](Pattern p) {
    Scene s = centred(Shape::Square, Colour::Green, Style::Cartoon);
    s.object.pattern = p;
    s.object.accent = Rgb{200, 240, 200};
    const Image img = render(s, kSize, kSize);
    double lo = 255, hi = 0;
    for (int y = 24; y < 40; ++y)
      for (int x = 24; x < 40; ++x) {
        lo = std::min<double>(lo, img.pixels[size_t(y * kSize + x) * 3]);
        hi = std::max<double>(hi, img.pixels[size_t(y * kSize + x) * 3]);
      }
    return hi - lo;
  };
  const double plain = inner_levels(Pattern::Plain);
  for (int p = 1; p < kNumPatterns; ++p) EXPECT_GT(inner_levels(Pattern(p)), plain + 60) << pattern_name(Pattern(p));
}

TEST(WorldRender, StylesLookDifferent) {
  SceneOptions options;
  options.distractor_probability = 0.0f;
  options.shape = Shape::Star;
  options.colour = Colour::Blue;
  auto render_style = [&](Style st) {
    options.style = st;
    Scene s = sample_scene(options, 9);
    if (st == Style::Cartoon) s.background.kind = BackgroundKind::Plain;
    return render(s, kSize, kSize);
  };
  auto roughness = [](const Image& img) {  // mean |Laplacian| of the green channel
    double s = 0;
    for (int y = 1; y < kSize - 1; ++y)
      for (int x = 1; x < kSize - 1; ++x) {
        auto g = [&](int xx, int yy) { return double(img.pixels[size_t(yy * kSize + xx) * 3 + 1]); };
        s += std::abs(4 * g(x, y) - g(x - 1, y) - g(x + 1, y) - g(x, y - 1) - g(x, y + 1));
      }
    return s / ((kSize - 2) * (kSize - 2));
  };
  // Sketch: mostly paper-white pixels.
  const Image sketch = render_style(Style::Sketch);
  int light = 0;
  for (size_t i = 0; i < sketch.pixels.size(); i += 3)
    light += sketch.pixels[i] > 225 && sketch.pixels[i + 1] > 225 && sketch.pixels[i + 2] > 215;
  EXPECT_GT(light, kSize * kSize * 7 / 10);
  // Cartoon: flat, noiseless; its most common colour covers a large part of the image.
  const Image cartoon = render_style(Style::Cartoon);
  std::map<uint32_t, int> counts;
  for (size_t i = 0; i < cartoon.pixels.size(); i += 3)
    ++counts[uint32_t(cartoon.pixels[i]) << 16 | uint32_t(cartoon.pixels[i + 1]) << 8 | cartoon.pixels[i + 2]];
  int mode = 0;
  for (const auto& [c, n] : counts) mode = std::max(mode, n);
  EXPECT_GT(mode, kSize * kSize / 3);
  // Noisy is much rougher than photo; texture (busy background) rougher than photo too.
  const double photo = roughness(render_style(Style::Photo));
  EXPECT_GT(roughness(render_style(Style::Noisy)), 2 * photo);
  EXPECT_GT(roughness(render_style(Style::Texture)), 1.5 * photo);
}

TEST(WorldRender, OtherSizesShowTheSameScene) {
  SceneOptions options;
  options.style = Style::Cartoon;  // noiseless, so resolutions compare directly
  const Scene s = sample_scene(options, 21);
  const Image small = render(s, 64, 64), big = render(s, 128, 128);
  double diff = 0;
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int ch = 0; ch < 3; ++ch) {
        double m = 0;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) m += big.pixels[size_t((2 * y + dy) * 128 + 2 * x + dx) * 3 + size_t(ch)];
        diff += std::abs(m / 4 - small.pixels[size_t(y * 64 + x) * 3 + size_t(ch)]);
      }
  EXPECT_LT(diff / (64 * 64 * 3), 6.0);
  // Non-square: the centred scene is extended sideways, not stretched.
  const Image wide = render(s, 96, 64);
  ASSERT_EQ(wide.pixels.size(), size_t(96 * 64 * 3));
  double wdiff = 0;
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int ch = 0; ch < 3; ++ch)
        wdiff += std::abs(double(wide.pixels[size_t(y * 96 + x + 16) * 3 + size_t(ch)]) -
                          small.pixels[size_t(y * 64 + x) * 3 + size_t(ch)]);
  EXPECT_LT(wdiff / (64 * 64 * 3), 1.0);
  EXPECT_ERROR_CONTAINS(render(s, 0, 64), "image size");
}

TEST(WorldScene, DistractorsDifferFromTheSubjectAndDoNotOverlap) {
  SceneOptions options;
  options.distractor_probability = 1.0f;
  int with = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const Scene s = sample_scene(options, seed);
    with += s.num_distractors > 0;
    for (int i = 0; i < s.num_distractors; ++i) {
      const Object& d = s.distractors[size_t(i)];
      EXPECT_NE(d.colour, s.object.colour);
      EXPECT_NE(d.shape, s.object.shape);
      EXPECT_LT(d.radius, s.object.radius);
      EXPECT_GT(std::hypot(d.cx - s.object.cx, d.cy - s.object.cy), d.radius + s.object.radius);
    }
  }
  EXPECT_GT(with, 250);
  options.distractor_probability = 0.0f;
  for (uint64_t seed = 0; seed < 50; ++seed) EXPECT_EQ(sample_scene(options, seed).num_distractors, 0);
}

TEST(WorldScene, PositionsAndAttributesCoverTheirRanges) {
  std::set<int> positions, sizes, patterns, backgrounds, kinds;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    const Scene s = sample_scene({}, seed);
    const Object& o = s.object;
    positions.insert(o.position);
    sizes.insert(int(o.size));
    patterns.insert(int(o.pattern));
    backgrounds.insert(s.background.colour);
    kinds.insert(int(s.background.kind));
    // The coarse position named in captions agrees with where the object is.
    const int col = o.position % 3, row = o.position / 3;
    if (col == 0) { EXPECT_LT(o.cx, 0.45f); }
    if (col == 1) { EXPECT_NEAR(o.cx, 0.5f, 0.04f); }
    if (col == 2) { EXPECT_GT(o.cx, 0.55f); }
    if (row == 0) { EXPECT_LT(o.cy, 0.45f); }
    if (row == 2) { EXPECT_GT(o.cy, 0.55f); }
  }
  EXPECT_EQ(positions.size(), size_t(kNumPositions));
  EXPECT_EQ(sizes.size(), size_t(kNumSizes));
  EXPECT_EQ(patterns.size(), size_t(kNumPatterns));
  EXPECT_EQ(kinds.size(), size_t(kNumBackgroundKinds));
  EXPECT_GE(backgrounds.size(), size_t(7));
}

TEST(WorldScene, PinnedSubjectAndExclusions) {
  SceneOptions options;
  options.colour = Colour::Pink;
  options.shape = Shape::Heart;
  const Scene s = sample_scene(options, 3);
  EXPECT_EQ(s.object.colour, Colour::Pink);
  EXPECT_EQ(s.object.shape, Shape::Heart);
  options.excluded_pairs = {{Colour::Pink, Shape::Heart}};
  EXPECT_ERROR_CONTAINS(sample_scene(options, 3), "excluded");
  options.distractor_probability = 2.0f;
  EXPECT_ERROR_CONTAINS(sample_scene(options, 3), "distractor_probability");
}

}  // namespace
}  // namespace clipt::world
