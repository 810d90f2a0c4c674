#include "engine/nn/transformer.h"

#include <cmath>

#include "engine/ops/ops.h"

namespace clipt::nn {

MultiheadAttention::MultiheadAttention(int64_t width_, int64_t heads_, Generator& gen, DType dtype)
    : width(width_), heads(heads_) {
  CLIPT_CHECK(heads > 0 && width % heads == 0, "MultiheadAttention: width {} is not divisible by {} heads", width,
              heads);
  // PyTorch: xavier_uniform_ on in_proj_weight, zero biases.
  const double bound = std::sqrt(6.0 / double(width + 3 * width));
  Tensor w = Tensor::empty({3 * width, width}, dtype);
  uniform_(w, -bound, bound, gen);
  register_parameter("in_proj_weight", &in_proj_weight, w);
  register_parameter("in_proj_bias", &in_proj_bias, Tensor::zeros({3 * width}, dtype));
  register_module("out_proj", &out_proj, std::make_unique<Linear>(width, width, true, gen, dtype));
  NoGrad ng;
  out_proj->bias.zero_();
}

Tensor MultiheadAttention::forward(const Tensor& x, bool causal) const {
  CLIPT_CHECK(x.dim() == 3 && x.size(2) == width, "MultiheadAttention: expected [B, L, {}], got {}", width,
              describe(x));
  profile::ModuleScope scope(module_name());
  const int64_t b = x.size(0), l = x.size(1), d = width / heads;
  Tensor qkv = linear(x, in_proj_weight, in_proj_bias);  // [B, L, 3W]
  // One copy to [3, B, H, L, D]; q, k and v are then contiguous views.
  TensorList qkv_heads = unbind(contiguous(permute(reshape(qkv, {b, l, 3, heads, d}), {2, 0, 3, 1, 4})), 0);
  const Tensor& q = qkv_heads[0];
  const Tensor& k = qkv_heads[1];
  const Tensor& v = qkv_heads[2];
  Tensor o = scaled_dot_product_attention(q, k, v, causal);  // [B, H, L, D]
  return out_proj->forward(reshape(permute(o, {0, 2, 1, 3}), {b, l, width}));
}

Mlp::Mlp(int64_t width, int64_t hidden, Activation act_, Generator& gen, DType dtype) : act(act_) {
  register_module("c_fc", &c_fc, std::make_unique<Linear>(width, hidden, true, gen, dtype));
  register_module("c_proj", &c_proj, std::make_unique<Linear>(hidden, width, true, gen, dtype));
}

ResidualAttentionBlock::ResidualAttentionBlock(int64_t width, int64_t heads, int64_t mlp_hidden, Activation act,
                                               Generator& gen, DType dtype, double ln_eps) {
  register_module("ln_1", &ln_1, std::make_unique<LayerNorm>(width, ln_eps, dtype));
  register_module("attn", &attn, std::make_unique<MultiheadAttention>(width, heads, gen, dtype));
  register_module("ln_2", &ln_2, std::make_unique<LayerNorm>(width, ln_eps, dtype));
  register_module("mlp", &mlp, std::make_unique<Mlp>(width, mlp_hidden, act, gen, dtype));
}

Tensor ResidualAttentionBlock::forward(const Tensor& x, bool causal) const {
  profile::ModuleScope scope(module_name());
  Tensor h = add(x, attn->forward(ln_1->forward(x), causal));
  return add(h, mlp->forward(ln_2->forward(h)));
}

Transformer::Transformer(int64_t width_, int64_t layers, int64_t heads, int64_t mlp_hidden, Activation act,
                         Generator& gen, DType dtype, double ln_eps)
    : width(width_) {
  resblocks.resize(size_t(layers));
  for (int64_t i = 0; i < layers; ++i)
    register_module("resblocks." + std::to_string(i), &resblocks[size_t(i)],
                    std::make_unique<ResidualAttentionBlock>(width, heads, mlp_hidden, act, gen, dtype, ln_eps));
}

Tensor Transformer::forward(const Tensor& x, bool causal, const LayerHook& before_layer) const {
  profile::ModuleScope scope(module_name());
  Tensor h = x;
  for (size_t i = 0; i < resblocks.size(); ++i) {
    if (before_layer) h = before_layer(int64_t(i), h);
    h = resblocks[i]->forward(h, causal);
  }
  return h;
}

}  // namespace clipt::nn
