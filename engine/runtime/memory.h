// Device memory from CUDA's stream-ordered allocator: cudaMallocAsync on the device's default pool (its
// release threshold set to the maximum, so freed blocks are reused instead of going back to the driver),
// freed with cudaFreeAsync on the stream the block was allocated on, behind an event on every other stream
// that used it. No caching allocator of our own.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/core/storage.h"
#include "engine/core/tensor.h"
#include "engine/runtime/capture_ledger.h"

namespace clipt::cuda {

// `nbytes` of device memory on cuda:`device`, ordered on this thread's current stream. On out-of-memory the
// device is synchronised (pending frees complete) and the allocation retried once before raising.
std::shared_ptr<Storage> allocate_device(size_t nbytes, int device);

// Notes that `stream` uses the storage of `t` (a device tensor from allocate_device): when the storage is
// freed, its home stream first waits for an event recorded on `stream`, so the block is not reused while
// work queued there may still touch it (no device synchronisation). The CUDA backend records the current
// stream of every op automatically when it differs from a tensor's home stream; call it for work queued on
// other streams by hand (a raw kernel, a copy on a side stream). A no-op for other tensors.
void record_stream(const Tensor& t, cudaStream_t stream);

// CUDA graph capture (engine/runtime/cuda_graph.cpp): while `ledger` is set for `device`, blocks allocated
// on `stream` (the capturing stream) are recorded as graph allocations, and a block homed on `stream`
// whose last handle goes is freed in the capture only when the capture allocated it; any other is kept
// by the ledger (see capture_ledger.h). A null ledger ends it.
using DeviceCaptureLedger = runtime::CaptureLedger<void*>;
void set_capture_ledger(int device, cudaStream_t stream, std::shared_ptr<DeviceCaptureLedger> ledger);

struct PoolStats {
  uint64_t reserved_current = 0;  // bytes the pool holds from the driver
  uint64_t reserved_high = 0;
  uint64_t used_current = 0;  // bytes handed out to live allocations
  uint64_t used_high = 0;
};

PoolStats pool_stats(int device);
void reset_pool_peaks(int device);  // high-water marks back to the current values

}  // namespace clipt::cuda
