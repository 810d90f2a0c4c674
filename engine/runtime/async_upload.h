// Host→device copies that overlap the compute stream's work: the copies run on a side copy stream of the
// device (one per device, created on first use), and the compute stream waits for them on the device — the
// host never blocks — when the tensors are taken. The data loader's next batch is uploaded this way while
// the current step computes (data/device_batches.h).
//
// Ordering: the destination blocks are allocated on this thread's current (compute) stream; the copy
// stream first waits for an event recorded there after the allocation (stream-ordered memory is usable on
// another stream only behind such an event), and each block records the copy stream as a user, so its free
// waits for the copy. Pinned sources (engine/runtime/pinned_host.h) go back to their pool behind an event
// recorded after their copy; a pageable source makes the constructor wait for the copy stream (only it),
// so the caller may reuse the host memory at once.
// Without CUDA, or for a CPU device, the tensors are moved with Tensor::to and take() returns them.
#pragma once
#include <vector>

#include "engine/core/tensor.h"

namespace clipt {

class AsyncUpload {
 public:
  AsyncUpload() = default;
  // Queues copies of the CPU tensors `host` (any layout: non-contiguous ones are packed first) to `device`.
  AsyncUpload(const std::vector<Tensor>& host, Device device);
  AsyncUpload(AsyncUpload&& other) noexcept;
  AsyncUpload& operator=(AsyncUpload&& other) noexcept;
  AsyncUpload(const AsyncUpload&) = delete;
  AsyncUpload& operator=(const AsyncUpload&) = delete;
  ~AsyncUpload();

  bool pending() const { return !tensors_.empty(); }
  // The device tensors, in the order given. This thread's current stream of the device waits (on the
  // device) for the copies before anything queued after this call. The upload is empty afterwards.
  std::vector<Tensor> take();

 private:
  void release() noexcept;
  std::vector<Tensor> tensors_;
  void* ready_ = nullptr;  // cudaEvent_t recorded on the copy stream after the copies
  int device_ = -1;
};

}  // namespace clipt
