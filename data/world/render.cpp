#include "data/world/render.h"

#include <algorithm>
#include <cmath>

#include "data/world/sdf.h"
#include "engine/core/error.h"

namespace clipt::world {

namespace {

using sdf::V2;

// Per-pixel detail (sensor noise, mottling, wobble) uses a cheap integer hash keyed by the scene's
// detail_seed rather than Philox: it runs tens of thousands of times per image, and only needs to be
// deterministic and look random, not to be a statistically strong stream.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// Approximately standard normal: the sum of four uniform bytes (Irwin–Hall), centred and scaled.
inline float gaussian_from_hash(uint32_t h) {
  const int s = int(h & 255u) + int((h >> 8) & 255u) + int((h >> 16) & 255u) + int(h >> 24);
  return float(s - 510) * (1.0f / 147.2f);
}

inline float saturate(float v) { return std::clamp(v, 0.0f, 1.0f); }
inline float smoothstep(float e0, float e1, float x) {
  const float t = saturate((x - e0) / (e1 - e0));
  return t * t * (3.0f - 2.0f * t);
}
inline Rgb mix(Rgb a, Rgb b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }
inline Rgb scale(Rgb a, float s) { return {a.r * s, a.g * s, a.b * s}; }
inline float fract(float v) { return v - std::floor(v); }
inline V2 rotate(V2 p, float c, float s) { return {c * p.x + s * p.y, -s * p.x + c * p.y}; }  // by −angle

// Smooth 2-D value noise on a lattice of n×n cells covering the image, lattice values precomputed.
class ValueNoise {
 public:
  ValueNoise(uint32_t seed, int cells) : n_(cells), values_(size_t((cells + 1) * (cells + 1))) {
    for (size_t i = 0; i < values_.size(); ++i)
      values_[i] = float(hash32(seed + uint32_t(i) * 0x9E3779B9u) >> 8) / 16777216.0f;
  }
  // In [0, 1); x, y in image units.
  float operator()(float x, float y) const {
    const float fx = std::clamp(x, 0.0f, 0.9999f) * float(n_), fy = std::clamp(y, 0.0f, 0.9999f) * float(n_);
    const int ix = int(fx), iy = int(fy);
    float tx = fx - float(ix), ty = fy - float(iy);
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const float* row0 = &values_[size_t(iy * (n_ + 1))];
    const float* row1 = row0 + (n_ + 1);
    const float a = row0[ix] + (row0[ix + 1] - row0[ix]) * tx;
    const float b = row1[ix] + (row1[ix + 1] - row1[ix]) * tx;
    return a + (b - a) * ty;
  }

 private:
  int n_;
  std::vector<float> values_;
};

// Signed distance (image units) to the accent region of a pattern: negative inside stripes, dots, dark
// checks. u is the pattern's own frame (rotated, image units).
float pattern_distance(Pattern pattern, V2 u, float period) {
  switch (pattern) {
    case Pattern::Plain: return 1.0f;
    case Pattern::Striped: return (std::abs(fract(u.x / period) - 0.5f) - 0.25f) * period;
    case Pattern::Dotted: {
      const float fx = fract(u.x / period) - 0.5f, fy = fract(u.y / period) - 0.5f;
      return (std::sqrt(fx * fx + fy * fy) - 0.27f) * period;
    }
    case Pattern::Checkered: {
      const float gx = u.x / period, gy = u.y / period;
      const float fx = fract(gx), fy = fract(gy);
      const float edge = std::min(std::min(fx, 1 - fx), std::min(fy, 1 - fy)) * period;
      const bool dark = ((int(std::floor(gx)) + int(std::floor(gy))) & 1) != 0;
      return dark ? -edge : edge;
    }
    case Pattern::Wavy: {
      const float w = u.x + 0.22f * period * std::sin(u.y * (6.2831853f / (1.6f * period)));
      return (std::abs(fract(w / period) - 0.5f) - 0.22f) * period * 0.9f;
    }
  }
  return 1.0f;
}

struct Canvas {
  float* rgb;  // width·height·3 floats, 0..255
  int width, height;
  float unit;    // pixels per image unit (the shorter side)
  float ox, oy;  // image-unit coordinate of pixel (0, 0)'s left/top edge
  float pixel;   // one pixel in image units

