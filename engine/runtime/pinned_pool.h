// The CUDA side of the pinned-buffer pool (engine/runtime/pinned_host.cpp), for the copy code: an
// asynchronous host→device copy out of a pooled pinned buffer records that `stream` reads it, so the
// buffer returns to the pool only after that read (an event), never by synchronising the device.
#pragma once
#include <cuda_runtime_api.h>

namespace clipt {

// Records (or re-records) an event on `stream` after the copy just enqueued out of pinned address `p`;
// a pointer outside the pool's blocks is ignored.
void record_pinned_read(const void* p, int device, cudaStream_t stream);

}  // namespace clipt
