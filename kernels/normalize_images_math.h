// The formula of normalize_images, written once for the CPU backend (engine/cpu/normalize_images.cpp), the
// CUDA kernel (kernels/normalize_images.cu) and the data loader's float table (data/transforms.cpp):
//   out = (v / 255 − mean[c]) / std[c]   in float32, v the uint8 pixel of channel c,
// in exactly this order of operations (ToTensor's img.float().div(255), then Normalize's sub_ and div_),
// so that every user gets the same bits as torchvision. ToTensor alone is mean 0, std 1: x − 0 and x / 1
// are exact, so it needs no separate formula. No multiply-add is involved, so no FMA contraction can change
// the result on either side; the kernels are built without fast math (IEEE division).
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define CLIPT_NORM_HD __host__ __device__ __forceinline__
#else
#define CLIPT_NORM_HD inline
#endif

namespace clipt::kernels {

// The per-channel constants, passed by value to the kernel.
struct PixelNorm {
  float mean[3];
  float std[3];
};

CLIPT_NORM_HD float normalize_pixel(uint8_t v, float mean, float std) {
  const float x = float(v) / 255.0f;
  return (x - mean) / std;
}

}  // namespace clipt::kernels
