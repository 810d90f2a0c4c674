#include "engine/runtime/memory.h"

#include "engine/core/error.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"

namespace clipt::cuda {

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
  // Freed in stream order on the allocation stream; errors at process teardown are ignored (a deleter
  // cannot throw, and the driver reclaims everything at exit anyway).
  s->owner = std::shared_ptr<void>(p, [stream](void* q) { (void)cudaFreeAsync(q, stream); });
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
