// normalize_images: ToTensor + Normalize of a planar uint8 image batch on the device,
//   out[b, c, p] = (in[b, c, p] / 255 − mean[c]) / std[c]     (float32, kernels/normalize_images_math.h)
// then rounded to the output dtype. The loader uploads uint8 (4× fewer bytes than float) and this kernel
// turns it into the tower's input; its float32 results equal the CPU loader's table bit for bit (the same
// formula, IEEE division, no fast math). Memory-bound: each thread reads 16 pixels with one 128-bit load
// when the plane length and the pointers allow, and writes them with 128-bit stores; the channel of a
// chunk is (chunk start / plane) mod 3, constant within a chunk because plane % 16 == 0 on the vector path.
#include "kernels/device_common.cuh"
#include "kernels/normalize_images.h"

namespace clipt::kernels {

namespace {

constexpr int kPixelsPerVec = 16;

template <typename T> __device__ __forceinline__ T normalized(uint8_t v, const PixelNorm& n, int c) {
  return from_compute<T>(normalize_pixel(v, n.mean[c], n.std[c]));
}

// Vector path: plane % 16 == 0, in 16-byte aligned, out aligned for its 128-bit stores.
template <typename T> __global__ void __launch_bounds__(kThreads)
    normalize_vec_kernel(const uint8_t* in, T* out, int64_t chunks, int64_t plane, PixelNorm norm) {
  constexpr int W = kVecWidth<T>;  // output elements per 128-bit store
  static_assert(kPixelsPerVec % W == 0);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < chunks; k += stride) {
    const int64_t i = k * kPixelsPerVec;
    const int c = int((i / plane) % 3);
    const Vec<uint8_t, kPixelsPerVec> px = load_vec<uint8_t, kPixelsPerVec>(in + i);
#pragma unroll
    for (int s = 0; s < kPixelsPerVec; s += W) {
      Vec<T, W> o;
#pragma unroll
      for (int t = 0; t < W; ++t) o.v[t] = normalized<T>(px.v[s + t], norm, c);
      store_vec<T, W>(out + i + s, o);
    }
  }
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    normalize_scalar_kernel(const uint8_t* in, T* out, int64_t n, int64_t plane, PixelNorm norm) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = normalized<T>(in[i], norm, int((i / plane) % 3));
}

}  // namespace

cudaError_t normalize_images(KDType dtype, const uint8_t* in, void* out, int64_t batch, int64_t plane,
                             const PixelNorm& norm, cudaStream_t stream) {
  const int64_t n = batch * 3 * plane;
  if (n <= 0) return cudaSuccess;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    constexpr int W = kVecWidth<T>;
    T* o = static_cast<T*>(out);
    if (plane % kPixelsPerVec == 0 && vec_aligned<uint8_t, kPixelsPerVec>(in) && vec_aligned<T, W>(o)) {
      const int64_t chunks = n / kPixelsPerVec;
      normalize_vec_kernel<T><<<grid_for(chunks), kThreads, 0, stream>>>(in, o, chunks, plane, norm);
    } else {
      normalize_scalar_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(in, o, n, plane, norm);
    }
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
