// Softmax and log-softmax over the last dim, fused with the attention scale and causal mask:
//   z_j = x_j·scale for the visible keys j < v(r), v(r) = n for plain rows and (r mod q) + (n − q) + 1 under
//   the causal mask; lse = max z + log Σ exp(z − max z); y_j = exp(z_j − lse) (log: z_j − lse), masked
//   entries 0 (log: −inf).
// Backward: dx = scale·y⊙(dy − Σ dy⊙y), or scale·(dy − exp(y)·Σ dy) for log-softmax.
// One warp per row when n ≤ 1024 (attention rows), one block of 256 per row beyond. The max/sum pass is an
// online (running max) pass; the output pass re-reads the row, which is then still in L1/L2, so DRAM sees
// one read and one write. Statistics in f32 (f64 for f64).
#include "kernels/device_common.cuh"
#include "kernels/math.cuh"
#include "kernels/softmax.h"

namespace clipt::kernels {

namespace {

constexpr int kWarpRowsPerBlock = 8;  // warp-per-row kernels: blockDim (32, 8)
constexpr int64_t kWarpRowMaxN = 1024;

// Running (max, Σ exp(z − max)) pair; merging is exact up to rounding and handles −inf maxima.
template <typename A> struct MaxSum { A m, s; };

template <typename A> __device__ __forceinline__ MaxSum<A> merge(MaxSum<A> a, MaxSum<A> b) {
  const A m = a.m > b.m ? a.m : b.m;
  if (m == -math::inf_<A>()) return {m, a.s + b.s};
  const A sa = a.m == -math::inf_<A>() ? A(0) : a.s * math::exp_(a.m - m);
  const A sb = b.m == -math::inf_<A>() ? A(0) : b.s * math::exp_(b.m - m);
  return {m, sa + sb};
}

template <typename A> __device__ __forceinline__ MaxSum<A> push(MaxSum<A> a, A z) {
  if (z == -math::inf_<A>()) return a;  // exp(−inf) adds nothing
  if (z > a.m) return {z, a.s * (a.m == -math::inf_<A>() ? A(0) : math::exp_(a.m - z)) + A(1)};
  return {a.m, a.s + math::exp_(z - a.m)};  // NaN z lands here and propagates through s
}

template <typename A> __device__ __forceinline__ MaxSum<A> warp_merge(MaxSum<A> v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    MaxSum<A> w{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
    v = merge(v, w);
  }
  return v;
}

__device__ __forceinline__ int64_t visible_keys(int64_t row, int64_t n, int64_t q, bool causal) {
  if (!causal) return n;
  const int64_t v = (row % q) + (n - q) + 1;
  return v < 0 ? 0 : (v > n ? n : v);
}

// Computes the row's log-sum-exp with `threads` cooperating lanes starting at `lane`.
// Loops below issue 4 independent loads before using any of them, so each lane keeps several memory
// requests in flight (the rows are short and the kernels memory-bound).
constexpr int kUnroll = 4;

template <typename T, typename A>
__device__ __forceinline__ MaxSum<A> row_stats(const T* xr, int64_t visible, A scale, int lane, int threads) {
  MaxSum<A> st{-math::inf_<A>(), A(0)};
  int64_t j = lane;
  for (; j + (kUnroll - 1) * threads < visible; j += kUnroll * threads) {
    A z[kUnroll];
#pragma unroll
    for (int t = 0; t < kUnroll; ++t) z[t] = A(to_compute(xr[j + t * threads]));
#pragma unroll
    for (int t = 0; t < kUnroll; ++t) st = push(st, z[t] * scale);
  }
  for (; j < visible; j += threads) st = push(st, A(to_compute(xr[j])) * scale);
  return st;
}

template <typename A>
__device__ __forceinline__ A softmax_value(A x, int64_t j, int64_t visible, A scale, A lse, bool log) {
  if (j >= visible) return log ? -math::inf_<A>() : A(0);
  const A z = x * scale;
  return log ? z - lse : math::exp_(z - lse);
}

template <typename T, typename A> __device__ __forceinline__ void write_row(const T* xr, T* yr, int64_t n,
                                                                            int64_t visible, A scale, A lse, bool log,
                                                                            int lane, int threads) {
  int64_t j = lane;
  for (; j + (kUnroll - 1) * threads < n; j += kUnroll * threads) {
    A v[kUnroll];
#pragma unroll
    for (int t = 0; t < kUnroll; ++t) v[t] = A(to_compute(xr[j + t * threads]));
#pragma unroll
    for (int t = 0; t < kUnroll; ++t)
      yr[j + t * threads] = from_compute<T>(softmax_value(v[t], j + t * threads, visible, scale, lse, log));
  }
  for (; j < n; j += threads) yr[j] = from_compute<T>(softmax_value(A(to_compute(xr[j])), j, visible, scale, lse, log));
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    softmax_warp_kernel(const T* x, T* y, int64_t rows, int64_t n, int64_t q, compute_t<T> scale, bool causal,
                        bool log) {
  using A = compute_t<T>;
  const int lane = threadIdx.x;
  for (int64_t row = int64_t(blockIdx.x) * kWarpRowsPerBlock + threadIdx.y; row < rows;
       row += int64_t(gridDim.x) * kWarpRowsPerBlock) {
    const T* xr = x + row * n;
    const int64_t visible = visible_keys(row, n, q, causal);
    const MaxSum<A> st = warp_merge(row_stats<T, A>(xr, visible, scale, lane, 32));
    const A lse = st.m + math::log_(st.s);
    write_row<T, A>(xr, y + row * n, n, visible, scale, lse, log, lane, 32);
  }
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    softmax_block_kernel(const T* x, T* y, int64_t rows, int64_t n, int64_t q, compute_t<T> scale, bool causal,
                         bool log) {
  using A = compute_t<T>;
  __shared__ A sm[kThreads / 32], ss[kThreads / 32];
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, warps = blockDim.x / 32;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * n;
    const int64_t visible = visible_keys(row, n, q, causal);
    MaxSum<A> st = warp_merge(row_stats<T, A>(xr, visible, scale, tid, blockDim.x));
    __syncthreads();
    if (lane == 0) {
      sm[warp] = st.m;
      ss[warp] = st.s;
    }
    __syncthreads();
    st = MaxSum<A>{sm[0], ss[0]};
    for (int w = 1; w < warps; ++w) st = merge(st, MaxSum<A>{sm[w], ss[w]});
    const A lse = st.m + math::log_(st.s);
    write_row<T, A>(xr, y + row * n, n, visible, scale, lse, log, tid, blockDim.x);
  }
}

// Σ dy⊙y (softmax) or Σ dy (log-softmax) over the row.
template <typename T, typename A>
__device__ __forceinline__ A backward_dot(const T* g, const T* yr, int64_t n, bool log, int lane, int threads) {
  A s = A(0);
  int64_t j = lane;
  for (; j + (kUnroll - 1) * threads < n; j += kUnroll * threads) {
    A gv[kUnroll], yv[kUnroll];
#pragma unroll
    for (int t = 0; t < kUnroll; ++t) {
      gv[t] = A(to_compute(g[j + t * threads]));
      yv[t] = log ? A(1) : A(to_compute(yr[j + t * threads]));
    }
#pragma unroll
    for (int t = 0; t < kUnroll; ++t) s += gv[t] * yv[t];
  }
  for (; j < n; j += threads) {
    const A gv = A(to_compute(g[j]));
    s += log ? gv : gv * A(to_compute(yr[j]));
  }
  return s;
}

template <typename T, typename A> __device__ __forceinline__ void backward_write(const T* g, const T* yr, T* d,
                                                                                 int64_t n, A s, A scale, bool log,
                                                                                 int lane, int threads) {
  auto value = [&](A gv, A yv) {
    if (log) {
      const A p = (yv == -math::inf_<A>() || yv == math::inf_<A>()) ? A(0) : math::exp_(yv);
      return scale * (gv - p * s);
    }
    return scale * yv * (gv - s);
  };
  int64_t j = lane;
  for (; j + (kUnroll - 1) * threads < n; j += kUnroll * threads) {
    A gv[kUnroll], yv[kUnroll];
#pragma unroll
    for (int t = 0; t < kUnroll; ++t) {
      gv[t] = A(to_compute(g[j + t * threads]));
      yv[t] = A(to_compute(yr[j + t * threads]));
    }
#pragma unroll
    for (int t = 0; t < kUnroll; ++t) d[j + t * threads] = from_compute<T>(value(gv[t], yv[t]));
  }
  for (; j < n; j += threads) d[j] = from_compute<T>(value(A(to_compute(g[j])), A(to_compute(yr[j]))));
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    softmax_backward_warp_kernel(const T* dy, const T* y, T* dx, int64_t rows, int64_t n, compute_t<T> scale,
                                 bool log) {
  using A = compute_t<T>;
  const int lane = threadIdx.x;
  for (int64_t row = int64_t(blockIdx.x) * kWarpRowsPerBlock + threadIdx.y; row < rows;
       row += int64_t(gridDim.x) * kWarpRowsPerBlock) {
    const int64_t off = row * n;
    const A s = warp_sum(backward_dot<T, A>(dy + off, y + off, n, log, lane, 32));
    backward_write<T, A>(dy + off, y + off, dx + off, n, s, scale, log, lane, 32);
  }
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    softmax_backward_block_kernel(const T* dy, const T* y, T* dx, int64_t rows, int64_t n, compute_t<T> scale,
                                  bool log) {
  using A = compute_t<T>;
  __shared__ A scratch[32];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t off = row * n;
    const A s = block_sum(backward_dot<T, A>(dy + off, y + off, n, log, threadIdx.x, blockDim.x), scratch);
    backward_write<T, A>(dy + off, y + off, dx + off, n, s, scale, log, threadIdx.x, blockDim.x);
  }
}

}  // namespace

cudaError_t softmax_forward(KDType dtype, const void* x, void* y, int64_t rows, int64_t n, int64_t q, double scale,
                            bool causal, bool log, cudaStream_t stream) {
  if (rows <= 0 || n <= 0) return cudaSuccess;
  if (q <= 0) q = 1;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using A = compute_t<T>;
    const T* xp = static_cast<const T*>(x);
    T* yp = static_cast<T*>(y);
    if (n <= kWarpRowMaxN) {
      softmax_warp_kernel<T><<<grid_for(rows, kWarpRowsPerBlock), dim3(32, kWarpRowsPerBlock), 0, stream>>>(
          xp, yp, rows, n, q, A(scale), causal, log);
    } else {
      softmax_block_kernel<T><<<grid_for(rows, 1), kThreads, 0, stream>>>(xp, yp, rows, n, q, A(scale), causal, log);
    }
  });
  return launch_status(ok);
}

cudaError_t softmax_backward(KDType dtype, const void* dy, const void* y, void* dx, int64_t rows, int64_t n,
                             double scale, bool log, cudaStream_t stream) {
  if (rows <= 0 || n <= 0) return cudaSuccess;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using A = compute_t<T>;
    const T* g = static_cast<const T*>(dy);
    const T* yp = static_cast<const T*>(y);
    T* d = static_cast<T*>(dx);
    if (n <= kWarpRowMaxN) {
      softmax_backward_warp_kernel<T><<<grid_for(rows, kWarpRowsPerBlock), dim3(32, kWarpRowsPerBlock), 0, stream>>>(
          g, yp, d, rows, n, A(scale), log);
    } else {
      softmax_backward_block_kernel<T><<<grid_for(rows, 1), kThreads, 0, stream>>>(g, yp, d, rows, n, A(scale), log);
    }
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
