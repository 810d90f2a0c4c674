// Plumbing shared by the CUDA backend's .cpp files: DType → kernels::KDType, the device/stream of a call,
// and the launch check (a failed launch raises clipt::Error naming the launcher; CLIPT_CUDA_SYNC=1 also
// synchronises after every launch so an asynchronous fault is reported at the op that caused it).
#pragma once
#include "engine/core/tensor.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "kernels/kernel_types.h"

namespace clipt::cuda {

kernels::KDType kd(DType t);

// The device and stream of one backend call, with that device made current for its duration.
struct LaunchContext {
  explicit LaunchContext(const Tensor& t);
  int device;
  DeviceGuard guard;
  cudaStream_t stream;
};

// Raises on a failed launch; in CLIPT_CUDA_SYNC mode waits for the stream and checks device errors.
void after_launch(cudaError_t status, const LaunchContext& lc, const char* launcher, const char* file, int line);

// A device tensor that must live on `lc`'s device and be contiguous (the kernels' assumption).
void require_cuda(const Tensor& t, const LaunchContext& lc, const char* op, const char* name);
void require_contiguous(const Tensor& t, const char* op, const char* name);

// Scratch device memory for one call (freed in stream order when the tensor goes).
Tensor scratch(size_t bytes, const LaunchContext& lc);

}  // namespace clipt::cuda

#define CLIPT_LAUNCH(lc, call) ::clipt::cuda::after_launch((call), (lc), #call, __FILE__, __LINE__)
