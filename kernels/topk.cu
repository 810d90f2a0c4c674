// Top-k along the last dim of contiguous x [rows, n]: values[r, 0..k) descending, indices of those values,
// ties broken by the lower index (the CPU backend's order). One block per row makes k selection passes;
// pass j picks the best element strictly after pick j−1 in the order (value desc, index asc), so the
// result is exact and deterministic. O(k·n) per row: meant for small k. A NaN sorts below every number.
#include "kernels/device_common.cuh"
#include "kernels/math.cuh"
#include "kernels/reduce.h"

namespace clipt::kernels {

namespace {

// (a, ia) comes before (b, ib) in the output order.
template <typename C> __device__ __forceinline__ bool before(C a, int64_t ia, C b, int64_t ib) {
  return a > b || (a == b && ia < ib);
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    topk_kernel(const T* x, int64_t rows, int64_t n, int64_t k, T* values, int64_t* indices) {
  using C = compute_t<T>;
  __shared__ C sv[kThreads / 32];
  __shared__ int64_t si[kThreads / 32];
  __shared__ C prev_v;
  __shared__ int64_t prev_i;
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, warps = blockDim.x / 32;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * n;
    for (int64_t j = 0; j < k; ++j) {
      C bv = C(0);
      int64_t bi = -1;
      const C pv = prev_v;
      const int64_t pi = j == 0 ? -1 : prev_i;
      for (int64_t i = tid; i < n; i += blockDim.x) {
        C v = to_compute(xr[i]);
        if (math::isnan_(v)) v = -math::inf_<C>();
        if (pi >= 0 && !before(pv, pi, v, i)) continue;  // already picked (or ahead of the last pick)
        if (bi < 0 || before(v, i, bv, bi)) {
          bv = v;
          bi = i;
        }
      }
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) {
        const C ov = __shfl_xor_sync(0xffffffffu, bv, o);
        const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (oi >= 0 && (bi < 0 || before(ov, oi, bv, bi))) {
          bv = ov;
          bi = oi;
        }
      }
      if (lane == 0) {
        sv[warp] = bv;
        si[warp] = bi;
      }
      __syncthreads();
      if (tid == 0) {
        for (int w = 1; w < warps; ++w) {
          if (si[w] >= 0 && (bi < 0 || before(sv[w], si[w], bv, bi))) {
            bv = sv[w];
            bi = si[w];
          }
        }
        indices[row * k + j] = bi;
        values[row * k + j] = xr[bi];
        prev_v = bv;
        prev_i = bi;
      }
      __syncthreads();
    }
  }
}

}  // namespace

cudaError_t topk(KDType dtype, const void* x, int64_t rows, int64_t n, int64_t k, void* values, int64_t* indices,
                 cudaStream_t stream) {
  if (rows <= 0 || k <= 0) return cudaSuccess;
  if (k > n) return cudaErrorInvalidValue;
  const bool ok = dispatch_all(dtype, [&]<typename T>() {
    topk_kernel<T><<<grid_for(rows, 1), kThreads, 0, stream>>>(static_cast<const T*>(x), rows, n, k,
                                                               static_cast<T*>(values), indices);
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
