// Pinned host buffers from a pool: a buffer whose last tensor goes while an asynchronous host→device copy
// may still read it waits behind one event per stream that read it (recorded by the copy, see
// record_pinned_read) and is reused only once those events have completed; nothing synchronises the device
// (engine/runtime/deferred_release.h has the logic, tested on the CPU). Pool blocks are never handed back
// to the driver: the loader's staging buffers are few and reused every batch.
#include "engine/runtime/pinned_host.h"

#include <cuda_runtime_api.h>

#include <map>
#include <mutex>

#include "engine/core/backend.h"
#include "engine/core/capture_guard.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/deferred_release.h"
#include "engine/runtime/pinned_pool.h"

namespace clipt {

namespace {

struct Block {
  size_t capacity = 0;
  std::map<cudaStream_t, cudaEvent_t> last_reads;  // per stream, recorded after its latest copy out
};

struct PinnedPool {
  std::mutex mutex;
  runtime::DeferredReleasePool<void*, cudaEvent_t> pool{
      [](const cudaEvent_t& e) {
        const cudaError_t r = cudaEventQuery(e);
        if (r == cudaErrorNotReady) return false;
        if (r != cudaSuccess) (void)cudaGetLastError();  // a failed device: the copy will never read again
        return true;
      },
      [](const cudaEvent_t& e) { (void)cudaEventDestroy(e); }};
  std::map<uintptr_t, Block> live;  // by base address: the blocks handed out
};

// Never destroyed: storages released during static destruction still find it.
PinnedPool& pinned_pool() {
  static PinnedPool* p = new PinnedPool();
  return *p;
}

void release_block(void* q) {
  PinnedPool& pp = pinned_pool();
  std::lock_guard<std::mutex> lock(pp.mutex);
  auto it = pp.live.find(reinterpret_cast<uintptr_t>(q));
  if (it == pp.live.end()) return;
  std::vector<cudaEvent_t> events;
  for (auto& [stream, e] : it->second.last_reads) events.push_back(e);
  pp.pool.release(q, it->second.capacity, std::move(events));
  pp.live.erase(it);
}

}  // namespace

std::shared_ptr<Storage> allocate_pinned_host(size_t nbytes) {
  refuse_during_any_capture("a pinned host allocation");
  if (!cuda_available()) return allocate_storage(nbytes, Device::cpu());
  const size_t request = nbytes == 0 ? 1 : nbytes;
  PinnedPool& pp = pinned_pool();
  void* p = nullptr;
  size_t capacity = 0;
  {
    std::lock_guard<std::mutex> lock(pp.mutex);
    if (!pp.pool.acquire(request, p, capacity)) p = nullptr;
  }
  if (p == nullptr) {
    CLIPT_CUDA_CHECK(cudaHostAlloc(&p, request, cudaHostAllocPortable));
    capacity = request;
  }
  {
    std::lock_guard<std::mutex> lock(pp.mutex);
    pp.live[reinterpret_cast<uintptr_t>(p)] = Block{capacity, {}};
  }
  auto s = std::make_shared<Storage>();
  s->data = p;
  s->nbytes = nbytes;
  s->device = Device::cpu();
  s->owner = std::shared_ptr<void>(p, [](void* q) { release_block(q); });
  return s;
}

void record_pinned_read(const void* p, int device, cudaStream_t stream) {
  PinnedPool& pp = pinned_pool();
  std::lock_guard<std::mutex> lock(pp.mutex);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = pp.live.upper_bound(a);
  if (it == pp.live.begin()) return;  // pinned elsewhere (not from this pool): the caller's business
  --it;
  if (a >= it->first + it->second.capacity) return;
  cudaEvent_t& e = it->second.last_reads[stream];
  if (e == nullptr) {
    cuda::DeviceGuard guard(device);
    CLIPT_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  }
  CLIPT_CUDA_CHECK(cudaEventRecord(e, stream));  // re-recording keeps the latest read
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
