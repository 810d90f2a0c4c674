#include "engine/runtime/cuda_check.h"

#include <cublas_api.h>

#include <string_view>

#include "engine/core/error.h"

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

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  // Clear a non-sticky error so that the next call does not report it again.
  (void)cudaGetLastError();
  throw Error(fmt::format("CUDA error at {}:{} in {}: {} ({})", short_path(file), line, call, cudaGetErrorName(status),
                          cudaGetErrorString(status)));
}

void throw_cublas_error(int status, const char* call, const char* file, int line) {
  const auto s = static_cast<cublasStatus_t>(status);
  throw Error(fmt::format("cuBLAS error at {}:{} in {}: {} ({})", short_path(file), line, call, cublasGetStatusName(s),
                          cublasGetStatusString(s)));
}

}  // namespace clipt::cuda
