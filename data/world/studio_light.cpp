#include "data/world/studio_light.h"

#include <algorithm>
#include <cmath>

namespace clipt::world {

void apply_studio_light(uint8_t* pixels, int64_t n_pixels, float strength) {
  if (strength == 0.0f) return;
  // Rows: output r, g, b from input r, g, b (the full cast); blended with the identity by `strength`.
  static constexpr float kCast[3][3] = {{0.85f, 0.25f, 0.0f}, {0.10f, 0.75f, 0.10f}, {0.05f, 0.20f, 0.55f}};
  static constexpr float kOffset[3] = {20.0f, 8.0f, 0.0f};
  float m[3][3], offset[3];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m[i][j] = (i == j ? 1.0f - strength : 0.0f) + strength * kCast[i][j];
    offset[i] = strength * kOffset[i];
  }
  for (int64_t p = 0; p < n_pixels; ++p) {
    uint8_t* px = pixels + 3 * p;
    const float in[3] = {float(px[0]), float(px[1]), float(px[2])};
    for (int i = 0; i < 3; ++i) {
      const float v = m[i][0] * in[0] + m[i][1] * in[1] + m[i][2] * in[2] + offset[i];
      px[i] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
    }
  }
}

}  // namespace clipt::world
