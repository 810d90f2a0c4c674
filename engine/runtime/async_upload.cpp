// AsyncUpload with CUDA: copies on a per-device copy stream, ordered against the compute stream by events
// (see async_upload.h for the contract).
#include "engine/runtime/async_upload.h"

#include <array>
#include <mutex>
#include <utility>

#include "engine/core/backend.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/memory.h"
#include "engine/runtime/pinned_host.h"
#include "engine/runtime/pinned_pool.h"

namespace clipt {

namespace {

// One non-blocking copy stream per device, never destroyed (storages freed during static destruction may
// still name it as a user).
cudaStream_t copy_stream(int device) {
  static std::array<cudaStream_t, cuda::kMaxDevices> streams{};
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  cudaStream_t& s = streams[size_t(device)];
  if (s == nullptr) {
    cuda::DeviceGuard guard(device);
    CLIPT_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  }
  return s;
}

cudaEvent_t new_event() {
  cudaEvent_t e = nullptr;
  CLIPT_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return e;
}

}  // namespace

AsyncUpload::AsyncUpload(const std::vector<Tensor>& host, Device device) {
  if (!device.is_cuda()) {
    for (const Tensor& t : host) tensors_.push_back(t.to(device));
    return;
  }
  cuda::check_device_index(device.index);
  cuda::DeviceGuard guard(device.index);
  device_ = device.index;
  const cudaStream_t compute = cuda::current_stream(device_), copy = copy_stream(device_);
  std::vector<Tensor> sources;
  for (const Tensor& t : host) {
    CLIPT_CHECK(t.device().is_cpu(), "AsyncUpload: expected host tensors, got {}", describe(t));
    sources.push_back(t.contiguous());
    tensors_.push_back(Tensor::empty(t.shape(), t.dtype(), device));  // on the compute stream
    cuda::record_stream(tensors_.back(), copy);
  }
  cudaEvent_t allocated = new_event();
  ready_ = new_event();
  CLIPT_CUDA_CHECK(cudaEventRecord(allocated, compute));
  const cudaError_t wait = cudaStreamWaitEvent(copy, allocated, 0);
  (void)cudaEventDestroy(allocated);  // released once the wait has consumed it
  CLIPT_CUDA_CHECK(wait);
  bool pageable = false;
  for (size_t i = 0; i < sources.size(); ++i) {
    const size_t bytes = sources[i].nbytes();
    if (bytes == 0) continue;
    const void* src = sources[i].data_ptr();
    CLIPT_CUDA_CHECK(cudaMemcpyAsync(tensors_[i].data_ptr(), src, bytes, cudaMemcpyHostToDevice, copy));
    if (is_pinned_host(src))
      record_pinned_read(src, device_, copy);  // its pool buffer is reused only after this copy
    else
      pageable = true;
  }
  CLIPT_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(ready_), copy));
  if (pageable) CLIPT_CUDA_CHECK(cudaStreamSynchronize(copy));
}

AsyncUpload::AsyncUpload(AsyncUpload&& other) noexcept
    : tensors_(std::move(other.tensors_)), ready_(std::exchange(other.ready_, nullptr)), device_(other.device_) {
  other.tensors_.clear();
}

AsyncUpload& AsyncUpload::operator=(AsyncUpload&& other) noexcept {
  if (this != &other) {
    release();
    tensors_ = std::move(other.tensors_);
    other.tensors_.clear();
    ready_ = std::exchange(other.ready_, nullptr);
    device_ = other.device_;
  }
  return *this;
}

AsyncUpload::~AsyncUpload() { release(); }

// An upload dropped untaken: its device blocks are freed behind the copy (they recorded the copy stream);
// only the event is left to destroy.
void AsyncUpload::release() noexcept {
  if (ready_ != nullptr) (void)cudaEventDestroy(static_cast<cudaEvent_t>(ready_));
  ready_ = nullptr;
}

std::vector<Tensor> AsyncUpload::take() {
  if (ready_ != nullptr) {
    cuda::DeviceGuard guard(device_);
    const cudaError_t wait = cudaStreamWaitEvent(cuda::current_stream(device_), static_cast<cudaEvent_t>(ready_), 0);
    release();
    CLIPT_CUDA_CHECK(wait);
  }
  return std::exchange(tensors_, {});
}

}  // namespace clipt
