// Inner loops of the PIL-exact resampler (resample.cpp): one horizontal and one vertical pass over
// interleaved RGB, each in a portable scalar form and an AVX2 form with identical integer arithmetic.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/resample.h"

namespace clipt::data::detail {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS

// Per output index: the first source index, the number of taps and `ksize` fixed-point weights (zero
// beyond `count`).
struct AxisTaps {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;
};

// Rows of `in` → rows of `out` (taps.first.size() RGB pixels each, rows `out_stride` bytes apart).
void horizontal_pass(const ImageView& in, const AxisTaps& taps, uint8_t* out, size_t out_stride, bool simd);
// Output row i = Σ_t weights[i][t] · in row (first[i] + t); `in.width` pixels per row.
void vertical_pass(const ImageView& in, const AxisTaps& taps, uint8_t* out, size_t out_stride, bool simd);

bool horizontal_pass_simd_available();

}  // namespace clipt::data::detail
