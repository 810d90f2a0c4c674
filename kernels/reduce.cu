// Reductions over the middle dim of contiguous x [outer, n, inner]:
//   sum / mean = Σ_j x[o, j, i] (· 1/n),  sum of squares = Σ_j x², max / min with NaN propagation,
//   arg-max / arg-min = first index of the extreme (a NaN is the extreme, as PyTorch).
// Accumulation is f32 for f32/f16/bf16 and f64 otherwise. Rows (inner == 1) are reduced by groups of 32–256
// threads; columns (inner > 1) by 32-column tiles × 8 row phases. Long reductions with few outputs are
// split into partial results (a split chosen from the shape alone) and combined by a second pass of the
// same kernels, so every result is produced by one fixed tree: deterministic, no atomics.
#include <algorithm>

#include "kernels/device_common.cuh"
#include "kernels/math.cuh"
#include "kernels/reduce.h"

namespace clipt::kernels {

namespace {

enum class Combine : int { Sum = 0, Max = 1, Min = 2 };

template <typename Acc> __device__ __forceinline__ Acc combine(Combine c, Acc a, Acc b) {
  switch (c) {
    case Combine::Max: return math::isnan_(a) || a > b ? a : b;
    case Combine::Min: return math::isnan_(a) || a < b ? a : b;
    default: return a + b;
  }
}

template <typename Acc> __device__ __forceinline__ Acc identity(Combine c) {
  switch (c) {
    case Combine::Max: return -math::inf_<Acc>();
    case Combine::Min: return math::inf_<Acc>();
    default: return Acc(0);
  }
}

template <typename Acc> __device__ __forceinline__ Acc warp_combine(Combine c, Acc v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = combine(c, v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Parameters of one pass. Pass 1 reads the input (squaring for sum of squares); pass 2, when the
// reduction was split, reads the partials. `scale` is 1/n for the final pass of a mean, else 1.
template <typename Acc> struct PassArgs {
  Combine comb;
  bool square;
  Acc scale;
};

// Row reduction: x [rows, n], one unit = (row, split) handled by blockDim.x threads; blockDim.y units per
// block. out[row * splits + split].
template <typename In, typename Acc, typename Out> __global__ void __launch_bounds__(kThreads)
    reduce_rows_kernel(const In* x, Out* out, int64_t rows, int64_t n, int64_t splits, int64_t chunk, PassArgs<Acc> p) {
  __shared__ Acc partial[kThreads / 32];
  const int tx = threadIdx.x, ty = threadIdx.y, tpr = blockDim.x;
  const int warps_per_row = tpr / 32;
  const int64_t units = rows * splits;
  for (int64_t base = int64_t(blockIdx.x) * blockDim.y; base < units; base += int64_t(gridDim.x) * blockDim.y) {
    const int64_t u = base + ty;
    Acc acc = identity<Acc>(p.comb);
    if (u < units) {
      const int64_t row = u / splits, s = u % splits;
      const int64_t begin = s * chunk, end = min(n, begin + chunk);
      const In* xr = x + row * n;
      int64_t j = begin + tx;
      for (; j + 3 * tpr < end; j += 4 * tpr) {
        Acc v[4];
#pragma unroll
        for (int t = 0; t < 4; ++t) v[t] = Acc(to_compute(xr[j + t * tpr]));
#pragma unroll
        for (int t = 0; t < 4; ++t) acc = combine(p.comb, acc, p.square ? v[t] * v[t] : v[t]);
      }
      for (; j < end; j += tpr) {
        const Acc v = Acc(to_compute(xr[j]));
        acc = combine(p.comb, acc, p.square ? v * v : v);
      }
    }
    acc = warp_combine(p.comb, acc);
    __syncthreads();
    if (tx % 32 == 0) partial[ty * warps_per_row + tx / 32] = acc;
    __syncthreads();
    if (tx == 0 && u < units) {
      Acc r = partial[ty * warps_per_row];
      for (int w = 1; w < warps_per_row; ++w) r = combine(p.comb, r, partial[ty * warps_per_row + w]);
      out[u] = from_compute<Out>(r * p.scale);
    }
  }
}

// Column reduction: x [outer, n, inner]; one unit = (o, 32-column tile, split); threads (32, 8) where
// threadIdx.y strides the rows of the split. out[(o * splits + split) * inner + column].
template <typename In, typename Acc, typename Out> __global__ void __launch_bounds__(kThreads)
    reduce_cols_kernel(const In* x, Out* out, int64_t outer, int64_t n, int64_t inner, int64_t splits, int64_t chunk,
                       PassArgs<Acc> p) {
  __shared__ Acc partial[8][33];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t tiles = (inner + 31) / 32;
  const int64_t units = outer * tiles * splits;
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {
    const int64_t s = u % splits, tile = (u / splits) % tiles, o = u / (splits * tiles);
    const int64_t c = tile * 32 + tx;
    const int64_t begin = s * chunk, end = min(n, begin + chunk);
    Acc acc = identity<Acc>(p.comb);
    if (c < inner) {
      const In* xc = x + o * n * inner + c;
      int64_t j = begin + ty;
      for (; j + 24 < end; j += 32) {
        Acc v[4];
#pragma unroll
        for (int t = 0; t < 4; ++t) v[t] = Acc(to_compute(xc[(j + 8 * t) * inner]));
#pragma unroll
        for (int t = 0; t < 4; ++t) acc = combine(p.comb, acc, p.square ? v[t] * v[t] : v[t]);
      }
      for (; j < end; j += 8) {
        const Acc v = Acc(to_compute(xc[j * inner]));
        acc = combine(p.comb, acc, p.square ? v * v : v);
      }
    }
    __syncthreads();
    partial[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && c < inner) {
      Acc r = partial[0][tx];
      for (int t = 1; t < 8; ++t) r = combine(p.comb, r, partial[t][tx]);
      out[(o * splits + s) * inner + c] = from_compute<Out>(r * p.scale);
    }
  }
}

// How a reduction is split: `splits` partial results per output (1: a single pass).
struct Plan {
  int64_t splits = 1;
  int64_t chunk = 0;
};

Plan plan_for(int64_t outer, int64_t n, int64_t inner) {
  Plan p;
  if (inner == 1) {
    if (outer < 256 && n > 16384)
      p.splits = std::clamp<int64_t>((n + 8191) / 8192, 1, std::max<int64_t>(1, 1024 / outer));
  } else {
    const int64_t tiles = outer * ((inner + 31) / 32);
    if (tiles < 256 && n > 512) p.splits = std::clamp<int64_t>((n + 255) / 256, 1, std::max<int64_t>(1, 1024 / tiles));
  }
  p.chunk = (n + p.splits - 1) / p.splits;
  return p;
}

int threads_per_row(int64_t n) {
  if (n <= 64) return 32;
  if (n <= 256) return 64;
  if (n <= 1024) return 128;
  return 256;
}

template <typename In, typename Acc, typename Out> void launch_pass(const In* x, Out* out, int64_t outer, int64_t n,
                                                                    int64_t inner, int64_t splits, int64_t chunk,
                                                                    PassArgs<Acc> p, cudaStream_t stream) {
  if (inner == 1) {
    const int tpr = threads_per_row(std::min(n, chunk));
    const dim3 block(tpr, kThreads / tpr);
    const int64_t units = outer * splits;
    reduce_rows_kernel<In, Acc, Out>
        <<<grid_for(units, int(block.y)), block, 0, stream>>>(x, out, outer, n, splits, chunk, p);
  } else {
    const dim3 block(32, 8);
    const int64_t units = outer * ((inner + 31) / 32) * splits;
    reduce_cols_kernel<In, Acc, Out>
        <<<grid_for(units, 1), block, 0, stream>>>(x, out, outer, n, inner, splits, chunk, p);
  }
}

template <typename T, typename Out> void launch_reduce(ReduceKind op, const void* xv, void* outv, int64_t outer,
                                                       int64_t n, int64_t inner, void* workspace, cudaStream_t stream) {
  using Acc = compute_t<T>;
  const T* x = static_cast<const T*>(xv);
  Out* out = static_cast<Out*>(outv);
  const Combine comb = op == ReduceKind::Max ? Combine::Max : op == ReduceKind::Min ? Combine::Min : Combine::Sum;
  const bool square = op == ReduceKind::SumSquares;
  const Acc final_scale = op == ReduceKind::Mean ? Acc(1.0 / double(std::max<int64_t>(n, 1))) : Acc(1);
  const Plan plan = plan_for(outer, n, inner);
  if (plan.splits == 1) {
    launch_pass<T, Acc, Out>(x, out, outer, n, inner, 1, n, PassArgs<Acc>{comb, square, final_scale}, stream);
    return;
  }
  Acc* partial = static_cast<Acc*>(workspace);
  launch_pass<T, Acc, Acc>(x, partial, outer, n, inner, plan.splits, plan.chunk, PassArgs<Acc>{comb, square, Acc(1)},
                           stream);
  launch_pass<Acc, Acc, Out>(partial, out, outer, plan.splits, inner, 1, plan.splits,
                             PassArgs<Acc>{comb, false, final_scale}, stream);
}

// ---------------------------------------------------------------- arg-reduce

// True when (v, i) should replace (bv, bi): NaN first (lowest index), then the extreme, ties by index.
template <typename C> __device__ __forceinline__ bool arg_better(bool is_max, C v, int64_t i, C bv, int64_t bi) {
  if (bi < 0) return true;
  const bool vn = math::isnan_(v), bn = math::isnan_(bv);
  if (bn) return vn && i < bi;
  if (vn) return true;
  if (v != bv) return is_max ? v > bv : v < bv;
  return i < bi;
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    arg_rows_kernel(const T* x, int64_t* out, int64_t rows, int64_t n, bool is_max) {
  using C = compute_t<T>;
  __shared__ C sv[kThreads / 32];
  __shared__ int64_t si[kThreads / 32];
  const int tx = threadIdx.x, ty = threadIdx.y, tpr = blockDim.x, wpr = tpr / 32;
  for (int64_t base = int64_t(blockIdx.x) * blockDim.y; base < rows; base += int64_t(gridDim.x) * blockDim.y) {
    const int64_t row = base + ty;
    C bv = C(0);
    int64_t bi = -1;
    if (row < rows) {
      const T* xr = x + row * n;
      for (int64_t j = tx; j < n; j += tpr) {
        const C v = to_compute(xr[j]);
        if (arg_better(is_max, v, j, bv, bi)) {
          bv = v;
          bi = j;
        }
      }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const C ov = __shfl_xor_sync(0xffffffffu, bv, o);
      const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
      if (oi >= 0 && arg_better(is_max, ov, oi, bv, bi)) {
        bv = ov;
        bi = oi;
      }
    }
    __syncthreads();
    if (tx % 32 == 0) {
      sv[ty * wpr + tx / 32] = bv;
      si[ty * wpr + tx / 32] = bi;
    }
    __syncthreads();
    if (tx == 0 && row < rows) {
      C rv = sv[ty * wpr];
      int64_t ri = si[ty * wpr];
      for (int w = 1; w < wpr; ++w) {
        const int64_t oi = si[ty * wpr + w];
        if (oi >= 0 && arg_better(is_max, sv[ty * wpr + w], oi, rv, ri)) {
          rv = sv[ty * wpr + w];
          ri = oi;
        }
      }
      out[row] = ri < 0 ? 0 : ri;
    }
  }
}

// inner > 1: one thread per output scans its column in order (exactly the CPU loop).
template <typename T> __global__ void __launch_bounds__(kThreads)
    arg_cols_kernel(const T* x, int64_t* out, int64_t outer, int64_t n, int64_t inner, bool is_max) {
  using C = compute_t<T>;
  const int64_t lines = outer * inner;
  for (int64_t l = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; l < lines; l += int64_t(gridDim.x) * blockDim.x) {
    const T* p = x + (l / inner) * n * inner + (l % inner);
    C bv = C(0);
    int64_t bi = -1;
    for (int64_t j = 0; j < n; ++j) {
      const C v = to_compute(p[j * inner]);
      if (arg_better(is_max, v, j, bv, bi)) {
        bv = v;
        bi = j;
      }
    }
    out[l] = bi < 0 ? 0 : bi;
  }
}

}  // namespace

size_t reduce_workspace_bytes(KDType dtype, int64_t outer, int64_t n, int64_t inner) {
  const Plan plan = plan_for(outer, n, inner);
  if (plan.splits == 1) return 0;
  const size_t acc = (dtype == KDType::F32 || dtype == KDType::F16 || dtype == KDType::BF16) ? 4 : 8;
  return size_t(outer) * size_t(plan.splits) * size_t(inner) * acc;
}

cudaError_t reduce(ReduceKind op, KDType dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner,
                   void* workspace, cudaStream_t stream, KDType out_dtype) {
  if (outer * inner <= 0) return cudaSuccess;
  if (out_dtype != dtype) {
    // f32 results of 16-bit inputs: a sum of squares of f16 values overflows f16 long before its root does.
    if (out_dtype != KDType::F32) return cudaErrorInvalidValue;
    const bool ok = dtype == KDType::F16 || dtype == KDType::BF16;
    if (dtype == KDType::F16) launch_reduce<__half, float>(op, x, out, outer, n, inner, workspace, stream);
    if (dtype == KDType::BF16) launch_reduce<__nv_bfloat16, float>(op, x, out, outer, n, inner, workspace, stream);
    return launch_status(ok);
  }
  const bool ok =
      dispatch_all(dtype, [&]<typename T>() { launch_reduce<T, T>(op, x, out, outer, n, inner, workspace, stream); });
  return launch_status(ok);
}

cudaError_t arg_reduce(ArgReduceKind op, KDType dtype, const void* x, int64_t* out, int64_t outer, int64_t n,
                       int64_t inner, cudaStream_t stream) {
  if (outer * inner <= 0) return cudaSuccess;
  const bool is_max = op == ArgReduceKind::ArgMax;
  const bool ok = dispatch_all(dtype, [&]<typename T>() {
    const T* xp = static_cast<const T*>(x);
    if (inner == 1) {
      const int tpr = threads_per_row(n);
      const dim3 block(tpr, kThreads / tpr);
      arg_rows_kernel<T><<<grid_for(outer, int(block.y)), block, 0, stream>>>(xp, out, outer, n, is_max);
    } else {
      arg_cols_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(xp, out, outer, n, inner, is_max);
    }
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
