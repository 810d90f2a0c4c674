// Inner loops of the PIL-exact resampler. Every variant computes, per channel,
//   clip8((2^21 + Σ_t w_t · p_t) >> 22)
// in int32 exactly as Pillow's ImagingResampleHorizontal/Vertical_8bpc, so the scalar and AVX2 paths
// give identical pixels (a test checks this). The AVX2 path is compiled with a function-level target
// attribute and chosen at run time, so the library still runs on CPUs without AVX2.
#include "data/resample_kernels.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CLIPT_RESAMPLE_X86 1
#endif

namespace clipt::data::detail {
namespace {

inline uint8_t clip8(int32_t v) {
  const int32_t s = v >> kPrecisionBits;  // arithmetic shift: negative sums stay negative
  return uint8_t(s < 0 ? 0 : s > 255 ? 255 : s);
}

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

void horizontal_scalar(const ImageView& in, const AxisTaps& taps, uint8_t* out, size_t out_stride) {
  const int n_out = int(taps.first.size());
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* row = in.data + size_t(y) * in.stride;
    uint8_t* dst = out + size_t(y) * out_stride;
    for (int x = 0; x < n_out; ++x) {
      const int32_t* k = taps.weights.data() + size_t(x) * size_t(taps.ksize);
      const uint8_t* p = row + size_t(taps.first[size_t(x)]) * 3;
      int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
      for (int t = 0, n = taps.count[size_t(x)]; t < n; ++t) {
        s0 += int32_t(p[3 * t + 0]) * k[t];
        s1 += int32_t(p[3 * t + 1]) * k[t];
        s2 += int32_t(p[3 * t + 2]) * k[t];
      }
      dst[3 * x + 0] = clip8(s0);
      dst[3 * x + 1] = clip8(s1);
      dst[3 * x + 2] = clip8(s2);
    }
  }
}

void vertical_scalar(const ImageView& in, const AxisTaps& taps, uint8_t* out, size_t out_stride) {
  const size_t row_bytes = size_t(in.width) * 3;
  std::vector<int32_t> acc(row_bytes);
  for (size_t i = 0; i < taps.first.size(); ++i) {
    const int32_t* k = taps.weights.data() + i * size_t(taps.ksize);
    for (size_t j = 0; j < row_bytes; ++j) acc[j] = kHalf;
    for (int t = 0; t < taps.count[i]; ++t) {
      const uint8_t* src = in.data + size_t(taps.first[i] + t) * in.stride;
      const int32_t w = k[t];
      for (size_t j = 0; j < row_bytes; ++j) acc[j] += int32_t(src[j]) * w;
    }
    uint8_t* dst = out + i * out_stride;
    for (size_t j = 0; j < row_bytes; ++j) dst[j] = clip8(acc[j]);
  }
}

#ifdef CLIPT_RESAMPLE_X86

// Two taps per step: 8 source bytes [r0 g0 b0 r1 g1 b1 . .] are spread to int32 lanes
// [r0 g0 b0 0 | r1 g1 b1 0] and multiplied by [w0 w0 w0 0 | w1 w1 w1 0].
__attribute__((target("avx2"))) void horizontal_avx2(const ImageView& in, const AxisTaps& taps, uint8_t* out,
                                                     size_t out_stride) {
  const int n_out = int(taps.first.size());
  const int pairs = (taps.ksize + 1) / 2;
  // Expanded weights, 8 lanes per tap pair.
  std::vector<int32_t> wide(size_t(n_out) * size_t(pairs) * 8, 0);
  for (int x = 0; x < n_out; ++x) {
    const int32_t* k = taps.weights.data() + size_t(x) * size_t(taps.ksize);
    for (int p = 0; p < pairs; ++p) {
      int32_t* w = wide.data() + (size_t(x) * size_t(pairs) + size_t(p)) * 8;
      const int32_t w0 = k[2 * p], w1 = 2 * p + 1 < taps.ksize ? k[2 * p + 1] : 0;
      w[0] = w[1] = w[2] = w0;
      w[4] = w[5] = w[6] = w1;
    }
  }
  const __m128i spread = _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i half = _mm256_set1_epi32(kHalf);
  // Bytes readable from the start of row y without leaving the view's memory.
  const size_t last_row_bytes = size_t(in.width) * 3;
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* row = in.data + size_t(y) * in.stride;
    const size_t readable = size_t(in.height - 1 - y) * in.stride + last_row_bytes;
    uint8_t* dst = out + size_t(y) * out_stride;
    for (int x = 0; x < n_out; ++x) {
      const int first = taps.first[size_t(x)], count = taps.count[size_t(x)];
      const int npairs = (count + 1) / 2;
      const size_t offset = size_t(first) * 3;
      if (offset + size_t(npairs) * 6 + 2 > readable) {  // the 8-byte loads would overrun: scalar
        const int32_t* k = taps.weights.data() + size_t(x) * size_t(taps.ksize);
        const uint8_t* p = row + offset;
        int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
        for (int t = 0; t < count; ++t) {
          s0 += int32_t(p[3 * t + 0]) * k[t];
          s1 += int32_t(p[3 * t + 1]) * k[t];
          s2 += int32_t(p[3 * t + 2]) * k[t];
        }
        dst[3 * x + 0] = clip8(s0);
        dst[3 * x + 1] = clip8(s1);
        dst[3 * x + 2] = clip8(s2);
        continue;
      }
      const int32_t* w = wide.data() + size_t(x) * size_t(pairs) * 8;
      const uint8_t* p = row + offset;
      __m256i acc = _mm256_setzero_si256();
      for (int q = 0; q < npairs; ++q) {
        __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 6 * q));
        __m256i px = _mm256_cvtepu8_epi32(_mm_shuffle_epi8(bytes, spread));
        __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 8 * q));
        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(px, wv));
      }
      __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
      sum = _mm_add_epi32(sum, _mm256_castsi256_si128(half));
      sum = _mm_srai_epi32(sum, kPrecisionBits);
      sum = _mm_packs_epi32(sum, sum);
      sum = _mm_packus_epi16(sum, sum);
      const uint32_t rgbx = uint32_t(_mm_cvtsi128_si32(sum));
      dst[3 * x + 0] = uint8_t(rgbx);
      dst[3 * x + 1] = uint8_t(rgbx >> 8);
      dst[3 * x + 2] = uint8_t(rgbx >> 16);
    }
  }
}

