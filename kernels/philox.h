// Philox-4x32-10 counter-based generator (Salmon et al., SC'11), shared by the CPU backend and the CUDA
// kernels so that both produce the same stream: element i of a draw keyed by (seed, offset) uses
// counter (offset + i / 4, 0, 0, 0) and lane i % 4.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define CLIPT_HD __host__ __device__ __forceinline__
#else
#define CLIPT_HD inline
#endif

namespace clipt::philox {

struct U4 {
  uint32_t x, y, z, w;
};

CLIPT_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t& hi) {
  const uint64_t p = uint64_t(a) * uint64_t(b);
  hi = uint32_t(p >> 32);
  return uint32_t(p);
}

CLIPT_HD U4 round(U4 c, uint32_t k0, uint32_t k1) {
  uint32_t hi0, hi1;
  const uint32_t lo0 = mulhilo(0xD2511F53u, c.x, hi0);
  const uint32_t lo1 = mulhilo(0xCD9E8D57u, c.z, hi1);
  return {hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
}

// Ten rounds of Philox on a 128-bit counter with a 64-bit key (k0, k1).
CLIPT_HD U4 philox4x32_10(U4 c, uint32_t k0, uint32_t k1) {
  for (int i = 0; i < 10; ++i) {
    c = round(c, k0, k1);
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

// The counter (counter_lo, counter_hi, 0, 0) with key = seed.
CLIPT_HD U4 philox4x32(uint64_t counter, uint64_t key) {
  return philox4x32_10(U4{uint32_t(counter), uint32_t(counter >> 32), 0u, 0u}, uint32_t(key), uint32_t(key >> 32));
}

CLIPT_HD uint32_t lane(const U4& v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

// 32 random bits → uniform float in [0, 1) with 24 bits of precision.
CLIPT_HD float to_unit_float(uint32_t r) { return float(r >> 8) * (1.0f / 16777216.0f); }

// The i-th 32-bit word of the stream keyed by seed at `offset` (offset counts blocks of 4 words).
CLIPT_HD uint32_t word(uint64_t seed, uint64_t offset, uint64_t i) {
  return lane(philox4x32(offset + i / 4, seed), int(i % 4));
}

}  // namespace clipt::philox
