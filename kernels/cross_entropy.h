// Launchers for the fused cross-entropy loss over logits [n, c] with integer labels.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// Per row r: lse = log Σ_j exp(x_rj); loss_r = (1 − s)·(lse − x_r,label) + s·(lse − Σ_j x_rj / c), or 0 when
// label < 0 (ignored). Loss and lse are f32 (f64 for f64 logits). A label ≥ c is recorded in `errors`.
cudaError_t cross_entropy_forward(KDType dtype, const void* logits, const int64_t* labels, void* loss, void* lse,
                                  int64_t n, int64_t c, double smoothing, DeviceErrorRecord* errors,
                                  cudaStream_t stream);

// dlogits_rj = g_r·(exp(x_rj − lse_r) − target_rj), target = (1 − s)·[j = label] + s/c, g_r = 0 for ignored rows.
cudaError_t cross_entropy_backward(KDType dtype, const void* logits, const int64_t* labels, const void* lse,
                                   const void* grad_loss, void* dlogits, int64_t n, int64_t c, double smoothing,
                                   cudaStream_t stream);

}  // namespace clipt::kernels
