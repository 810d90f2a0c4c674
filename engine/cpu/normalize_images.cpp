// normalize_images on the CPU (the reference of kernels/normalize_images.cu): one plane (image, channel) at a
// time, the float32 formula of kernels/normalize_images_math.h per pixel, rounded to the output dtype.
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "kernels/normalize_images_math.h"

namespace clipt::cpu {

void CpuBackend::normalize_images(const Tensor& images, const std::array<float, 3>& mean,
                                  const std::array<float, 3>& std, Tensor& out) {
  const int64_t planes = images.dim() == 0 ? 0 : images.size(0) * 3;
  const int64_t plane = planes == 0 ? 0 : images.numel() / planes;
  const uint8_t* in = static_cast<const uint8_t*>(images.data_ptr());
  dispatch_floating(out.dtype(), "normalize_images", [&]<typename T>() {
    T* o = static_cast<T*>(out.data_ptr());
    parallel_range(planes, plane, [&](int64_t lo, int64_t hi) {
      for (int64_t p = lo; p < hi; ++p) {
        const size_t c = size_t(p % 3);
        const uint8_t* src = in + p * plane;
        T* dst = o + p * plane;
        for (int64_t i = 0; i < plane; ++i) store(dst + i, kernels::normalize_pixel(src[i], mean[c], std[c]));
      }
    });
  });
}

}  // namespace clipt::cpu
