// Launchers for softmax / log-softmax over the last dim (with scale and an optional causal mask) and
// their backward.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// y = softmax(x·scale) (or log_softmax) over rows of length n of contiguous x [rows, n]. With `causal`
// the rows are grouped by q (x viewed as [.., q, n]) and entry j of row r is masked (y = 0, or −inf for
// log) when j > (r mod q) + (n − q). Statistics in f32 (f64 for f64).
cudaError_t softmax_forward(KDType dtype, const void* x, void* y, int64_t rows, int64_t n, int64_t q, double scale,
                            bool causal, bool log, cudaStream_t stream);

// dx = scale·y⊙(dy − Σ dy⊙y) for softmax; dx = scale·(dy − exp(y)·Σ dy) for log_softmax (exp(−inf) = 0).
cudaError_t softmax_backward(KDType dtype, const void* dy, const void* y, void* dx, int64_t rows, int64_t n,
                             double scale, bool log, cudaStream_t stream);

}  // namespace clipt::kernels