  V2 point(int x, int y) const { return {ox + (float(x) + 0.5f) * pixel, oy + (float(y) + 0.5f) * pixel}; }
  void blend(int x, int y, Rgb c, float alpha) {
    float* p = rgb + (size_t(y) * size_t(width) + size_t(x)) * 3;
    p[0] += (c.r - p[0]) * alpha;
    p[1] += (c.g - p[1]) * alpha;
    p[2] += (c.b - p[2]) * alpha;
  }
  // Pixel bounds of a disc (cx, cy, r) in image units, clipped to the canvas.
  void bounds(float cx, float cy, float r, int& x0, int& x1, int& y0, int& y1) const {
    x0 = std::max(0, int(std::floor((cx - r - ox) * unit)) - 1);
    x1 = std::min(width - 1, int(std::ceil((cx + r - ox) * unit)) + 1);
    y0 = std::max(0, int(std::floor((cy - r - oy) * unit)) - 1);
    y1 = std::min(height - 1, int(std::ceil((cy + r - oy) * unit)) + 1);
  }
};

bool photo_like(Style s) { return s == Style::Photo || s == Style::Noisy || s == Style::Texture; }

void draw_background(Canvas& cv, const Scene& scene, uint32_t seed) {
  const Background& bg = scene.background;
  const bool mottled = bg.kind == BackgroundKind::Mottled;
  const ValueNoise coarse(seed ^ 0x1234567u, 5), fine(seed ^ 0x7654321u, 13);
  const V2 dir{std::cos(bg.angle), std::sin(bg.angle)};
  const float pc = std::cos(bg.pattern_angle), ps = std::sin(bg.pattern_angle);
  for (int y = 0; y < cv.height; ++y) {
    for (int x = 0; x < cv.width; ++x) {
      const V2 p = cv.point(x, y);
      Rgb c = bg.base;
      switch (bg.kind) {
        case BackgroundKind::Plain:
        case BackgroundKind::Mottled: break;
        case BackgroundKind::Gradient:
          c = mix(bg.base, bg.second, saturate(0.5f + 0.85f * sdf::dot(p - V2{0.5f, 0.5f}, dir)));
          break;
        case BackgroundKind::Table: {
          const float t = saturate((p.y - bg.horizon) / cv.pixel + 0.5f);
          const Rgb wall = scale(bg.base, 0.92f + 0.1f * p.y);
          const Rgb table = scale(bg.second, 0.9f + 0.2f * saturate((p.y - bg.horizon) * 2.0f));
          c = mix(wall, table, t);
          break;
        }
      }
      if (bg.pattern != Pattern::Plain) {
        const float d = pattern_distance(bg.pattern, rotate(p, pc, ps), bg.pattern_period);
        c = mix(c, bg.second, saturate(0.5f - d / cv.pixel));
      }
      if (mottled) c = scale(c, 0.86f + 0.24f * coarse(p.x, p.y) + 0.08f * fine(p.x, p.y));
      float* out = cv.rgb + (size_t(y) * size_t(cv.width) + size_t(x)) * 3;
      out[0] = c.r;
      out[1] = c.g;
      out[2] = c.b;
    }
  }
}

// Distance (image units) from p to an object's edge, and p in the object's normalised frame.
struct ObjectFrame {
  const Object& o;
  float c, s, inv_r;
  explicit ObjectFrame(const Object& obj)
      : o(obj), c(std::cos(obj.rotation)), s(std::sin(obj.rotation)), inv_r(1.0f / obj.radius) {}
  V2 local(V2 p, V2 shift = {0, 0}) const { return rotate(p - V2{o.cx, o.cy} - shift, c, s) * inv_r; }
  float distance(V2 q) const { return sdf::shape_distance(o.shape, q) * o.radius; }
};

// A soft shadow cast away from the light onto whatever is below.
void draw_shadow(Canvas& cv, const Object& o, V2 light) {
  const ObjectFrame f(o);
  const V2 shift = V2{-light.x * 0.045f, -light.y * 0.03f + 0.025f} * (o.radius / 0.2f);
  const float blur = 0.03f + 0.08f * o.radius;
  int x0, x1, y0, y1;
  cv.bounds(o.cx + shift.x, o.cy + shift.y, o.radius * 1.25f + blur, x0, x1, y0, y1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const float d = f.distance(f.local(cv.point(x, y), shift));
      const float a = 0.38f * (1.0f - smoothstep(-blur, blur, d));
      if (a > 0.0f) cv.blend(x, y, Rgb{0, 0, 0}, a);
    }
}

// The object's colour at p: its fill, with the pattern's accent where the pattern is.
struct PatternedFill {
  const Object& o;
  float pc, ps;
  explicit PatternedFill(const Object& obj)
      : o(obj), pc(std::cos(obj.pattern_angle)), ps(std::sin(obj.pattern_angle)) {}
  Rgb operator()(V2 p, float pixel) const {
    if (o.pattern == Pattern::Plain) return o.fill;
    const float d = pattern_distance(o.pattern, rotate(p - V2{o.cx, o.cy}, pc, ps), o.pattern_period);
    return mix(o.fill, o.accent, saturate(0.5f - d / pixel));
  }
};

// Photo-like: a lit, slightly bevelled solid with a specular highlight.
void draw_solid(Canvas& cv, const Object& o, V2 light, float grain, uint32_t seed) {
  const ObjectFrame f(o);
  const PatternedFill patterned_fill(o);
  const V2 highlight = light * 0.42f;
  int x0, x1, y0, y1;
  cv.bounds(o.cx, o.cy, o.radius * 1.25f, x0, x1, y0, y1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const V2 p = cv.point(x, y);
      const V2 q = f.local(p);
      const float d = f.distance(q);
      const float coverage = saturate(0.5f - d / cv.pixel);
      if (coverage <= 0.0f) continue;
      Rgb c = patterned_fill(p, cv.pixel);
      const float rim = 0.8f + 0.2f * smoothstep(0.0f, 0.2f, -d / o.radius);
      const float lit = 1.0f + 0.2f * std::clamp(sdf::dot(q, light), -1.0f, 1.0f);
      c = scale(c, rim * lit);
      // A soft highlight, (1 − t)³ falloff: exp-like without the cost of exp per pixel.
      const V2 dh = q - highlight;
      const float t = 1.0f - std::min(1.0f, 1.6f * sdf::dot(dh, dh));
      const float spec = 0.3f * t * t * t;
      c = mix(c, Rgb{255, 255, 255}, spec);
      if (grain > 0.0f)
        c = scale(c, 1.0f + grain * gaussian_from_hash(hash32(seed + uint32_t(y * cv.width + x) * 0x27d4eb2du)));
      cv.blend(x, y, c, coverage);
    }
}

// Cartoon: flat fill with a two-tone cel shade and a thick dark outline.
void draw_cartoon(Canvas& cv, const Object& o, V2 light) {
  const ObjectFrame f(o);
  const PatternedFill patterned_fill(o);
  const float outline = std::max(0.03f * (o.radius / 0.2f), 1.4f * cv.pixel);
  int x0, x1, y0, y1;
  cv.bounds(o.cx, o.cy, o.radius * 1.25f + outline, x0, x1, y0, y1);
  const Rgb ink{22, 22, 28};
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const V2 p = cv.point(x, y);
      const V2 q = f.local(p);
      const float d = f.distance(q);
      const float fill = saturate(0.5f - d / cv.pixel);
      if (fill > 0.0f) {
        Rgb c = patterned_fill(p, cv.pixel);
        if (sdf::dot(q, light) < -0.3f) c = scale(c, 0.86f);
        cv.blend(x, y, c, fill);
      }
      const float line = saturate(0.5f - (std::abs(d) - 0.5f * outline) / cv.pixel);
      if (line > 0.0f) cv.blend(x, y, ink, line);
    }
}

// Sketch: a wobbly pencil outline in the object's colour, drawn twice slightly offset as a hand would,
// plus the pattern's edges as light hatching. No fill.
void draw_sketch(Canvas& cv, const Object& o, uint32_t seed) {
  const ObjectFrame f(o);
  const float width = std::max(0.017f, 1.05f * cv.pixel);
  const float phase = float(hash32(seed) & 1023u) * (6.2831853f / 1024.0f);
  const Rgb pencil = scale(o.fill, 0.82f);
  const Rgb hatch = mix(o.fill, Rgb{246, 244, 236}, 0.35f);
  const float pc = std::cos(o.pattern_angle), ps = std::sin(o.pattern_angle);
  const V2 second_shift{0.012f * std::cos(phase), 0.012f * std::sin(phase)};
  int x0, x1, y0, y1;
  cv.bounds(o.cx, o.cy, o.radius * 1.3f + width, x0, x1, y0, y1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const V2 p = cv.point(x, y);
      const V2 q = f.local(p);
      const float wobble = 0.005f * std::sin(9.0f * q.x + 7.0f * q.y + phase);
      const float d = f.distance(q) + wobble;
      if (o.pattern != Pattern::Plain && d < 0.0f) {
        const float dp = pattern_distance(o.pattern, rotate(p - V2{o.cx, o.cy}, pc, ps), o.pattern_period);
        const float h = saturate(0.5f - (std::abs(dp) - 0.3f * width) / cv.pixel) * saturate(-d / cv.pixel);
        if (h > 0.0f) cv.blend(x, y, hatch, 0.7f * h);
      }
      const float d2 = f.distance(f.local(p, second_shift)) - wobble;
      const float faint = saturate(0.5f - (std::abs(d2) - 0.3f * width) / cv.pixel);
      if (faint > 0.0f) cv.blend(x, y, pencil, 0.35f * faint);
      const float line = saturate(0.5f - (std::abs(d) - 0.5f * width) / cv.pixel);
      if (line > 0.0f) cv.blend(x, y, pencil, 0.95f * line);
    }
}

// Separable [1 2 1]/4 blur, in place, clamped at the borders.
void blur(Canvas& cv, std::vector<float>& tmp) {
  const int w = cv.width, h = cv.height;
  tmp.resize(size_t(w) * size_t(h) * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < 3; ++ch) {
        const float* row = cv.rgb + size_t(y) * size_t(w) * 3;
        const int xl = std::max(x - 1, 0), xr = std::min(x + 1, w - 1);
        tmp[(size_t(y) * size_t(w) + size_t(x)) * 3 + size_t(ch)] =
            0.25f * row[xl * 3 + ch] + 0.5f * row[x * 3 + ch] + 0.25f * row[xr * 3 + ch];
      }
  for (int y = 0; y < h; ++y) {
    const int yu = std::max(y - 1, 0), yd = std::min(y + 1, h - 1);
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < 3; ++ch) {
        auto at = [&](int yy) { return tmp[(size_t(yy) * size_t(w) + size_t(x)) * 3 + size_t(ch)]; };
        cv.rgb[(size_t(y) * size_t(w) + size_t(x)) * 3 + size_t(ch)] = 0.25f * at(yu) + 0.5f * at(y) + 0.25f * at(yd);
      }
  }
}

