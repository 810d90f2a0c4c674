#include "engine/runtime/pinned_host.h"

#include <cuda_runtime_api.h>

#include "engine/core/backend.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"

namespace clipt {

std::shared_ptr<Storage> allocate_pinned_host(size_t nbytes) {
  if (!cuda_available()) return allocate_storage(nbytes, Device::cpu());
  void* p = nullptr;
  CLIPT_CUDA_CHECK(cudaHostAlloc(&p, nbytes == 0 ? 1 : nbytes, cudaHostAllocPortable));
  auto s = std::make_shared<Storage>();
  s->data = p;
  s->nbytes = nbytes;
  s->device = Device::cpu();
  s->owner = std::shared_ptr<void>(p, [](void* q) {
    // An asynchronous copy may still read this buffer: wait for the devices before handing it back.
    const int n = cuda::device_count();
    int current = 0;
    (void)cudaGetDevice(&current);
    for (int d = 0; d < n; ++d) {
      if (cudaSetDevice(d) == cudaSuccess) (void)cudaDeviceSynchronize();
    }
    (void)cudaSetDevice(current);
    (void)cudaFreeHost(q);
  });
  return s;
}

Tensor pinned_empty(const Shape& shape, DType dtype) {
  for (auto d : shape) CLIPT_CHECK(d >= 0, "pinned_empty: negative dimension in shape {}", shape_str(shape));
  auto storage = allocate_pinned_host(size_t(numel_of(shape)) * dtype_size(dtype));
  return Tensor::make_view(storage, shape, contiguous_strides(shape), 0, dtype);
}

bool is_pinned_host(const void* p) {
  if (p == nullptr || !cuda_available()) return false;
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return attr.type == cudaMemoryTypeHost;
}

}  // namespace clipt
