// Bias + QuickGELU of the MLP's first projection, fused:
//   forward   y  = z·σ(1.702·z),           z = x + bias (rounded to the storage dtype)
//   backward  dx = dy ⊙ (σ + 1.702·z·σ·(1 − σ))
// x is the c_fc GEMM's output computed without a bias. A bias epilogue followed by a separate activation
// moves the same bytes in the forward; the gain is that the backward reads x and the bias instead of a
// stored z, and one kernel replaces the bias pass of the CPU GEMM. The formulas are the element-wise ops'
// (kernels/elementwise_ops.h), shared with the CPU backend. 128-bit loads when c and the pointers allow;
// the bias is read through the cache (c ≤ a few thousand).
#include "kernels/bias_act.h"
#include "kernels/device_common.cuh"
#include "kernels/elementwise_ops.h"

namespace clipt::kernels {

namespace {

template <typename T> __device__ __forceinline__ compute_t<T> biased(T x, T b) {
  return to_compute(from_compute<T>(to_compute(x) + to_compute(b)));
}

template <typename T, bool Backward> __device__ __forceinline__ T apply(T x, T b, T g) {
  using C = compute_t<T>;
  const C z = biased(x, b);
  if constexpr (Backward)
    return from_compute<T>(BinaryFormula<BinaryOp::QuickGeluBackward>::apply<C>(to_compute(g), z));
  else
    return from_compute<T>(UnaryFormula<UnaryOp::QuickGelu>::apply<C>(z, C(0), C(0)));
}

// One thread per V-element chunk of the row-major [rows, c] tensor; with vec, chunks never cross a row.
template <typename T, bool Backward> __global__ void __launch_bounds__(kThreads)
    bias_quick_gelu_kernel(const T* x, const T* bias, const T* dy, T* out, int64_t n, int64_t c, bool vec) {
  constexpr int V = kVecWidth<T>;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  if (vec) {
    for (int64_t i = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * V; i < n; i += stride * V) {
      const Vec<T, V> xv = load_vec<T, V>(x + i), bv = load_vec<T, V>(bias + i % c);
      Vec<T, V> gv, o;
      if constexpr (Backward) gv = load_vec<T, V>(dy + i);
#pragma unroll
      for (int t = 0; t < V; ++t) o.v[t] = apply<T, Backward>(xv.v[t], bv.v[t], Backward ? gv.v[t] : T());
      store_vec<T, V>(out + i, o);
    }
  } else {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
      out[i] = apply<T, Backward>(x[i], bias[i % c], Backward ? dy[i] : T());
  }
}

template <bool Backward> cudaError_t launch(KDType dtype, const void* dy, const void* x, const void* bias, void* out,
                                            int64_t rows, int64_t c, cudaStream_t stream) {
  if (rows <= 0 || c <= 0) return cudaSuccess;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    constexpr int V = kVecWidth<T>;
    const bool vec = c % V == 0 && vec_aligned<T, V>(x) && vec_aligned<T, V>(bias) && vec_aligned<T, V>(out) &&
                     (!Backward || vec_aligned<T, V>(dy));
    const int64_t n = rows * c;
    bias_quick_gelu_kernel<T, Backward><<<grid_for(vec ? (n + V - 1) / V : n), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(bias), static_cast<const T*>(dy), static_cast<T*>(out), n, c,
        vec);
  });
  return launch_status(ok);
}

}  // namespace

cudaError_t bias_quick_gelu_forward(KDType dtype, const void* x, const void* bias, void* y, int64_t rows, int64_t c,
                                    cudaStream_t stream) {
  return launch<false>(dtype, nullptr, x, bias, y, rows, c, stream);
}

cudaError_t bias_quick_gelu_backward(KDType dtype, const void* dy, const void* x, const void* bias, void* dx,
                                     int64_t rows, int64_t c, cudaStream_t stream) {
  return launch<true>(dtype, dy, x, bias, dx, rows, c, stream);
}

}  // namespace clipt::kernels
