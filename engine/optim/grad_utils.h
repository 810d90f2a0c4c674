// Gradient algebra over lists of tensors (one entry per parameter), as SAM-family optimisers, gradient
// projection (ProGrad) and norm clipping need. Results are computed in f32/f64 on the tensors' device.
#pragma once
#include <vector>

#include "engine/core/tensor.h"

namespace clipt::optim {

using Grads = std::vector<Tensor>;

Grads grads_of(const std::vector<Tensor>& params);  // current .grad (cloned; zeros if absent)
double global_norm(const Grads& g);                 // √Σ‖g_i‖²
double dot(const Tensor& a, const Tensor& b);       // ⟨a, b⟩ of one tensor pair
double dot(const Grads& a, const Grads& b);         // Σ⟨a_i, b_i⟩
// Scales every gradient by max_norm / (‖g‖ + 1e-6) when the global norm exceeds max_norm (PyTorch's
// clip_grad_norm_); returns the norm before clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace clipt::optim
