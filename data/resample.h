// PIL-exact resampling of 8-bit RGB images: the algorithm of Pillow's Resample.c, which is what
// torchvision's Resize / RandomResizedCrop run on PIL images in the PyTorch peers.
//
// Semantics reproduced (Pillow ≥ 4.3, `Image.resize(size, filter, box)`):
//   - separable convolution, horizontal pass first, then vertical;
//   - for output index i the source centre is in0 + (i + 0.5)·scale with scale = (in1 − in0)/out; when
//     downscaling (scale > 1) the filter is stretched by `scale` (anti-aliasing), support = base·scale;
//   - taps cover [int(centre − support + 0.5), int(centre + support + 0.5)) clipped to the source,
//     weights filter((x − centre + 0.5)/filterscale) normalised to sum 1, then rounded half away from
//     zero to 22-bit fixed point;
//   - each pass accumulates in int32 starting from 2^21 (rounding) and clips to [0, 255] — so the
//     intermediate image is uint8, exactly as in Pillow;
//   - a pass is skipped when its axis keeps its size and the box spans the whole axis.
// Bicubic uses a = −0.5 and support 2, bilinear a triangle with support 1.
//
// A source is a view: resampling a crop view equals PIL's `img.crop(box).resize(size)` (the filter is
// clipped at the crop's edges, never reading outside it). An output window computes only part of the
// result, with pixels identical to the full resize (used to fuse resize + center crop).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/image.h"

namespace clipt::data {

enum class Interpolation { Bilinear, Bicubic };

// "bicubic" or "bilinear" (Dassl's INPUT.INTERPOLATION); anything else → Error listing the choices.
Interpolation parse_interpolation(std::string_view name);
const char* interpolation_name(Interpolation interpolation);

// Read-only RGB pixels; rows are `stride` bytes apart.
struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t stride = 0;
};
ImageView view_of(const Image& image);
// The sub-rectangle [x, x + w) × [y, y + h) of `view` (bounds-checked).
ImageView crop_view(const ImageView& view, int x, int y, int w, int h);

// The source region to resample, in source pixel units: PIL's `box` argument. Defaults to the whole view.
struct ResampleBox {
  double x0 = 0, y0 = 0, x1 = -1, y1 = -1;  // x1 < 0: the full view
};

// Pixels [x, x + width) × [y, y + height) of an out_width × out_height result.
struct OutputWindow {
  int x = 0, y = 0, width = -1, height = -1;  // width < 0: the full output
};

// Resamples `src` (restricted to `box`) to out_width × out_height and returns the window of it.
Image resample(const ImageView& src, int out_width, int out_height, Interpolation interpolation, ResampleBox box = {},
               OutputWindow window = {});

namespace detail {
// Selects the vectorised inner loops when the CPU supports them (default) or the portable scalar ones;
// both give identical pixels. For tests that compare the two.
void set_resample_simd(bool enabled);
bool resample_simd_available();
}  // namespace detail

}  // namespace clipt::data
