// Philox-4x32-10 random fills with the CPU backend's exact element → word mapping: one thread per
// counter block (4 words) produces the 4 uniform/bernoulli elements or 2 normal elements of that block.
//   uniform   v = a + (b − a)·u,            u = (word >> 8)·2⁻²⁴ ∈ [0, 1)
//   bernoulli v = [u < p]
//   normal    v = a + b·sqrt(−2 log(1 − u₁))·cos(2π u₂)   (words 2i and 2i+1)
// The double-precision arithmetic uses explicitly rounded operations (no FMA contraction) so uniform and
// bernoulli streams are bit-identical to the CPU; normal draws may differ in the last ulp because the
// device logf/cosf are not glibc's.
#include "kernels/device_common.cuh"
#include "kernels/philox.h"
#include "kernels/random.h"

namespace clipt::kernels {

namespace {

template <typename T> __device__ __forceinline__ T to_storage(double v) {
  return from_compute<T>(compute_t<T>(v));  // the CPU's store(o + i, compute_t<T>(v))
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    random_kernel(RandomDist dist, T* out, int64_t n, uint64_t seed, uint64_t offset, double a, double b) {
  const int64_t per_block = dist == RandomDist::Normal ? 2 : 4;
  const int64_t blocks = (n + per_block - 1) / per_block;
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < blocks; c += int64_t(gridDim.x) * blockDim.x) {
    const philox::U4 r = philox::philox4x32(offset + uint64_t(c), seed);
    const uint32_t w[4] = {r.x, r.y, r.z, r.w};
    if (dist == RandomDist::Normal) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int64_t i = c * 2 + e;
        if (i >= n) break;
        const float u1 = 1.0f - philox::to_unit_float(w[2 * e]);
        const float u2 = philox::to_unit_float(w[2 * e + 1]);
        const float z = sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864f * u2);
        out[i] = to_storage<T>(__dadd_rn(a, __dmul_rn(b, double(z))));
      }
    } else {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t i = c * 4 + e;
        if (i >= n) break;
        const float u = philox::to_unit_float(w[e]);
        const double v = dist == RandomDist::Uniform ? __dadd_rn(a, __dmul_rn(__dsub_rn(b, a), double(u)))
                                                     : (u < float(a) ? 1.0 : 0.0);
        out[i] = to_storage<T>(v);
      }
    }
  }
}

}  // namespace

cudaError_t random_fill(RandomDist dist, KDType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double a,
                        double b, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int64_t blocks = dist == RandomDist::Normal ? (n + 1) / 2 : (n + 3) / 4;
  const bool ok = dispatch_all(dtype, [&]<typename T>() {
    random_kernel<T><<<grid_for(blocks), kThreads, 0, stream>>>(dist, static_cast<T*>(out), n, seed, offset, a, b);
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
