// Basic layers with PyTorch's parameter layouts and default initialisations.
#pragma once
#include "engine/nn/module.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "engine/profile/profiler.h"

namespace clipt::nn {

enum class Activation { QuickGelu, Gelu, GeluTanh, Relu };
Activation parse_activation(const std::string& name);  // "quick_gelu", "gelu", "gelu_new"/"gelu_pytorch_tanh", "relu"
Tensor activate(Activation a, const Tensor& x);

// y = x·Wᵀ + b with W [out, in]; init U(−1/√in, 1/√in) for both, as torch.nn.Linear.
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, Generator& gen, DType dtype = DType::F32);
  Tensor forward(const Tensor& x) const {
    profile::ModuleScope scope(module_name());
    return linear(x, weight, bias);
  }
  Tensor weight, bias;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5, DType dtype = DType::F32);
  Tensor forward(const Tensor& x) const {
    profile::ModuleScope scope(module_name());
    return layer_norm(x, weight, bias, eps);
  }
  Tensor weight, bias;
  double eps;
};

// Lookup table [num, dim], init N(0, std).
class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, Generator& gen, double std = 1.0, DType dtype = DType::F32);
  Tensor forward(const Tensor& ids) const {
    profile::ModuleScope scope(module_name());
    return embedding(weight, ids);
  }
  Tensor weight;
};

}  // namespace clipt::nn