__attribute__((target("avx2"))) void vertical_avx2(const ImageView& in, const AxisTaps& taps, uint8_t* out,
                                                   size_t out_stride) {
  const size_t row_bytes = size_t(in.width) * 3;
  const __m256i half = _mm256_set1_epi32(kHalf);
  for (size_t i = 0; i < taps.first.size(); ++i) {
    const int32_t* k = taps.weights.data() + i * size_t(taps.ksize);
    const uint8_t* base = in.data + size_t(taps.first[i]) * in.stride;
    const int count = taps.count[i];
    uint8_t* dst = out + i * out_stride;
    size_t j = 0;
    for (; j + 16 <= row_bytes; j += 16) {
      __m256i a0 = half, a1 = half;
      for (int t = 0; t < count; ++t) {
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + size_t(t) * in.stride + j));
        const __m256i wv = _mm256_set1_epi32(k[t]);
        a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(b), wv));
        a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), wv));
      }
      a0 = _mm256_srai_epi32(a0, kPrecisionBits);
      a1 = _mm256_srai_epi32(a1, kPrecisionBits);
      // packs works within 128-bit lanes: reorder to keep bytes in order.
      __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(a0, a1), 0xD8);
      __m128i b8 = _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j), b8);
    }
    for (; j < row_bytes; ++j) {
      int32_t s = kHalf;
      for (int t = 0; t < count; ++t) s += int32_t(base[size_t(t) * in.stride + j]) * k[t];
      dst[j] = clip8(s);
    }
  }
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

#endif  // CLIPT_RESAMPLE_X86

}  // namespace

bool horizontal_pass_simd_available() {
#ifdef CLIPT_RESAMPLE_X86
  return cpu_has_avx2();
#else
  return false;
#endif
}

void horizontal_pass(const ImageView& in, const AxisTaps& taps, uint8_t* out, size_t out_stride, bool simd) {
#ifdef CLIPT_RESAMPLE_X86
  if (simd && cpu_has_avx2()) return horizontal_avx2(in, taps, out, out_stride);
#endif
  horizontal_scalar(in, taps, out, out_stride);
}

void vertical_pass(const ImageView& in, const AxisTaps& taps, uint8_t* out, size_t out_stride, bool simd) {
#ifdef CLIPT_RESAMPLE_X86
  if (simd && cpu_has_avx2()) return vertical_avx2(in, taps, out, out_stride);
#endif
  vertical_scalar(in, taps, out, out_stride);
}

}  // namespace clipt::data::detail
