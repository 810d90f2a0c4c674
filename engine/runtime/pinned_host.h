// Page-locked ("pinned") host memory for host↔device transfers: copies from or to it run asynchronously
// on the stream and at full PCIe speed. The data loader stages batches here. In a build without CUDA, or
// when no device is present, these return ordinary host memory, so callers need no #ifdef.
//
// Asynchrony contract: Tensor::to(cuda) of a pinned tensor returns before the copy has run; do not write
// into that pinned buffer again until the stream has passed the copy (e.g. cuda::synchronize(device), or
// ping-pong between two buffers across a synchronising step). Dropping the tensor is always safe: its
// buffer goes back to a pool and is handed out again only after an event recorded behind every copy out
// of it has completed (no device synchronisation). Copies to the host always complete before returning,
// because the caller reads the buffer right after.
#pragma once
#include <cstddef>
#include <memory>

#include "engine/core/tensor.h"

namespace clipt {

std::shared_ptr<Storage> allocate_pinned_host(size_t nbytes);
// An uninitialised contiguous CPU tensor backed by pinned memory.
Tensor pinned_empty(const Shape& shape, DType dtype);
// True when p points into page-locked host memory registered with CUDA.
bool is_pinned_host(const void* p);

}  // namespace clipt
