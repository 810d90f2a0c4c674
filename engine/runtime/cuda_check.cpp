#include "engine/runtime/cuda_check.h"

#include <cublas_api.h>

#include <string>
#include <string_view>

#include "engine/core/error.h"
#include "engine/runtime/context.h"

namespace clipt::cuda {

namespace {
// Paths relative to the repository (engine/…, kernels/…) read better than absolute build paths.
std::string_view short_path(std::string_view file) {
  for (std::string_view root : {"/engine/", "/kernels/", "/bench/", "/tests/"}) {
    const size_t at = file.rfind(root);
    if (at != std::string_view::npos) return file.substr(at + 1);
  }
  return file;
}
}  // namespace

static bool asynchronous_fault(cudaError_t status) {
  switch (status) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorMisalignedAddress:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout: return true;
    default: return false;
  }
}

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  // Clear a non-sticky error so that the next call does not report it again.
  (void)cudaGetLastError();
  // A fault inside a kernel is reported by whichever CUDA call comes next, which is usually not the kernel
  // that caused it: say so, and how to find the culprit.
  const std::string hint =
      asynchronous_fault(status) && !sync_after_launch()
          ? "; a kernel fault is reported by the next CUDA call, so an earlier kernel may have caused it: rerun "
            "with CLIPT_CUDA_SYNC=1 to check after every launch"
          : "";
  throw Error(fmt::format("CUDA error at {}:{} in {}: {} ({}){}", short_path(file), line, call,
                          cudaGetErrorName(status), cudaGetErrorString(status), hint));
}

void throw_cublas_error(int status, const char* call, const char* file, int line) {
  const auto s = static_cast<cublasStatus_t>(status);
  throw Error(fmt::format("cuBLAS error at {}:{} in {}: {} ({})", short_path(file), line, call, cublasGetStatusName(s),
                          cublasGetStatusString(s)));
}

}  // namespace clipt::cuda
