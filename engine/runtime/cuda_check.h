// CUDA and cuBLAS error checks that raise the engine's clipt::Error with the file, line, failing call and
// the library's own error name and text. Never abort: a failed call becomes one exception.
#pragma once
#include <cuda_runtime_api.h>

namespace clipt::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(int status, const char* call, const char* file, int line);

}  // namespace clipt::cuda

#define CLIPT_CUDA_CHECK(call)                                                        \
  do {                                                                                \
    const cudaError_t clipt_cuda_status_ = (call);                                    \
    if (clipt_cuda_status_ != cudaSuccess)                                            \
      ::clipt::cuda::throw_cuda_error(clipt_cuda_status_, #call, __FILE__, __LINE__); \
  } while (0)

// For cublasStatus_t / cublasLt calls (kept as int so this header needs no cuBLAS include).
#define CLIPT_CUBLAS_CHECK(call)                                                                                       \
  do {                                                                                                                 \
    const int clipt_cublas_status_ = static_cast<int>(call);                                                           \
    if (clipt_cublas_status_ != 0) ::clipt::cuda::throw_cublas_error(clipt_cublas_status_, #call, __FILE__, __LINE__); \
  } while (0)
