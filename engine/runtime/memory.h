// Device memory from CUDA's stream-ordered allocator: cudaMallocAsync on the device's default pool (its
// release threshold set to the maximum, so freed blocks are reused instead of going back to the driver),
// freed with cudaFreeAsync on the stream the block was allocated on. No caching allocator of our own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/core/storage.h"

namespace clipt::cuda {

// `nbytes` of device memory on cuda:`device`, ordered on this thread's current stream. On out-of-memory the
// device is synchronised (pending frees complete) and the allocation retried once before raising.
std::shared_ptr<Storage> allocate_device(size_t nbytes, int device);

struct PoolStats {
  uint64_t reserved_current = 0;  // bytes the pool holds from the driver
  uint64_t reserved_high = 0;
  uint64_t used_current = 0;  // bytes handed out to live allocations
  uint64_t used_high = 0;
};

PoolStats pool_stats(int device);
void reset_pool_peaks(int device);  // high-water marks back to the current values

}  // namespace clipt::cuda
