// Renders a world scene to an RGB image (uint8, interleaved, row-major from the top-left). A pure function
// of the scene and the size: the same scene gives the same bytes on every machine and thread.
//
// Anti-aliasing is analytic: each shape is a signed distance field, and a pixel's coverage is
// clamp(0.5 − d/pixel, 0, 1) from one evaluation at its centre — what a box filter over a straight edge gives,
// at a fraction of the cost of supersampling. Patterns, outlines and shadows use the same rule.
#pragma once
#include <cstdint>
#include <vector>

#include "data/world/scene.h"

namespace clipt::world {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // width·height·3, RGB interleaved
};

// Geometry is in units of the shorter side and centred, so non-square images show the same scene wider.
void render(const Scene& scene, int width, int height, uint8_t* out);
Image render(const Scene& scene, int width = 64, int height = 64);

}  // namespace clipt::world
