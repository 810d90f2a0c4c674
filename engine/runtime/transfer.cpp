// Copies between the host and CUDA devices (and between two devices): the engine's cuda_copy_between,
// used by Tensor::to(device) and copy_ across devices. All copies are ordered on the current stream of the
// device involved.
//   device → host: always waits for the copy, so the caller can read the host buffer right away (and
//                  pending device errors are raised here);
//   host → device: asynchronous from pinned memory (see engine/runtime/pinned_host.h); from pageable
//                  memory up to kStagedUploadBytes (index and label vectors built on the host during a step:
//                  class subsets, sampled rows) the bytes are first copied into a pooled pinned buffer, so
//                  the copy is asynchronous too; larger pageable sources (weights) are copied and the
//                  stream synchronised, so the host buffer may be freed or reused at once and the pool never
//                  pins checkpoint-sized buffers;
//   device → device: same device stays asynchronous; across devices the destination stream first waits
//                  for the source stream and the copy is completed before returning (the source may be
//                  freed on its own stream right after).
#include <cstring>

#include "engine/core/backend.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/device_errors.h"
#include "engine/runtime/pinned_host.h"
#include "engine/runtime/pinned_pool.h"

namespace clipt {

namespace {

void device_to_host(const void* src, int device, void* dst, size_t bytes) {
  cuda::DeviceGuard guard(device);
  const cudaStream_t s = cuda::current_stream(device);
  CLIPT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
  CLIPT_CUDA_CHECK(cudaStreamSynchronize(s));
  cuda::raise_device_errors(device, s);
}

constexpr size_t kStagedUploadBytes = size_t(1) << 20;

void host_to_device(const void* src, void* dst, int device, size_t bytes) {
  cuda::DeviceGuard guard(device);
  const cudaStream_t s = cuda::current_stream(device);
  if (is_pinned_host(src)) {
    CLIPT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
    record_pinned_read(src, device, s);  // its buffer is reused only after this copy (an event)
  } else if (bytes <= kStagedUploadBytes) {
    // The staging buffer goes back to the pool when `staged` goes, behind the copy's event.
    const std::shared_ptr<Storage> staged = allocate_pinned_host(bytes);
    std::memcpy(staged->data, src, bytes);
    CLIPT_CUDA_CHECK(cudaMemcpyAsync(dst, staged->data, bytes, cudaMemcpyHostToDevice, s));
    record_pinned_read(staged->data, device, s);
  } else {
    CLIPT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
    CLIPT_CUDA_CHECK(cudaStreamSynchronize(s));
  }
}

}  // namespace

void cuda_copy_between(const Tensor& src, Tensor& dst) {
  CLIPT_CHECK(src.dtype() == dst.dtype() && src.numel() == dst.numel(),
              "copy between devices: source {} and destination {} differ in dtype or size", describe(src),
              describe(dst));
  CLIPT_CHECK(src.is_contiguous() && dst.is_contiguous(),
              "copy between devices: both sides must be contiguous, got {} and {}", describe(src), describe(dst));
  const size_t bytes = src.nbytes();
  if (bytes == 0) return;
  const Device from = src.device(), to = dst.device();
  if (from.is_cpu() && to.is_cpu()) {
    std::memmove(dst.data_ptr(), src.data_ptr(), bytes);
  } else if (from.is_cuda() && to.is_cpu()) {
    cuda::check_device_index(from.index);
    device_to_host(src.data_ptr(), from.index, dst.data_ptr(), bytes);
  } else if (from.is_cpu() && to.is_cuda()) {
    cuda::check_device_index(to.index);
    host_to_device(src.data_ptr(), dst.data_ptr(), to.index, bytes);
  } else if (from.index == to.index) {
    cuda::DeviceGuard guard(to.index);
    CLIPT_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), bytes, cudaMemcpyDeviceToDevice,
                                     cuda::current_stream(to.index)));
  } else {
    const cudaStream_t src_stream = cuda::current_stream(from.index);
    const cudaStream_t dst_stream = cuda::current_stream(to.index);
    cudaEvent_t ready = nullptr;
    {
      cuda::DeviceGuard guard(from.index);
      CLIPT_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
      CLIPT_CUDA_CHECK(cudaEventRecord(ready, src_stream));
    }
    cuda::DeviceGuard guard(to.index);
    const cudaError_t wait = cudaStreamWaitEvent(dst_stream, ready, 0);
    const cudaError_t copy = wait == cudaSuccess ? cudaMemcpyPeerAsync(dst.data_ptr(), to.index, src.data_ptr(),
                                                                       from.index, bytes, dst_stream)
                                                 : wait;
    const cudaError_t sync = copy == cudaSuccess ? cudaStreamSynchronize(dst_stream) : copy;
    (void)cudaEventDestroy(ready);
    CLIPT_CUDA_CHECK(sync);
  }
}

}  // namespace clipt
