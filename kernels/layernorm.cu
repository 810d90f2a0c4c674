// Layer normalisation over the last dim of contiguous x [rows, c]:
//   mean = Σx/c, var = Σ(x − mean)²/c (two-pass), rstd = 1/sqrt(var + eps), y = (x − mean)·rstd·w + b.
// Fused variant: h = x + residual is written (rounded to the storage dtype) and normalised in the same pass.
// Backward: with g = dy⊙w and x̂ = (x − mean)·rstd,
//   dx = rstd·(g − Σg/c − x̂·Σ(g⊙x̂)/c),   dw = Σ_rows dy⊙x̂,   db = Σ_rows dy.
// One warp per row (CLIP widths are 512–1280) with 128-bit loads when the row allows; the row is re-read
// from L1 by later passes. dw/db: 32-column × row-chunk blocks write f32 partials, then a second kernel
// sums the chunks of each column in order (deterministic, no atomics). Statistics in f32 (f64 for f64).
#include <algorithm>
#include <initializer_list>

#include "kernels/device_common.cuh"
#include "kernels/layernorm.h"
#include "kernels/math.cuh"

namespace clipt::kernels {

namespace {

constexpr int kRowsPerBlock = 8;  // warp-per-row kernels: blockDim (32, 8)

template <typename T> using stat_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Calls f(j, value) for the elements of a row that this lane owns (vectorised or scalar). Later passes use
// the same mapping, so a lane re-reads exactly the elements it wrote.
template <typename T, typename F>
__device__ __forceinline__ void for_lane(const T* row, int64_t c, bool vec, int lane, F&& f) {
  constexpr int V = kVecWidth<T>;
  if (vec) {
    for (int64_t j = int64_t(lane) * V; j < c; j += 32 * V) {
      const Vec<T, V> v = load_vec<T, V>(row + j);
#pragma unroll
      for (int t = 0; t < V; ++t) f(j + t, to_compute(v.v[t]));
    }
  } else {
    for (int64_t j = lane; j < c; j += 32) f(j, to_compute(row[j]));
  }
}

template <typename T, bool Residual> __global__ void __launch_bounds__(kThreads)
    layernorm_forward_kernel(const T* x, const T* res, T* h, const T* w, const T* b, T* y, stat_t<T>* mean,
                             stat_t<T>* rstd, int64_t rows, int64_t c, compute_t<T> eps, bool vec) {
  using A = compute_t<T>;
  constexpr int V = kVecWidth<T>;
  const int lane = threadIdx.x;
  for (int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t off = row * c;
    const T* src = x + off;
    if constexpr (Residual) {
      if (vec) {
        for (int64_t j = int64_t(lane) * V; j < c; j += 32 * V) {
          const Vec<T, V> a = load_vec<T, V>(x + off + j), r = load_vec<T, V>(res + off + j);
          Vec<T, V> o;
#pragma unroll
          for (int t = 0; t < V; ++t) o.v[t] = from_compute<T>(to_compute(a.v[t]) + to_compute(r.v[t]));
          store_vec<T, V>(h + off + j, o);
        }
      } else {
        for (int64_t j = lane; j < c; j += 32)
          h[off + j] = from_compute<T>(to_compute(x[off + j]) + to_compute(res[off + j]));
      }
      src = h + off;
    }
    A sum = A(0);
    for_lane(src, c, vec, lane, [&](int64_t, A v) { sum += v; });
    const A m = warp_sum(sum) / A(c);
    A sq = A(0);
    for_lane(src, c, vec, lane, [&](int64_t, A v) { sq += (v - m) * (v - m); });
    const A var = warp_sum(sq) / A(c);
    const A rs = A(1) / math::sqrt_(var + eps);
    if (lane == 0) {
      mean[row] = stat_t<T>(m);
      rstd[row] = stat_t<T>(rs);
    }
    T* yr = y + off;
    if (vec) {
      for (int64_t j = int64_t(lane) * V; j < c; j += 32 * V) {
        const Vec<T, V> v = load_vec<T, V>(src + j);
        Vec<T, V> wv, bv, o;
        if (w) wv = load_vec<T, V>(w + j);
        if (b) bv = load_vec<T, V>(b + j);
#pragma unroll
        for (int t = 0; t < V; ++t) {
          A r = (A(to_compute(v.v[t])) - m) * rs;
          if (w) r *= A(to_compute(wv.v[t]));
          if (b) r += A(to_compute(bv.v[t]));
          o.v[t] = from_compute<T>(r);
        }
        store_vec<T, V>(yr + j, o);
      }
    } else {
      for (int64_t j = lane; j < c; j += 32) {
        A r = (A(to_compute(src[j])) - m) * rs;
        if (w) r *= A(to_compute(w[j]));
        if (b) r += A(to_compute(b[j]));
        yr[j] = from_compute<T>(r);
      }
    }
  }
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    layernorm_backward_dx_kernel(const T* dy, const T* x, const T* w, const stat_t<T>* mean, const stat_t<T>* rstd,
                                 T* dx, int64_t rows, int64_t c, bool vec) {
  using A = compute_t<T>;
  constexpr int V = kVecWidth<T>;
  const int lane = threadIdx.x;
  for (int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t off = row * c;
    const A m = A(mean[row]), rs = A(rstd[row]);
    A sum_g = A(0), sum_gx = A(0);
    if (vec) {
      for (int64_t j = int64_t(lane) * V; j < c; j += 32 * V) {
        const Vec<T, V> gv = load_vec<T, V>(dy + off + j), xv = load_vec<T, V>(x + off + j);
        Vec<T, V> wv;
        if (w) wv = load_vec<T, V>(w + j);
#pragma unroll
        for (int t = 0; t < V; ++t) {
          const A g = A(to_compute(gv.v[t])) * (w ? A(to_compute(wv.v[t])) : A(1));
          sum_g += g;
          sum_gx += g * ((A(to_compute(xv.v[t])) - m) * rs);
        }
      }
    } else {
      for (int64_t j = lane; j < c; j += 32) {
        const A g = A(to_compute(dy[off + j])) * (w ? A(to_compute(w[j])) : A(1));
        sum_g += g;
        sum_gx += g * ((A(to_compute(x[off + j])) - m) * rs);
      }
    }
    sum_g = warp_sum(sum_g) / A(c);
    sum_gx = warp_sum(sum_gx) / A(c);
    if (vec) {
      for (int64_t j = int64_t(lane) * V; j < c; j += 32 * V) {
        const Vec<T, V> gv = load_vec<T, V>(dy + off + j), xv = load_vec<T, V>(x + off + j);
        Vec<T, V> wv, o;
        if (w) wv = load_vec<T, V>(w + j);
#pragma unroll
        for (int t = 0; t < V; ++t) {
          const A g = A(to_compute(gv.v[t])) * (w ? A(to_compute(wv.v[t])) : A(1));
          const A xhat = (A(to_compute(xv.v[t])) - m) * rs;
          o.v[t] = from_compute<T>(rs * (g - sum_g - xhat * sum_gx));
        }
        store_vec<T, V>(dx + off + j, o);
      }
    } else {
      for (int64_t j = lane; j < c; j += 32) {
        const A g = A(to_compute(dy[off + j])) * (w ? A(to_compute(w[j])) : A(1));
        const A xhat = (A(to_compute(x[off + j])) - m) * rs;
        dx[off + j] = from_compute<T>(rs * (g - sum_g - xhat * sum_gx));
      }
    }
  }
}

// Rows per chunk of the parameter-gradient partials: chunks ≤ 1024, each at least 32 rows.
int64_t param_chunks(int64_t rows) { return std::clamp<int64_t>((rows + 31) / 32, 1, 1024); }

// Block (32, 8) over (32-column tile, chunk): partial_w/b[chunk, column].
template <typename T> __global__ void __launch_bounds__(kThreads)
    layernorm_param_partials_kernel(const T* dy, const T* x, const stat_t<T>* mean, const stat_t<T>* rstd,
                                    compute_t<T>* partial_w, compute_t<T>* partial_b, int64_t rows, int64_t c,
                                    int64_t chunks, int64_t chunk_rows) {
  using A = compute_t<T>;
  __shared__ A sw[8][33], sb[8][33];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t tiles = (c + 31) / 32;
  for (int64_t u = blockIdx.x; u < tiles * chunks; u += gridDim.x) {
    const int64_t tile = u % tiles, chunk = u / tiles;
    const int64_t col = tile * 32 + tx;
    const int64_t begin = chunk * chunk_rows, end = min(rows, begin + chunk_rows);
    A aw = A(0), ab = A(0);
    if (col < c) {
      for (int64_t r = begin + ty; r < end; r += 8) {
        const A g = A(to_compute(dy[r * c + col]));
        aw += g * ((A(to_compute(x[r * c + col])) - A(mean[r])) * A(rstd[r]));
        ab += g;
      }
    }
    __syncthreads();
    sw[ty][tx] = aw;
    sb[ty][tx] = ab;
    __syncthreads();
    if (ty == 0 && col < c) {
      A tw = sw[0][tx], tb = sb[0][tx];
      for (int t = 1; t < 8; ++t) {
        tw += sw[t][tx];
        tb += sb[t][tx];
      }
      partial_w[chunk * c + col] = tw;
      partial_b[chunk * c + col] = tb;
    }
  }
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    layernorm_param_finalize_kernel(const compute_t<T>* partial_w, const compute_t<T>* partial_b, T* dw, T* db,
                                    int64_t c, int64_t chunks) {
  using A = compute_t<T>;
  for (int64_t col = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; col < c; col += int64_t(gridDim.x) * blockDim.x) {
    A tw = A(0), tb = A(0);
    for (int64_t k = 0; k < chunks; ++k) {
      tw += partial_w[k * c + col];
      tb += partial_b[k * c + col];
    }
    if (dw) dw[col] = from_compute<T>(tw);
    if (db) db[col] = from_compute<T>(tb);
  }
}

template <typename T> bool row_vectorisable(int64_t c, std::initializer_list<const void*> ptrs) {
  constexpr int V = kVecWidth<T>;
  if (c % V != 0) return false;
  for (const void* p : ptrs)
    if (p != nullptr && !vec_aligned<T, V>(p)) return false;
  return true;
}

template <bool Residual> cudaError_t launch_forward(KDType dtype, const void* x, const void* res, void* h,
                                                    const void* w, const void* b, void* y, void* mean, void* rstd,
                                                    int64_t rows, int64_t c, double eps, cudaStream_t stream) {
  if (rows <= 0 || c <= 0) return cudaSuccess;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using S = stat_t<T>;
    const bool vec = row_vectorisable<T>(c, {x, res, h, w, b, y});
    layernorm_forward_kernel<T, Residual><<<grid_for(rows, kRowsPerBlock), dim3(32, kRowsPerBlock), 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(res), static_cast<T*>(h), static_cast<const T*>(w),
        static_cast<const T*>(b), static_cast<T*>(y), static_cast<S*>(mean), static_cast<S*>(rstd), rows, c,
        compute_t<T>(eps), vec);
  });
  return launch_status(ok);
}

}  // namespace

