#include "engine/cuda/launch.h"

#include "engine/core/capture_guard.h"
#include "engine/runtime/device_errors.h"
#include "engine/runtime/memory.h"

namespace clipt::cuda {

using kernels::KDType;
static_assert(int(DType::F32) == int(KDType::F32) && int(DType::F64) == int(KDType::F64) &&
              int(DType::F16) == int(KDType::F16) && int(DType::BF16) == int(KDType::BF16) &&
              int(DType::I32) == int(KDType::I32) && int(DType::I64) == int(KDType::I64) &&
              int(DType::U8) == int(KDType::U8) && int(DType::Bool) == int(KDType::Bool));

KDType kd(DType t) { return static_cast<KDType>(t); }

namespace {
int cuda_index(const Tensor& t) {
  CLIPT_CHECK(t.defined(), "CUDA backend called with an undefined tensor");
  CLIPT_CHECK(t.device().is_cuda(), "CUDA backend called with a tensor on {}", t.device().str());
  return t.device().index;
}
}  // namespace

LaunchContext::LaunchContext(const Tensor& t) : device(cuda_index(t)), guard(device), stream(current_stream(device)) {
  record_stream(t, stream);  // a tensor from another stream is freed behind this op
}

void after_launch(cudaError_t status, const LaunchContext& lc, const char* launcher, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(status, launcher, file, line);
  if (sync_after_launch()) {
    refuse_during_any_capture("a synchronisation after a launch (CLIPT_CUDA_SYNC=1)");
    const cudaError_t e = cudaStreamSynchronize(lc.stream);
    if (e != cudaSuccess) throw_cuda_error(e, launcher, file, line);
    raise_device_errors(lc.device, lc.stream);
  }
}

void require_cuda(const Tensor& t, const LaunchContext& lc, const char* op, const char* name) {
  CLIPT_CHECK(t.defined(), "{}: {} is undefined", op, name);
  CLIPT_CHECK(t.device() == Device::cuda(lc.device), "{}: {} is {}, expected a tensor on cuda:{}", op, name,
              describe(t), lc.device);
  record_stream(t, lc.stream);
}

void require_contiguous(const Tensor& t, const char* op, const char* name) {
  CLIPT_CHECK(t.is_contiguous(), "{}: {} must be contiguous on CUDA, got {} with strides {}", op, name, describe(t),
              shape_str(t.strides()));
}

Tensor scratch(size_t bytes, const LaunchContext& lc) {
  return Tensor::empty({int64_t(bytes)}, DType::U8, Device::cuda(lc.device));
}

}  // namespace clipt::cuda
