// Launchers for the MLP's bias + QuickGELU, forward and backward, over the output of a bias-free GEMM.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// y = z·σ(1.702·z) with z = x + bias (x [rows, c] and y contiguous, bias [c]); z is rounded to the dtype
// before the activation, as the composed linear-with-bias + quick_gelu stores it.
cudaError_t bias_quick_gelu_forward(KDType dtype, const void* x, const void* bias, void* y, int64_t rows, int64_t c,
                                    cudaStream_t stream);

// dx = dy ⊙ q'(z) with z = x + bias recomputed as in the forward (z is never stored).
cudaError_t bias_quick_gelu_backward(KDType dtype, const void* dy, const void* x, const void* bias, void* dx,
                                     int64_t rows, int64_t c, cudaStream_t stream);

}  // namespace clipt::kernels
