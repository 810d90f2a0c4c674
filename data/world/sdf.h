// Signed distance functions of the world's shapes, in an object's normalised frame: the shape is centred
// at the origin and fits the unit circle; y points down (image convention); negative inside. Exact
// distances (after Inigo Quilez's 2-D SDF catalogue) where a closed form exists, so that
// coverage = clamp(0.5 − d/pixel, 0, 1) gives an analytically anti-aliased edge from one evaluation per
// pixel; the crescent is a difference of discs, exact near its edges, which is all anti-aliasing needs.
#pragma once
#include <algorithm>
#include <cmath>

#include "data/world/attributes.h"

namespace clipt::world::sdf {

struct V2 {
  float x, y;
};
inline V2 operator-(V2 a, V2 b) { return {a.x - b.x, a.y - b.y}; }
inline V2 operator+(V2 a, V2 b) { return {a.x + b.x, a.y + b.y}; }
inline V2 operator*(V2 a, float s) { return {a.x * s, a.y * s}; }
inline float dot(V2 a, V2 b) { return a.x * b.x + a.y * b.y; }
inline float length(V2 a) { return std::sqrt(a.x * a.x + a.y * a.y); }
inline float sign(float v) { return v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f); }

inline float circle(V2 p, float r) { return length(p) - r; }

inline float rounded_box(V2 p, V2 half, float rounding) {
  const V2 q{std::abs(p.x) - half.x + rounding, std::abs(p.y) - half.y + rounding};
  const V2 outside{std::max(q.x, 0.0f), std::max(q.y, 0.0f)};
  return length(outside) + std::min(std::max(q.x, q.y), 0.0f) - rounding;
}

// Equilateral triangle with half side r, pointing up (towards −y), centroid at the origin.
inline float triangle(V2 p, float r) {
  constexpr float k = 1.7320508f;
  V2 q{std::abs(p.x) - r, -p.y + r / k};  // flip to y-up
  if (q.x + k * q.y > 0.0f) q = V2{q.x - k * q.y, -k * q.x - q.y} * 0.5f;
  q.x -= std::clamp(q.x, -2.0f * r, 0.0f);
  return -length(q) * sign(q.y);
}

// Regular hexagon with inradius r, flat top and bottom.
inline float hexagon(V2 p, float r) {
  constexpr float kx = -0.866025404f, ky = 0.5f, kz = 0.577350269f;
  V2 q{std::abs(p.x), std::abs(p.y)};
  const float d = 2.0f * std::min(kx * q.x + ky * q.y, 0.0f);
  q = V2{q.x - d * kx, q.y - d * ky};
  q = V2{q.x - std::clamp(q.x, -kz * r, kz * r), q.y - r};
  return length(q) * sign(q.y);
}

// Five-pointed star, outer radius r, inner/outer ratio rf, one point up.
inline float star5(V2 p, float r, float rf) {
  constexpr float k1x = 0.809016994f, k1y = -0.587785252f;
  V2 q{std::abs(p.x), -p.y};  // y-up
  float d = 2.0f * std::max(k1x * q.x + k1y * q.y, 0.0f);
  q = V2{q.x - d * k1x, q.y - d * k1y};
  d = 2.0f * std::max(-k1x * q.x + k1y * q.y, 0.0f);
  q = V2{q.x + d * k1x, q.y - d * k1y};
  q.x = std::abs(q.x);
  q.y -= r;
  const V2 ba{rf * -k1y, rf * k1x - 1.0f};
  const float h = std::clamp(dot(q, ba) / dot(ba, ba), 0.0f, r);
  return length(q - ba * h) * sign(q.y * ba.x - q.x * ba.y);
}

// Plus sign: arms of half length b.x and half width b.y.
inline float cross(V2 p, V2 b) {
  V2 q{std::abs(p.x), std::abs(p.y)};
  if (q.y > q.x) std::swap(q.x, q.y);
  const V2 d = q - b;
  const float k = std::max(d.y, d.x);
  const V2 w = k > 0.0f ? d : V2{b.y - q.x, -k};
  return sign(k) * length(V2{std::max(w.x, 0.0f), std::max(w.y, 0.0f)});
}

// Heart from two arcs and a point, in its own frame (y-up, tip at the origin, height ≈ 1.1).
inline float heart_raw(V2 p) {
  p.x = std::abs(p.x);
  if (p.y + p.x > 1.0f) return length(p - V2{0.25f, 0.75f}) - 0.35355339f;
  const V2 a = p - V2{0.0f, 1.0f};
  const float m = 0.5f * std::max(p.x + p.y, 0.0f);
  const V2 b = p - V2{m, m};
  return std::sqrt(std::min(dot(a, a), dot(b, b))) * sign(p.x - p.y);
}

// Rhombus with half diagonals b.x (horizontal) and b.y (vertical).
inline float rhombus(V2 p, V2 b) {
  const V2 q{std::abs(p.x), std::abs(p.y)};
  const V2 t = b - q * 2.0f;
  const float h = std::clamp((t.x * b.x - t.y * b.y) / dot(b, b), -1.0f, 1.0f);
  const float d = length(q - V2{0.5f * b.x * (1.0f - h), 0.5f * b.y * (1.0f + h)});
  return d * sign(q.x * b.y + q.y * b.x - b.x * b.y);
}

// Distance to `shape` in the normalised frame (units of the object's radius).
inline float shape_distance(Shape shape, V2 p) {
  switch (shape) {
    case Shape::Circle: return circle(p, 0.92f);
    case Shape::Square: return rounded_box(p, {0.78f, 0.78f}, 0.06f);
    case Shape::Triangle: return triangle(p + V2{0.0f, -0.12f}, 0.93f);  // lowered so the triangle's box is centred
    case Shape::Star: return star5(p + V2{0.0f, -0.08f}, 1.02f, 0.48f);
    case Shape::Hexagon: return hexagon(p, 0.83f);
    case Shape::Cross: return cross(p, {0.9f, 0.3f});
    case Shape::Heart: return heart_raw(V2{p.x * 0.6f, -p.y * 0.6f + 0.55f}) / 0.6f;
    case Shape::Diamond: return rhombus(p, {0.68f, 1.0f});
    case Shape::Crescent: return std::max(circle(p, 0.95f), -circle(p - V2{0.42f, -0.22f}, 0.78f));
    case Shape::Ring: return std::abs(length(p) - 0.68f) - 0.27f;
  }
  return 1.0f;
}

}  // namespace clipt::world::sdf
