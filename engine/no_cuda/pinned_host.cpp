// Without CUDA there is no page-locked memory to ask for: "pinned" buffers are ordinary host memory, so
// the data loader and other callers use one code path in both builds.
#include "engine/runtime/pinned_host.h"

#include "engine/core/capture_guard.h"

namespace clipt {

std::shared_ptr<Storage> allocate_pinned_host(size_t nbytes) {
  refuse_during_any_capture("a pinned host allocation");  // the same rule as the CUDA build's
  return allocate_storage(nbytes, Device::cpu());
}

Tensor pinned_empty(const Shape& shape, DType dtype) {
  for (auto d : shape) CLIPT_CHECK(d >= 0, "pinned_empty: negative dimension in shape {}", shape_str(shape));
  auto storage = allocate_pinned_host(size_t(numel_of(shape)) * dtype_size(dtype));
  return Tensor::make_view(storage, shape, contiguous_strides(shape), 0, dtype);
}

bool is_pinned_host(const void*) { return false; }

}  // namespace clipt
