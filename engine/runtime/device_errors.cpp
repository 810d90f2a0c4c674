#include "engine/runtime/device_errors.h"

#include <array>
#include <atomic>

#include "engine/core/error.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"

namespace clipt::cuda {

namespace {

std::array<std::atomic<bool>, kMaxDevices> g_pending{};

const char* op_name(kernels::DeviceErrorCode code) {
  switch (code) {
    case kernels::DeviceErrorCode::IndexSelect: return "index_select";
    case kernels::DeviceErrorCode::IndexAdd: return "index_add";
    case kernels::DeviceErrorCode::Gather: return "gather";
    case kernels::DeviceErrorCode::ScatterAdd: return "scatter_add";
    case kernels::DeviceErrorCode::CrossEntropyLabel: return "cross_entropy";
    default: return "kernel";
  }
}

}  // namespace

kernels::DeviceErrorRecord* error_record_for_launch(int device) {
  DeviceContext& ctx = context(device);
  g_pending[size_t(device)].store(true, std::memory_order_relaxed);
  return ctx.errors;
}

void raise_device_errors(int device, cudaStream_t stream) {
  if (!g_pending[size_t(device)].exchange(false)) return;
  DeviceContext& ctx = context(device);
  kernels::DeviceErrorRecord rec{};
  CLIPT_CUDA_CHECK(cudaMemcpyAsync(&rec, ctx.errors, sizeof(rec), cudaMemcpyDeviceToHost, stream));
  CLIPT_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (rec.code == 0) return;
  CLIPT_CUDA_CHECK(cudaMemsetAsync(ctx.errors, 0, sizeof(rec), stream));
  const auto code = static_cast<kernels::DeviceErrorCode>(rec.code);
  if (code == kernels::DeviceErrorCode::CrossEntropyLabel)
    fail("cross_entropy: label {} at row {} is out of range for {} classes (detected on cuda:{} at synchronisation)",
         rec.value, rec.position, rec.bound, device);
  fail("{}: index {} at position {} is out of range [0, {}) (detected on cuda:{} at synchronisation)", op_name(code),
       rec.value, rec.position, rec.bound, device);
}

}  // namespace clipt::cuda
