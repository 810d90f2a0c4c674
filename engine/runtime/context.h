// Per-device CUDA state: the current device, a current stream per device (thread-local override of a
// per-device default stream), the stream-ordered memory pool, the cuBLASLt handle and a GEMM workspace
// per stream, and the device error record. Contexts are created on first use and live until the process
// ends (never destroyed, so storages freed during static destruction still find their streams).
#pragma once
#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "kernels/kernel_types.h"

namespace clipt::cuda {

constexpr int kMaxDevices = 64;
// cuBLASLt workspace per stream (NVIDIA recommends 32 MiB on Hopper).
constexpr size_t kGemmWorkspaceBytes = size_t(32) << 20;

// Number of visible devices; 0 (never an exception) when there is no driver or no device.
int device_count();
// Why CUDA is unusable, or "" when a device is present.
std::string unavailable_reason();
// Throws clipt::Error naming the device when it is not a valid cuda:N for this process.
void check_device_index(int device);

struct DeviceContext {
  int device = 0;
  cudaStream_t default_stream = nullptr;  // non-blocking stream created at initialisation
  cudaMemPool_t pool = nullptr;           // the device's default pool, release threshold = max
  cublasLtHandle_t lt = nullptr;
  kernels::DeviceErrorRecord* errors = nullptr;  // device memory, zeroed
  int sm_count = 0;
  std::string name;

  std::mutex mutex;  // guards the maps below
  std::unordered_map<cudaStream_t, void*> gemm_workspaces;
};

// The context of `device`, initialised on first call (thread-safe).
DeviceContext& context(int device);
// Whether context(device) has been created (nothing is initialised by asking).
bool context_initialised(int device);

// Sets the current device for the lifetime of the guard and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// The stream that kernels for `device` are launched on by this thread.
cudaStream_t current_stream(int device);
// Overrides this thread's current stream for `device` (nullptr restores the device's default stream).
// A stream set here must outlive every storage allocated while it was current (they are freed on it).
void set_current_stream(int device, cudaStream_t stream);

class StreamGuard {
 public:
  StreamGuard(int device, cudaStream_t stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  int device_;
  cudaStream_t previous_;
};

// The cuBLASLt workspace of (device, stream), allocated once (cudaMalloc, outside the pool).
void* gemm_workspace(int device, cudaStream_t stream);

// Waits for this thread's current stream of `device`, then raises any recorded device error.
void synchronize(int device);

// CLIPT_CUDA_SYNC=1: synchronise and check after every kernel launch (debugging; slow).
bool sync_after_launch();

}  // namespace clipt::cuda