// Sensor noise, vignetting and quantisation to bytes (round to nearest, clamp).
void finish(const Canvas& cv, const Scene& scene, uint32_t seed, uint8_t* out) {
  float sigma = 0.0f, vignette = 0.0f;
  switch (scene.style) {
    case Style::Photo:
      sigma = 2.5f;
      vignette = 0.22f;
      break;
    case Style::Texture:
      sigma = 5.0f;
      vignette = 0.15f;
      break;
    case Style::Noisy:
      sigma = 20.0f;
      vignette = 0.1f;
      break;
    case Style::Sketch: sigma = 1.5f; break;
    case Style::Cartoon: break;
  }
  const size_t n = size_t(cv.width) * size_t(cv.height);
  for (size_t i = 0; i < n; ++i) {
    float gain = 1.0f;
    if (vignette > 0.0f) {
      const V2 p = cv.point(int(i % size_t(cv.width)), int(i / size_t(cv.width)));
      const V2 d = p - V2{0.5f, 0.5f};
      gain = 1.0f - vignette * sdf::dot(d, d) * 2.0f;
    }
    for (int ch = 0; ch < 3; ++ch) {
      float v = cv.rgb[i * 3 + size_t(ch)] * gain;
      if (sigma > 0.0f) v += sigma * gaussian_from_hash(hash32(seed + uint32_t(i * 3 + size_t(ch)) * 0x9E3779B9u));
      out[i * 3 + size_t(ch)] = uint8_t(std::lround(std::clamp(v, 0.0f, 255.0f)));
    }
  }
}

}  // namespace

