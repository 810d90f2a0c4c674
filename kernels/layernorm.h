// Launchers for layer normalisation over the last dim: forward (optionally fused with a residual add),
// and the backward split into dx and the deterministic parameter gradients dw/db.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// y = (x − mean)·rstd·w + b per row of contiguous x [rows, c]; w and b may be null. mean and rstd [rows]
// are f32 (f64 when dtype is f64), rstd = 1/sqrt(var + eps) with the biased variance.
cudaError_t layernorm_forward(KDType dtype, const void* x, const void* w, const void* b, void* y, void* mean,
                              void* rstd, int64_t rows, int64_t c, double eps, cudaStream_t stream);

// Fused residual block entry: h = x + residual (written, rounded to dtype), then y = layernorm(h) exactly as
// layernorm_forward(h). Not yet called by the ops layer (which composes add + layer_norm).
cudaError_t residual_layernorm_forward(KDType dtype, const void* x, const void* residual, void* h, const void* w,
                                       const void* b, void* y, void* mean, void* rstd, int64_t rows, int64_t c,
                                       double eps, cudaStream_t stream);

// dx = rstd·(g − mean_c(g) − x̂·mean_c(g⊙x̂)) with g = dy⊙w (w may be null) and x̂ = (x − mean)·rstd.
cudaError_t layernorm_backward_dx(KDType dtype, const void* dy, const void* x, const void* w, const void* mean,
                                  const void* rstd, void* dx, int64_t rows, int64_t c, cudaStream_t stream);

// Scratch bytes layernorm_backward_params needs.
size_t layernorm_param_grad_workspace_bytes(KDType dtype, int64_t rows, int64_t c);

// dw = Σ_rows dy⊙x̂, db = Σ_rows dy (either may be null): per-chunk partials in f32, then one ordered pass.
cudaError_t layernorm_backward_params(KDType dtype, const void* dy, const void* x, const void* mean, const void* rstd,
                                      void* dw, void* db, int64_t rows, int64_t c, void* workspace,
                                      cudaStream_t stream);

}  // namespace clipt::kernels
