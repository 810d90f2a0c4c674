// Copies and casts. strided_copy moves element bits between two arbitrary strided views (transpose,
// permute, narrow, cat windows) with one kernel per element size; cast converts dtypes the way the CPU
// backend does (read in the source's compute type — f32 for f32/f16/bf16, f64 otherwise — then narrow:
// 16-bit floats round to nearest even, bool is "non-zero", integers truncate); fill writes a bit pattern
// with 128-bit stores.
#include <cstring>

#include "kernels/copy.h"
#include "kernels/elementwise_map.cuh"

namespace clipt::kernels {

namespace {

template <typename W> __global__ void __launch_bounds__(kThreads)
    strided_copy_kernel(const W* src, W* dst, int64_t n, Strided<2> geo) {
  const int64_t tid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = tid; i < n; i += step) {
    int64_t off[2];
    strided_offsets(geo, i, off);
    dst[off[1]] = src[off[0]];
  }
}

template <int Bytes>
void launch_strided_copy(const void* src, void* dst, int64_t n, const Strided<2>& geo, cudaStream_t stream) {
  using W = typename Word<Bytes>::type;
  strided_copy_kernel<W>
      <<<grid_for(n), kThreads, 0, stream>>>(static_cast<const W*>(src), static_cast<W*>(dst), n, geo);
}

template <typename In, typename Out> struct CastFn {
  __device__ __forceinline__ Out operator()(In v) const { return from_compute<Out>(to_compute(v)); }
};

template <typename W> __global__ void __launch_bounds__(kThreads) fill_kernel(W* y, int64_t n, W v) {
  const int64_t tid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = tid; i < n; i += step) y[i] = v;
}

template <typename W> void launch_fill(void* y, int64_t n, uint64_t bits, cudaStream_t stream) {
  W v;
  static_assert(sizeof(W) <= 8);
  std::memcpy(&v, &bits, sizeof(W));  // little-endian: the low bytes
  fill_kernel<W><<<grid_for(n), kThreads, 0, stream>>>(static_cast<W*>(y), n, v);
}

}  // namespace

cudaError_t strided_copy(size_t elem_bytes, const void* src, void* dst, int64_t n, const Strided<2>& geo,
                         cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  switch (elem_bytes) {
    case 1: launch_strided_copy<1>(src, dst, n, geo, stream); break;
    case 2: launch_strided_copy<2>(src, dst, n, geo, stream); break;
    case 4: launch_strided_copy<4>(src, dst, n, geo, stream); break;
    case 8: launch_strided_copy<8>(src, dst, n, geo, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t cast(KDType in, KDType out, const void* x, void* y, int64_t n, const Strided<1>* geo, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool ok = dispatch_all(in, [&]<typename In>() {
    dispatch_all(out, [&]<typename Out>() {
      if constexpr (!std::is_same_v<In, Out>)
        launch_map1(static_cast<const In*>(x), static_cast<Out*>(y), n, geo, CastFn<In, Out>{}, stream);
    });
  });
  return launch_status(ok && in != out);
}

cudaError_t fill(size_t elem_bytes, uint64_t bits, void* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  // Fill the 16-byte-aligned body with a replicated 128-bit pattern, the edges element by element.
  const uint64_t mask = elem_bytes >= 8 ? ~uint64_t(0) : ((uint64_t(1) << (8 * elem_bytes)) - 1);
  uint64_t rep = bits & mask;
  for (size_t w = elem_bytes; w < 8; w *= 2) rep |= rep << (8 * w);
  char* p = static_cast<char*>(y);
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  const size_t total = size_t(n) * elem_bytes;
  size_t head = (16 - addr % 16) % 16;
  if (head % elem_bytes != 0 || head > total) head = total;  // misaligned elements: no vector body
  const size_t body = (total - head) / 16 * 16;
  const size_t tail = total - head - body;
  auto fill_elems = [&](char* at, size_t bytes) {
    const int64_t count = int64_t(bytes / elem_bytes);
    if (count == 0) return;
    switch (elem_bytes) {
      case 1: launch_fill<uint8_t>(at, count, bits, stream); break;
      case 2: launch_fill<uint16_t>(at, count, bits, stream); break;
      case 4: launch_fill<uint32_t>(at, count, bits, stream); break;
      case 8: launch_fill<uint64_t>(at, count, bits, stream); break;
    }
  };
  if (elem_bytes != 1 && elem_bytes != 2 && elem_bytes != 4 && elem_bytes != 8) return cudaErrorInvalidValue;
  fill_elems(p, head);
  if (body > 0) {
    uint4 pat;
    pat.x = uint32_t(rep);
    pat.y = uint32_t(rep >> 32);
    pat.z = pat.x;
    pat.w = pat.y;
    fill_kernel<uint4><<<grid_for(int64_t(body / 16)), kThreads, 0, stream>>>(reinterpret_cast<uint4*>(p + head),
                                                                              int64_t(body / 16), pat);
  }
  fill_elems(p + head + body, tail);
  return cudaGetLastError();
}

}  // namespace clipt::kernels
