#include "engine/runtime/memory.h"

#include "engine/core/error.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/stream_uses.h"

namespace clipt::cuda {

namespace {

// The deleter of a device block: stream-ordered free on its home stream, behind an event on every other
// stream that used it (record_stream), so the pool never hands it out while such a stream may still read
// or write it. Errors at process teardown are ignored (a deleter cannot throw, and the driver reclaims
// everything at exit anyway).
struct DeviceBlockFree {
  int device;
  std::shared_ptr<runtime::StreamUses<cudaStream_t>> uses;

  struct Ops {
    void* block;
    cudaStream_t home;
    void wait_behind(cudaStream_t s) const {
      cudaEvent_t e = nullptr;
      if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess) {
        (void)cudaStreamSynchronize(s);  // no event to be had: wait for that stream alone
        return;
      }
      (void)cudaEventRecord(e, s);
      (void)cudaStreamWaitEvent(home, e, 0);
      (void)cudaEventDestroy(e);  // released once the wait has consumed it
    }
    void free_on(cudaStream_t s) const { (void)cudaFreeAsync(block, s); }
  };

  void operator()(void* q) const {
    int previous = -1;
    (void)cudaGetDevice(&previous);
    (void)cudaSetDevice(device);
    Ops ops{q, uses->home()};
    uses->free_behind(ops);
    if (previous >= 0) (void)cudaSetDevice(previous);
  }
};

}  // namespace

void record_stream(const Tensor& t, cudaStream_t stream) {
  if (!t.defined() || !t.device().is_cuda() || !t.storage()) return;
  if (auto* d = std::get_deleter<DeviceBlockFree>(t.storage()->owner)) d->uses->record(stream);
}

std::shared_ptr<Storage> allocate_device(size_t nbytes, int device) {
  DeviceContext& ctx = context(device);
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  // A zero-byte tensor still gets a distinct pointer (storage identity is compared by pointer).
  const size_t request = nbytes == 0 ? 1 : nbytes;
  void* p = nullptr;
  cudaError_t e = cudaMallocAsync(&p, request, stream);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    CLIPT_CUDA_CHECK(cudaDeviceSynchronize());
    e = cudaMallocAsync(&p, request, stream);
  }
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    const PoolStats st = pool_stats(device);
    fail("out of memory on cuda:{} ({}) allocating {} bytes: the pool holds {} bytes, {} of them in use", device,
         ctx.name, nbytes, st.reserved_current, st.used_current);
  }
  CLIPT_CUDA_CHECK(e);
  auto s = std::make_shared<Storage>();
  s->data = p;
  s->nbytes = nbytes;
  s->device = Device::cuda(device);
  s->owner =
      std::shared_ptr<void>(p, DeviceBlockFree{device, std::make_shared<runtime::StreamUses<cudaStream_t>>(stream)});
  return s;
}

PoolStats pool_stats(int device) {
  DeviceContext& ctx = context(device);
  PoolStats st;
  CLIPT_CUDA_CHECK(cudaMemPoolGetAttribute(ctx.pool, cudaMemPoolAttrReservedMemCurrent, &st.reserved_current));
  CLIPT_CUDA_CHECK(cudaMemPoolGetAttribute(ctx.pool, cudaMemPoolAttrReservedMemHigh, &st.reserved_high));
  CLIPT_CUDA_CHECK(cudaMemPoolGetAttribute(ctx.pool, cudaMemPoolAttrUsedMemCurrent, &st.used_current));
  CLIPT_CUDA_CHECK(cudaMemPoolGetAttribute(ctx.pool, cudaMemPoolAttrUsedMemHigh, &st.used_high));
  return st;
}

void reset_pool_peaks(int device) {
  DeviceContext& ctx = context(device);
  uint64_t zero = 0;
  // Setting a high-water mark to 0 resets it to the current value.
  CLIPT_CUDA_CHECK(cudaMemPoolSetAttribute(ctx.pool, cudaMemPoolAttrReservedMemHigh, &zero));
  CLIPT_CUDA_CHECK(cudaMemPoolSetAttribute(ctx.pool, cudaMemPoolAttrUsedMemHigh, &zero));
}

}  // namespace clipt::cuda
