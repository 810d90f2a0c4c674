#include "engine/core/storage.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>

#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "engine/core/host_memory.h"

namespace clipt {

namespace {
std::atomic<uint64_t> host_current{0}, host_peak{0};

void count_host_allocation(uint64_t bytes) {
  const uint64_t now = host_current.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  uint64_t peak = host_peak.load(std::memory_order_relaxed);
  while (now > peak && !host_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {}
}
}  // namespace

HostMemoryStats host_memory_stats() {
  return {host_current.load(std::memory_order_relaxed), host_peak.load(std::memory_order_relaxed)};
}

void reset_host_memory_peak() {
  host_peak.store(host_current.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

namespace {
// glibc serves large blocks with fresh mmap()s, so every activation of every step page-faults its
// memory in again. Keeping large blocks in the heap lets freed ones be reused once training is warm.
void keep_large_blocks_in_heap() {
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1024 << 20);
    return true;
  }();
  (void)once;
}
}  // namespace

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device) {
  if (device.is_cuda()) return cuda_allocate(nbytes, device.index);
  keep_large_blocks_in_heap();
  auto s = std::make_shared<Storage>();
  // 64-byte alignment keeps SIMD loads aligned; at least one cache line so empty tensors have a pointer.
  const size_t rounded = ((nbytes + 63) / 64) * 64;
  const size_t bytes = rounded == 0 ? 64 : rounded;
  void* p = std::aligned_alloc(64, bytes);
  CLIPT_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
  s->data = p;
  s->nbytes = nbytes;
  s->device = device;
  count_host_allocation(bytes);
  s->owner = std::shared_ptr<void>(p, [bytes](void* q) {
    std::free(q);
    host_current.fetch_sub(bytes, std::memory_order_relaxed);
  });
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
