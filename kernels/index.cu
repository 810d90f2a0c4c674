// Index primitives.
//   index_select: out[o, i, :] = x[o, idx[i], :] — a row copy, in 16-byte units when rows allow.
//   index_add:    out[o, k, :] += Σ_{i: idx[i] = k} src[o, i, :] — the indices are radix-sorted (stable, with
//                 their positions), then one thread per (run of equal indices, column) sums the run in index
//                 order in the compute type and adds it once: deterministic without atomics, parallel over
//                 indices and columns, and one rounding per destination element (the CPU does the same).
//   gather:       out[i] = x[coords(i) with coords[dim] = idx[i]].
//   scatter_add:  out[coords(i) with coords[dim] = idx[i]] += src[i] — one thread per line along dim walks
//                 the line in order (only elements of one line can collide), again deterministic.
// Sums compute in f32 (f64 for f64/integers), as the CPU; scatter_add rounds after every add, index_add once.
// Out-of-range indices are skipped (gather/index_select write 0) and the first one is recorded in the
// device error record.
#include <algorithm>
#include <cub/device/device_radix_sort.cuh>

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

// index_add, step 1: radix-sort keys (the destination row, or `n` for an out-of-range index, which is
// recorded and later skipped) and the positions 0..m-1 that the stable sort carries along.
__global__ void __launch_bounds__(kThreads)
    index_add_keys_kernel(const int64_t* idx, uint32_t* keys, int32_t* positions, int64_t n, int64_t m,
                          DeviceErrorRecord* errors) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < m; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = idx[i];
    const bool ok = k >= 0 && k < n;
    if (!ok) report_device_error(errors, DeviceErrorCode::IndexAdd, k, i, n);
    keys[i] = uint32_t(ok ? k : n);
    positions[i] = int32_t(i);
  }
}

// index_add, step 2: one thread per (outer, sorted position, column). The thread at the first position
// of a run of equal keys sums that run's source rows in index order (the sort is stable) in the compute
// type and adds the sum to the destination once, rounding once. Columns are the fastest index, so the
// reads and the write of a warp are coalesced.
template <typename T> __global__ void __launch_bounds__(kThreads)
    index_add_runs_kernel(T* out, const uint32_t* keys, const int32_t* positions, const T* src, int64_t outer,
                          int64_t n, int64_t inner, int64_t m) {
  using C = compute_t<T>;
  const int64_t total = outer * m * inner;
  for (int64_t w = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; w < total; w += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = w % inner, row = w / inner;
    const int64_t p = row % m, o = row / m;
    const uint32_t k = keys[p];
    if (int64_t(k) >= n || (p > 0 && keys[p - 1] == k)) continue;
    C acc = C(0);
    for (int64_t q = p; q < m && keys[q] == k; ++q) acc += to_compute(src[(o * m + positions[q]) * inner + j]);
    T* dst = out + (o * n + int64_t(k)) * inner + j;
    *dst = from_compute<T>(to_compute(*dst) + acc);
  }
}

// Bytes of each part of the index_add workspace, each rounded up to 256 so every part stays aligned.
struct IndexAddWorkspace {
  size_t keys = 0, positions = 0, sort = 0;
  size_t total() const { return 2 * keys + 2 * positions + sort; }
};

constexpr size_t round256(size_t b) { return (b + 255) / 256 * 256; }

int key_bits(int64_t n) {  // bits that hold the keys 0..n
  int bits = 1;
  while (bits < 32 && (uint64_t(1) << bits) <= uint64_t(n)) ++bits;
  return bits;
}

IndexAddWorkspace index_add_layout(int64_t n, int64_t m) {
  IndexAddWorkspace w;
  w.keys = round256(size_t(m) * sizeof(uint32_t));
  w.positions = round256(size_t(m) * sizeof(int32_t));
  size_t sort = 0;
  cub::DeviceRadixSort::SortPairs(nullptr, sort, static_cast<const uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr),
                                  static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), int(m), 0,
                                  key_bits(n));
  w.sort = round256(std::max<size_t>(sort, 1));
  return w;
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

size_t index_add_workspace_bytes(int64_t n, int64_t m) {
  if (m <= 0) return 0;
  return index_add_layout(n, m).total();
}

cudaError_t index_add(KDType dtype, void* out, const int64_t* idx, const void* src, int64_t outer, int64_t n,
                      int64_t inner, int64_t m, void* workspace, DeviceErrorRecord* errors, cudaStream_t stream) {
  if (outer * m * inner <= 0) return cudaSuccess;
  if (m >= (int64_t(1) << 31) || n >= (int64_t(1) << 32) - 1) return cudaErrorInvalidValue;
  const IndexAddWorkspace w = index_add_layout(n, m);
  char* base = static_cast<char*>(workspace);
  auto* keys_in = reinterpret_cast<uint32_t*>(base);
  auto* keys_out = reinterpret_cast<uint32_t*>(base + w.keys);
  auto* pos_in = reinterpret_cast<int32_t*>(base + 2 * w.keys);
  auto* pos_out = reinterpret_cast<int32_t*>(base + 2 * w.keys + w.positions);
  void* sort_temp = base + 2 * w.keys + 2 * w.positions;
  index_add_keys_kernel<<<grid_for(m), kThreads, 0, stream>>>(idx, keys_in, pos_in, n, m, errors);
  size_t sort_bytes = w.sort;
  const cudaError_t sorted = cub::DeviceRadixSort::SortPairs(sort_temp, sort_bytes, keys_in, keys_out, pos_in, pos_out,
                                                             int(m), 0, key_bits(n), stream);
  if (sorted != cudaSuccess) return sorted;
  const bool ok = dispatch_all(dtype, [&]<typename T>() {
    index_add_runs_kernel<T><<<grid_for(outer * m * inner), kThreads, 0, stream>>>(
        static_cast<T*>(out), keys_out, pos_out, static_cast<const T*>(src), outer, n, inner, m);
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
