// normalize_images on CUDA: checks what kernels/normalize_images.cu relies on (contiguous uint8 [B, 3, ...]
// in, a contiguous floating output of the same shape, one device) and launches it.
#include "kernels/normalize_images.h"

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"

namespace clipt::cuda {

void CudaBackend::normalize_images(const Tensor& images, const std::array<float, 3>& mean,
                                   const std::array<float, 3>& std, Tensor& out) {
  LaunchContext lc(images);
  const char* op = "normalize_images";
  CLIPT_CHECK(images.dtype() == DType::U8 && images.dim() >= 2 && images.size(1) == 3,
              "{}: expected uint8 images [B, 3, ...], got {}", op, describe(images));
  require_contiguous(images, op, "images");
  require_cuda(out, lc, op, "output");
  require_contiguous(out, op, "output");
  CLIPT_CHECK(is_floating(out.dtype()) && out.shape() == images.shape(), "{}: output {} does not match images {}", op,
              describe(out), describe(images));
  if (images.numel() == 0) return;
  kernels::PixelNorm norm{};
  for (int c = 0; c < 3; ++c) {
    norm.mean[c] = mean[size_t(c)];
    norm.std[c] = std[size_t(c)];
  }
  const int64_t batch = images.size(0), plane = images.numel() / (batch * 3);
  CLIPT_LAUNCH(lc, kernels::normalize_images(kd(out.dtype()), static_cast<const uint8_t*>(images.data_ptr()),
                                             out.data_ptr(), batch, plane, norm, lc.stream));
}

}  // namespace clipt::cuda
