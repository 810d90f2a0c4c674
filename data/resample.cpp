// PIL-exact separable resampling (see resample.h for the semantics reproduced).
#include "data/resample.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "data/resample_kernels.h"
#include "engine/core/error.h"

namespace clipt::data {
namespace {

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for output indices [first_out, first_out + count).
// The box edges are floats in Pillow, so they are rounded through float here as well.
detail::AxisTaps precompute_taps(int in_size, double box0, double box1, int out_size, int first_out, int count,
                                 Interpolation interpolation) {
  const float in0 = float(box0), in1 = float(box1);
  const double base_support = interpolation == Interpolation::Bicubic ? 2.0 : 1.0;
  double (*filter)(double) = interpolation == Interpolation::Bicubic ? bicubic_filter : bilinear_filter;

  const double scale = double(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = base_support * filterscale;
  detail::AxisTaps taps;
  taps.ksize = int(std::ceil(support)) * 2 + 1;
  taps.first.resize(size_t(count));
  taps.count.resize(size_t(count));
  taps.weights.assign(size_t(count) * size_t(taps.ksize), 0);
  std::vector<double> k(size_t(taps.ksize));
  for (int i = 0; i < count; ++i) {
    const int xx = first_out + i;
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = filter((x + xmin - center + 0.5) * ss);
      k[size_t(x)] = w;
      ww += w;
    }
    int32_t* out = taps.weights.data() + size_t(i) * size_t(taps.ksize);
    for (int x = 0; x < xmax; ++x) {
      double w = k[size_t(x)];
      if (ww != 0.0) w /= ww;
      out[x] =
          w < 0 ? int32_t(-0.5 + w * (1 << detail::kPrecisionBits)) : int32_t(0.5 + w * (1 << detail::kPrecisionBits));
    }
    taps.first[size_t(i)] = xmin;
    taps.count[size_t(i)] = std::max(xmax, 0);
  }
  return taps;
}

std::atomic<bool> g_simd_enabled{true};

}  // namespace

namespace detail {
void set_resample_simd(bool enabled) { g_simd_enabled.store(enabled); }
bool resample_simd_available() { return horizontal_pass_simd_available(); }
}  // namespace detail

Interpolation parse_interpolation(std::string_view name) {
  if (name == "bicubic") return Interpolation::Bicubic;
  if (name == "bilinear") return Interpolation::Bilinear;
  fail("unknown interpolation \"{}\" (INPUT.INTERPOLATION): expected \"bicubic\" or \"bilinear\"", name);
}

const char* interpolation_name(Interpolation interpolation) {
  return interpolation == Interpolation::Bicubic ? "bicubic" : "bilinear";
}

ImageView view_of(const Image& image) {
  return ImageView{image.pixels.data(), image.width, image.height, size_t(image.width) * 3};
}

ImageView crop_view(const ImageView& view, int x, int y, int w, int h) {
  CLIPT_CHECK(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= view.width && y + h <= view.height,
              "crop x={} y={} {}x{} does not fit in a {}x{} image", x, y, w, h, view.width, view.height);
  return ImageView{view.data + size_t(y) * view.stride + size_t(x) * 3, w, h, view.stride};
}

Image resample(const ImageView& src, int out_width, int out_height, Interpolation interpolation, ResampleBox box,
               OutputWindow window) {
  CLIPT_CHECK(src.width > 0 && src.height > 0, "resample: empty source image {}x{}", src.width, src.height);
  CLIPT_CHECK(out_width > 0 && out_height > 0, "resample: output size must be positive, got {}x{}", out_width,
              out_height);
  if (box.x1 < 0) box = ResampleBox{0, 0, double(src.width), double(src.height)};
  CLIPT_CHECK(
      box.x0 >= 0 && box.y0 >= 0 && box.x1 <= src.width && box.y1 <= src.height && box.x0 < box.x1 && box.y0 < box.y1,
      "resample: box ({}, {}, {}, {}) must lie inside the {}x{} source and be non-empty", box.x0, box.y0, box.x1,
      box.y1, src.width, src.height);
  if (window.width < 0) window = OutputWindow{0, 0, out_width, out_height};
  CLIPT_CHECK(window.x >= 0 && window.y >= 0 && window.width > 0 && window.height > 0 &&
                  window.x + window.width <= out_width && window.y + window.height <= out_height,
              "resample: window x={} y={} {}x{} lies outside the {}x{} output", window.x, window.y, window.width,
              window.height, out_width, out_height);

  // Pillow's rule for skipping a pass: same size on that axis and a box spanning it.
  const bool need_horizontal = out_width != src.width || box.x0 != 0 || box.x1 != out_width;
  const bool need_vertical = out_height != src.height || box.y0 != 0 || box.y1 != out_height;
  const bool simd = g_simd_enabled.load(std::memory_order_relaxed);

  detail::AxisTaps vtaps;
  int row_first = window.y, row_end = window.y + window.height;  // source rows the vertical pass reads
  if (need_vertical) {
    vtaps = precompute_taps(src.height, box.y0, box.y1, out_height, window.y, window.height, interpolation);
    row_first = src.height;
    row_end = 0;
    for (int i = 0; i < window.height; ++i) {
      if (vtaps.count[size_t(i)] == 0) continue;
      row_first = std::min(row_first, vtaps.first[size_t(i)]);
      row_end = std::max(row_end, vtaps.first[size_t(i)] + vtaps.count[size_t(i)]);
    }
    if (row_end <= row_first) row_first = row_end = 0;
  }

  // Horizontal pass over the rows that are needed, into a uint8 temporary (as Pillow's imTemp).
  Image temp;
  ImageView rows_view;  // what the vertical pass reads: rows [row_first, row_end) of the horizontal result
  if (need_horizontal) {
    const detail::AxisTaps htaps =
        precompute_taps(src.width, box.x0, box.x1, out_width, window.x, window.width, interpolation);
    temp = Image(window.width, std::max(row_end - row_first, 1));
    if (row_end > row_first) {
      const ImageView in{src.data + size_t(row_first) * src.stride, src.width, row_end - row_first, src.stride};
      detail::horizontal_pass(in, htaps, temp.pixels.data(), size_t(window.width) * 3, simd);
    }
    rows_view = view_of(temp);
  } else {
    rows_view = ImageView{src.data + size_t(row_first) * src.stride + size_t(window.x) * 3, window.width,
                          row_end - row_first, src.stride};
  }

  Image out(window.width, window.height);
  if (need_vertical) {
    for (auto& f : vtaps.first) f -= row_first;
    detail::vertical_pass(rows_view, vtaps, out.pixels.data(), size_t(window.width) * 3, simd);
  } else {
    for (int y = 0; y < window.height; ++y)
      std::memcpy(out.row(y), rows_view.data + size_t(y) * rows_view.stride, size_t(window.width) * 3);
  }
  return out;
}

}  // namespace clipt::data