cudaError_t layernorm_forward(KDType dtype, const void* x, const void* w, const void* b, void* y, void* mean,
                              void* rstd, int64_t rows, int64_t c, double eps, cudaStream_t stream) {
  return launch_forward<false>(dtype, x, nullptr, nullptr, w, b, y, mean, rstd, rows, c, eps, stream);
}

cudaError_t residual_layernorm_forward(KDType dtype, const void* x, const void* residual, void* h, const void* w,
                                       const void* b, void* y, void* mean, void* rstd, int64_t rows, int64_t c,
                                       double eps, cudaStream_t stream) {
  return launch_forward<true>(dtype, x, residual, h, w, b, y, mean, rstd, rows, c, eps, stream);
}

cudaError_t layernorm_backward_dx(KDType dtype, const void* dy, const void* x, const void* w, const void* mean,
                                  const void* rstd, void* dx, int64_t rows, int64_t c, cudaStream_t stream) {
  if (rows <= 0 || c <= 0) return cudaSuccess;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using S = stat_t<T>;
    const bool vec = row_vectorisable<T>(c, {dy, x, w, dx});
    layernorm_backward_dx_kernel<T><<<grid_for(rows, kRowsPerBlock), dim3(32, kRowsPerBlock), 0, stream>>>(
        static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const S*>(mean),
        static_cast<const S*>(rstd), static_cast<T*>(dx), rows, c, vec);
  });
  return launch_status(ok);
}

