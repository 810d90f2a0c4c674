// Launcher of normalize_images: uint8 image batches (as the data loader stages them) to the compute dtype.
#pragma once
#include "kernels/kernel_types.h"
#include "kernels/normalize_images_math.h"

namespace clipt::kernels {

// out[b, c, y, x] = (in[b, c, y, x] / 255 − mean[c]) / std[c] (normalize_images_math.h), rounded to `dtype`
// (f32, f16 or bf16; f64 computes the same float and widens it). in is contiguous uint8 [batch, 3, plane],
// out contiguous of the same shape.
cudaError_t normalize_images(KDType dtype, const uint8_t* in, void* out, int64_t batch, int64_t plane,
                             const PixelNorm& norm, cudaStream_t stream);

}  // namespace clipt::kernels
