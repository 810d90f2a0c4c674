// Index primitives.
//   index_select: out[o, i, :] = x[o, idx[i], :] — a row copy, in 16-byte units when rows allow.
//   index_add:    out[o, idx[i], :] += src[o, i, :] — one thread per output column (o, j) walks i in order,
//                 so colliding indices add in index order (the CPU's order): deterministic without atomics
//                 or sorting. To keep several loads in flight, 8 indices at a time are loaded together and
//                 collisions inside the group are resolved in registers before the (ordered) stores.
//   gather:       out[i] = x[coords(i) with coords[dim] = idx[i]].
//   scatter_add:  out[coords(i) with coords[dim] = idx[i]] += src[i] — one thread per line along dim walks
//                 the line in order (only elements of one line can collide), again deterministic.
// Sums compute in f32 (f64 for f64/integers) and round to the storage dtype after every add, as the CPU.
// Out-of-range indices are skipped (gather/index_select write 0) and the first one is recorded in the
// device error record.
#include "kernels/device_common.cuh"
#include "kernels/index.h"

namespace clipt::kernels {

namespace {

template <typename W> __global__ void __launch_bounds__(kThreads)
    index_select_kernel(const W* x, const int64_t* idx, W* out, int64_t outer, int64_t n, int64_t inner, int64_t m,
                        DeviceErrorRecord* errors) {
  const int64_t total = outer * m * inner;
  for (int64_t w = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; w < total; w += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = w % inner, row = w / inner;
    const int64_t i = row % m, o = row / m;
    const int64_t k = idx[i];
    if (k < 0 || k >= n) {
      if (j == 0 && o == 0) report_device_error(errors, DeviceErrorCode::IndexSelect, k, i, n);
      out[w] = W{};
      continue;
    }
    out[w] = x[(o * n + k) * inner + j];
  }
}

template <int Bytes> void launch_index_select(const void* x, const int64_t* idx, void* out, int64_t outer, int64_t n,
                                              int64_t inner, int64_t m, DeviceErrorRecord* errors,
                                              cudaStream_t stream) {
  using W = typename Word<Bytes>::type;
  index_select_kernel<W><<<grid_for(outer * m * inner), kThreads, 0, stream>>>(
      static_cast<const W*>(x), idx, static_cast<W*>(out), outer, n, inner, m, errors);
}

constexpr int kGroup = 8;

template <typename T> __global__ void __launch_bounds__(kThreads)
    index_add_kernel(T* out, const int64_t* idx, const T* src, int64_t outer, int64_t n, int64_t inner, int64_t m,
                     DeviceErrorRecord* errors) {
  using C = compute_t<T>;
  const int64_t columns = outer * inner;
  for (int64_t col = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; col < columns;
       col += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = col / inner, j = col % inner;
    T* out_base = out + o * n * inner + j;
    const T* src_base = src + o * m * inner + j;
    for (int64_t i0 = 0; i0 < m; i0 += kGroup) {
      int64_t row[kGroup];
      C cur[kGroup], add[kGroup];
#pragma unroll
      for (int t = 0; t < kGroup; ++t) {
        row[t] = -1;
        if (i0 + t < m) {
          const int64_t k = idx[i0 + t];
          if (k < 0 || k >= n) {
            if (col == 0) report_device_error(errors, DeviceErrorCode::IndexAdd, k, i0 + t, n);
          } else {
            row[t] = k;
          }
        }
      }
#pragma unroll
      for (int t = 0; t < kGroup; ++t) {
        if (row[t] >= 0) {
          cur[t] = to_compute(out_base[row[t] * inner]);
          add[t] = to_compute(src_base[(i0 + t) * inner]);
        }
      }
      // Sequential semantics inside the group: an index seen earlier in the group continues from the
      // value that earlier add produced (rounded to T, as it would have been stored).
#pragma unroll
      for (int t = 0; t < kGroup; ++t) {
        if (row[t] < 0) continue;
        C v = cur[t];
#pragma unroll
        for (int e = 0; e < t; ++e)
          if (row[e] == row[t]) v = cur[e];
        cur[t] = to_compute(from_compute<T>(v + add[t]));
      }
#pragma unroll
      for (int t = 0; t < kGroup; ++t)
        if (row[t] >= 0) out_base[row[t] * inner] = from_compute<T>(cur[t]);
    }
  }
}

template <typename W> __global__ void __launch_bounds__(kThreads)
    gather_kernel(const W* x, const int64_t* idx, W* out, int64_t total, GatherGeometry g, DeviceErrorRecord* errors) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = idx[i];
    if (k < 0 || k >= g.target_dim_size) {
      report_device_error(errors, DeviceErrorCode::Gather, k, i, g.target_dim_size);
      out[i] = W{};
      continue;
    }
    int64_t rem = i, off = 0;
    for (int d = g.ndim - 1; d >= 0; --d) {
      const int64_t c = rem % g.index_sizes[d];
      rem /= g.index_sizes[d];
      off += (d == g.dim ? k : c) * g.target_strides[d];
    }
    out[i] = x[off];
  }
}