size_t layernorm_param_grad_workspace_bytes(KDType dtype, int64_t rows, int64_t c) {
  const size_t acc = dtype == KDType::F64 ? 8 : 4;
  return 2 * size_t(param_chunks(rows)) * size_t(c) * acc;
}

cudaError_t layernorm_backward_params(KDType dtype, const void* dy, const void* x, const void* mean, const void* rstd,
                                      void* dw, void* db, int64_t rows, int64_t c, void* workspace,
                                      cudaStream_t stream) {
  if (c <= 0 || (dw == nullptr && db == nullptr)) return cudaSuccess;
  const int64_t chunks = param_chunks(rows);
  const int64_t chunk_rows = (rows + chunks - 1) / chunks;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using S = stat_t<T>;
    using A = compute_t<T>;
    A* pw = static_cast<A*>(workspace);
    A* pb = pw + chunks * c;
    const int64_t units = chunks * ((c + 31) / 32);
    layernorm_param_partials_kernel<T><<<grid_for(units, 1), dim3(32, 8), 0, stream>>>(
        static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const S*>(mean), static_cast<const S*>(rstd),
        pw, pb, rows, c, chunks, std::max<int64_t>(chunk_rows, 1));
    layernorm_param_finalize_kernel<T>
        <<<grid_for(c), kThreads, 0, stream>>>(pw, pb, static_cast<T*>(dw), static_cast<T*>(db), c, chunks);
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
