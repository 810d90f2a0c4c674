// The profiler's CUDA side (engine/profile): op times from events recorded on the current stream and
// resolved once per step (no synchronisation per op), and the device's peak figures.
#include <cuda_runtime_api.h>

#include <vector>

#include "engine/profile/peaks.h"
#include "engine/profile/profiler.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"

namespace clipt::profile {

namespace {

class CudaEventTimer final : public DeviceTimer {
 public:
  explicit CudaEventTimer(int device) : device_(device) {}
  ~CudaEventTimer() override {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
  }

  int record() override {
    cuda::DeviceGuard guard(device_);
    if (used_ == events_.size()) {
      cudaEvent_t e = nullptr;
      CLIPT_CUDA_CHECK(cudaEventCreate(&e));
      events_.push_back(e);
    }
    CLIPT_CUDA_CHECK(cudaEventRecord(events_[used_], cuda::current_stream(device_)));
    return int(used_++);
  }

  std::vector<double> resolve() override {
    std::vector<double> us(used_, 0.0);
    if (used_ == 0) return us;
    cuda::DeviceGuard guard(device_);
    CLIPT_CUDA_CHECK(cudaEventSynchronize(events_[used_ - 1]));
    for (size_t i = 1; i < used_; ++i) {
      float ms = 0;
      CLIPT_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[0], events_[i]));
      us[i] = double(ms) * 1e3;
    }
    used_ = 0;  // events are reused by the next step
    return us;
  }

 private:
  int device_;
  std::vector<cudaEvent_t> events_;
  size_t used_ = 0;
};

}  // namespace

std::unique_ptr<DeviceTimer> make_cuda_timer(int device) { return std::make_unique<CudaEventTimer>(device); }

Peaks cuda_device_peaks(int device) {
  cuda::check_device_index(device);
  cudaDeviceProp prop{};
  CLIPT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  Peaks p;
  if (known_gpu_peaks(prop.name, p)) return p;
  int clock_khz = 0, mem_khz = 0, bus_bits = 0;
  CLIPT_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  CLIPT_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
  CLIPT_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  return computed_gpu_peaks(prop.name, prop.multiProcessorCount, prop.major, clock_khz / 1e3, mem_khz / 1e3, bus_bits);
}

}  // namespace clipt::profile