template <int Bytes> void launch_gather(const void* x, const int64_t* idx, void* out, int64_t total,
                                        const GatherGeometry& g, DeviceErrorRecord* errors, cudaStream_t stream) {
  using W = typename Word<Bytes>::type;
  gather_kernel<W>
      <<<grid_for(total), kThreads, 0, stream>>>(static_cast<const W*>(x), idx, static_cast<W*>(out), total, g, errors);
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    scatter_add_kernel(T* out, const int64_t* idx, const T* src, int64_t lines, GatherGeometry g,
                       DeviceErrorRecord* errors) {
  using C = compute_t<T>;
  const int64_t len = g.index_sizes[g.dim];
  for (int64_t l = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; l < lines; l += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = l, src_base = 0, out_base = 0;
    for (int d = g.ndim - 1; d >= 0; --d) {
      if (d == g.dim) continue;
      const int64_t c = rem % g.index_sizes[d];
      rem /= g.index_sizes[d];
      src_base += c * g.index_strides[d];
      out_base += c * g.target_strides[d];
    }
    for (int64_t t = 0; t < len; ++t) {
      const int64_t s = src_base + t * g.index_strides[g.dim];
      const int64_t k = idx[s];
      if (k < 0 || k >= g.target_dim_size) {
        report_device_error(errors, DeviceErrorCode::ScatterAdd, k, s, g.target_dim_size);
        continue;
      }
      T* dst = out + out_base + k * g.target_strides[g.dim];
      *dst = from_compute<T>(to_compute(*dst) + to_compute(src[s]));
    }
  }
}

}  // namespace

cudaError_t index_select(size_t elem_bytes, const void* x, const int64_t* idx, void* out, int64_t outer, int64_t n,
                         int64_t inner, int64_t m, DeviceErrorRecord* errors, cudaStream_t stream) {
  if (outer * m * inner <= 0) return cudaSuccess;
  const size_t row_bytes = size_t(inner) * elem_bytes;
  if (row_bytes % 16 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0) {
    launch_index_select<16>(x, idx, out, outer, n, int64_t(row_bytes / 16), m, errors, stream);
    return cudaGetLastError();
  }
  switch (elem_bytes) {
    case 1: launch_index_select<1>(x, idx, out, outer, n, inner, m, errors, stream); break;
    case 2: launch_index_select<2>(x, idx, out, outer, n, inner, m, errors, stream); break;
    case 4: launch_index_select<4>(x, idx, out, outer, n, inner, m, errors, stream); break;
    case 8: launch_index_select<8>(x, idx, out, outer, n, inner, m, errors, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t index_add(KDType dtype, void* out, const int64_t* idx, const void* src, int64_t outer, int64_t n,
                      int64_t inner, int64_t m, DeviceErrorRecord* errors, cudaStream_t stream) {
  if (outer * m * inner <= 0) return cudaSuccess;
  const bool ok = dispatch_all(dtype, [&]<typename T>() {
    index_add_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(
        static_cast<T*>(out), idx, static_cast<const T*>(src), outer, n, inner, m, errors);
  });
  return launch_status(ok);
}

cudaError_t gather(size_t elem_bytes, const void* x, const int64_t* idx, void* out, int64_t total,
                   const GatherGeometry& geo, DeviceErrorRecord* errors, cudaStream_t stream) {
  if (total <= 0) return cudaSuccess;
  switch (elem_bytes) {
    case 1: launch_gather<1>(x, idx, out, total, geo, errors, stream); break;
    case 2: launch_gather<2>(x, idx, out, total, geo, errors, stream); break;
    case 4: launch_gather<4>(x, idx, out, total, geo, errors, stream); break;
    case 8: launch_gather<8>(x, idx, out, total, geo, errors, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t scatter_add(KDType dtype, void* out, const int64_t* idx, const void* src, int64_t total,
                        const GatherGeometry& geo, DeviceErrorRecord* errors, cudaStream_t stream) {
  if (total <= 0) return cudaSuccess;
  const int64_t len = geo.index_sizes[geo.dim];
  if (len <= 0) return cudaSuccess;
  const int64_t lines = total / len;
  const bool ok = dispatch_all(dtype, [&]<typename T>() {
    scatter_add_kernel<T><<<grid_for(lines), kThreads, 0, stream>>>(static_cast<T*>(out), idx,
                                                                    static_cast<const T*>(src), lines, geo, errors);
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
