#include "engine/nn/layers.h"

#include <cmath>

#include "engine/ops/ops.h"

namespace clipt::nn {

Activation parse_activation(const std::string& name) {
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_tanh") return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  fail("unknown activation '{}' (expected quick_gelu, gelu, gelu_new or relu)", name);
}

Tensor activate(Activation a, const Tensor& x) {
  switch (a) {
    case Activation::QuickGelu: return quick_gelu(x);
    case Activation::Gelu: return gelu(x);
    case Activation::GeluTanh: return gelu_tanh(x);
    case Activation::Relu: return relu(x);
  }
  return x;
}

Linear::Linear(int64_t in, int64_t out, bool has_bias, Generator& gen, DType dtype) {
  const double bound = 1.0 / std::sqrt(double(std::max<int64_t>(in, 1)));
  Tensor w = Tensor::empty({out, in}, dtype);
  uniform_(w, -bound, bound, gen);
  register_parameter("weight", &weight, w);
  if (has_bias) {
    Tensor b = Tensor::empty({out}, dtype);
    uniform_(b, -bound, bound, gen);
    register_parameter("bias", &bias, b);
  }
}

LayerNorm::LayerNorm(int64_t dim, double eps_, DType dtype) : eps(eps_) {
  register_parameter("weight", &weight, Tensor::ones({dim}, dtype));
  register_parameter("bias", &bias, Tensor::zeros({dim}, dtype));
}

Embedding::Embedding(int64_t num, int64_t dim, Generator& gen, double std, DType dtype) {
  Tensor w = Tensor::empty({num, dim}, dtype);
  normal_(w, 0.0, std, gen);
  register_parameter("weight", &weight, w);
}

}  // namespace clipt::nn
