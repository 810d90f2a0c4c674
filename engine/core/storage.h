// A block of memory on one device, shared by every tensor (view) that points into it. The owner
// handle frees it: host memory, a cudaMallocAsync block, or a memory-mapped file kept alive.
#pragma once
#include <cstddef>
#include <memory>

#include "engine/core/device.h"

namespace clipt {

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::shared_ptr<void> owner;  // releases `data` when the last reference goes
};

// Fresh, uninitialised memory of `nbytes` on `device` (64-byte aligned on the host).
std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device);

// Wraps memory owned elsewhere (e.g. an mmap'd checkpoint); `owner` keeps it alive.
std::shared_ptr<Storage> wrap_storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> owner);

}  // namespace clipt