void render(const Scene& scene, int width, int height, uint8_t* out) {
  CLIPT_CHECK(width > 0 && height > 0 && width <= 4096 && height <= 4096,
              "world::render: image size {}x{} is not in [1, 4096]", width, height);
  // One float buffer per thread, reused across images: rendering allocates nothing once warm.
  thread_local std::vector<float> buffer, scratch;
  buffer.resize(size_t(width) * size_t(height) * 3);
  Canvas cv{buffer.data(), width, height, 0, 0, 0, 0};
  const int side = std::min(width, height);
  cv.unit = float(side);
  cv.pixel = 1.0f / float(side);
  cv.ox = 0.5f - 0.5f * float(width) / float(side);
  cv.oy = 0.5f - 0.5f * float(height) / float(side);

  const uint32_t seed = hash32(uint32_t(scene.detail_seed) ^ hash32(uint32_t(scene.detail_seed >> 32)));
  draw_background(cv, scene, seed);
  const V2 light{std::cos(scene.light_angle), std::sin(scene.light_angle)};
  const Object* objects[kMaxDistractors + 1];
  int count = 0;
  for (int i = 0; i < scene.num_distractors; ++i) objects[count++] = &scene.distractors[size_t(i)];
  objects[count++] = &scene.object;  // the subject is drawn last, on top

  if (photo_like(scene.style))
    for (int i = 0; i < count; ++i) draw_shadow(cv, *objects[i], light);
  for (int i = 0; i < count; ++i) {
    const uint32_t object_seed = hash32(seed + uint32_t(i + 1) * 0x68bc21ebu);
    switch (scene.style) {
      case Style::Photo:
      case Style::Noisy: draw_solid(cv, *objects[i], light, 0.0f, object_seed); break;
      case Style::Texture: draw_solid(cv, *objects[i], light, 0.07f, object_seed); break;
      case Style::Cartoon: draw_cartoon(cv, *objects[i], light); break;
      case Style::Sketch: draw_sketch(cv, *objects[i], object_seed); break;
    }
  }
  if (scene.style == Style::Noisy) {
    blur(cv, scratch);
    blur(cv, scratch);
  }
  finish(cv, scene, hash32(seed ^ 0xA5A5A5A5u), out);
}

Image render(const Scene& scene, int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(size_t(std::max(width, 0)) * size_t(std::max(height, 0)) * 3);
  render(scene, width, height, image.pixels.data());
  return image;
}

}  // namespace clipt::world
