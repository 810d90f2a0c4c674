// normalize_images: the loader's ToTensor + Normalize moved to the device (the loader then stages uint8
// batches, 4× fewer bytes to copy than float). Argument checks here; the backends only compute.
#include "engine/ops/ops.h"

namespace clipt {

Tensor normalize_images(const Tensor& images0, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                        DType dtype) {
  CLIPT_CHECK(images0.dtype() == DType::U8 && images0.dim() == 4 && images0.size(1) == 3,
              "normalize_images: expected uint8 images [B, 3, H, W], got {}", describe(images0));
  CLIPT_CHECK(is_floating(dtype), "normalize_images: output dtype must be floating, got {}", dtype_name(dtype));
  for (size_t c = 0; c < 3; ++c)
    CLIPT_CHECK(std[c] != 0.0f, "normalize_images: std[{}] is zero (mean {}, std {})", c, fmt::join(mean, ", "),
                fmt::join(std, ", "));
  const Tensor images = images0.contiguous();
  Tensor out = Tensor::empty(images.shape(), dtype, images.device());
  if (out.numel() > 0) backend_for(images.device()).normalize_images(images, mean, std, out);
  return out;
}

}  // namespace clipt
