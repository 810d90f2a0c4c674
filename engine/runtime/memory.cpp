#include "engine/runtime/memory.h"

#include <atomic>
#include <mutex>

#include "engine/core/capture_guard.h"
#include "engine/core/error.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/stream_uses.h"

namespace clipt::cuda {

namespace {

// The capture in progress on each device, if any (set by the graph capture, read by allocations and frees
// on any thread: a free queued on the capturing stream joins the capture whichever thread queues it).
struct CaptureSlot {
  std::mutex mutex;
  cudaStream_t stream = nullptr;
  std::shared_ptr<DeviceCaptureLedger> ledger;
};
CaptureSlot& capture_slot(int device) {
  // Never destroyed, like the device contexts: storages freed during static destruction still look here.
  static CaptureSlot* slots = new CaptureSlot[kMaxDevices];
  return slots[device];
}
// Captures in progress on any device: the common case (none) costs every allocation and free one load.
std::atomic<int> g_active_captures{0};

std::shared_ptr<DeviceCaptureLedger> capture_ledger_for(int device, cudaStream_t stream) {
  if (g_active_captures.load(std::memory_order_acquire) == 0) return nullptr;
  CaptureSlot& s = capture_slot(device);
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.ledger && s.stream == stream ? s.ledger : nullptr;
}

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
    // During a capture on the block's home stream, only blocks the capture allocated are freed there.
    if (auto ledger = capture_ledger_for(device, uses->home())) {
      const DeviceBlockFree self = *this;
      if (!ledger->released(q, [self, q] { self.free_now(q); })) return;
    }
    free_now(q);
  }

  void free_now(void* q) const {
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
  const std::shared_ptr<DeviceCaptureLedger> ledger = capture_ledger_for(device, stream);
  cudaError_t e = cudaMallocAsync(&p, request, stream);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    // The retry below synchronises the device, which a capture cannot do.
    if (ledger) refuse_during_any_capture(fmt::format("an allocation of {} bytes that ran out of memory", nbytes));
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
  if (ledger) ledger->allocated(p, request);
  auto s = std::make_shared<Storage>();
  s->data = p;
  s->nbytes = nbytes;
  s->device = Device::cuda(device);
  s->owner =
      std::shared_ptr<void>(p, DeviceBlockFree{device, std::make_shared<runtime::StreamUses<cudaStream_t>>(stream)});
  return s;
}

void set_capture_ledger(int device, cudaStream_t stream, std::shared_ptr<DeviceCaptureLedger> ledger) {
  check_device_index(device);
  CaptureSlot& s = capture_slot(device);
  std::lock_guard<std::mutex> lock(s.mutex);
  if (bool(ledger) != bool(s.ledger)) g_active_captures.fetch_add(ledger ? 1 : -1, std::memory_order_acq_rel);
  s.stream = ledger ? stream : nullptr;
  s.ledger = std::move(ledger);
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
