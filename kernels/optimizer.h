// Launchers for the fused optimizer updates on f32 master weights (grad f32, f16, bf16 or f64).
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

struct SgdParams {
  float lr, momentum, one_minus_dampening, weight_decay;
  bool nesterov, first_step;
};

// PyTorch's SGD: d = g + wd·p; m = first ? d : μ·m + (1 − τ)·d; d = nesterov ? d + μ·m : m; p −= lr·d.
// momentum_buffer may be null when momentum is 0.
cudaError_t sgd_update(float* param, KDType grad_dtype, const void* grad, float* momentum_buffer, int64_t n,
                       const SgdParams& p, cudaStream_t stream);

struct AdamWParams {
  float lr, one_minus_beta1, beta2, one_minus_beta2, eps;
  float decay;      // 1 − lr·weight_decay
  float step_size;  // lr / (1 − β1^t)
  float bc2_sqrt;   // sqrt(1 − β2^t)
};

// PyTorch's AdamW: p ·= 1 − lr·wd; m += (1 − β1)(g − m); v = β2 v + (1 − β2) g²;
// p −= step_size · m / (sqrt(v)/bc2_sqrt + eps).
cudaError_t adamw_update(float* param, KDType grad_dtype, const void* grad, float* exp_avg, float* exp_avg_sq,
                         int64_t n, const AdamWParams& p, cudaStream_t stream);

}  // namespace clipt::kernels
