// The engine's CUDA entry points (engine/core/backend.h), the counterpart of engine/no_cuda/no_cuda.cpp,
// plus the CudaBackend members that are not kernels: host transfers and synchronisation.
#include <cstring>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"
#include "engine/runtime/context.h"
#include "engine/runtime/device_errors.h"
#include "engine/runtime/memory.h"

namespace clipt {

bool cuda_available() { return cuda::device_count() > 0; }

int cuda_device_count() { return cuda::device_count(); }

Backend& cuda_backend() {
  if (!cuda_available())
    fail("a CUDA device was requested but none is usable ({}); use --device cpu", cuda::unavailable_reason());
  static cuda::CudaBackend backend;
  return backend;
}

std::shared_ptr<Storage> cuda_allocate(size_t nbytes, int device) { return cuda::allocate_device(nbytes, device); }

namespace cuda {

void CudaBackend::copy_to_host(const Tensor& src, void* dst) {
  LaunchContext lc(src);
  require_contiguous(src, "copy_to_host", "source");
  if (src.nbytes() == 0) return;
  CLIPT_CUDA_CHECK(cudaMemcpyAsync(dst, src.data_ptr(), src.nbytes(), cudaMemcpyDeviceToHost, lc.stream));
  CLIPT_CUDA_CHECK(cudaStreamSynchronize(lc.stream));
  raise_device_errors(lc.device, lc.stream);
}

void CudaBackend::copy_from_host(const void* src, Tensor& dst) {
  Tensor host = Tensor::make_view(wrap_storage(const_cast<void*>(src), dst.nbytes(), Device::cpu(), nullptr),
                                  dst.shape(), contiguous_strides(dst.shape()), 0, dst.dtype());
  require_contiguous(dst, "copy_from_host", "destination");
  cuda_copy_between(host, dst);
}

void CudaBackend::synchronize() {
  for (int d = 0; d < device_count(); ++d)
    if (context_initialised(d)) cuda::synchronize(d);
}

}  // namespace cuda
}  // namespace clipt
