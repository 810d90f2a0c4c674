#include "engine/core/storage.h"

#include <cstdlib>

#include "engine/core/backend.h"
#include "engine/core/error.h"

namespace clipt {

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device) {
  if (device.is_cuda()) return cuda_allocate(nbytes, device.index);
  auto s = std::make_shared<Storage>();
  // 64-byte alignment keeps SIMD loads aligned; at least one cache line so empty tensors have a pointer.
  const size_t rounded = ((nbytes + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  CLIPT_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
  s->data = p;
  s->nbytes = nbytes;
  s->device = device;
  s->owner = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return s;
}

std::shared_ptr<Storage> wrap_storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> owner) {
  auto s = std::make_shared<Storage>();
  s->data = data;
  s->nbytes = nbytes;
  s->device = device;
  s->owner = std::move(owner);
  return s;
}

}  // namespace clipt
