#include "engine/nn/transformer.h"

#include <cmath>
#include <tuple>

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
  return attend(qkv(x), causal);
}

Tensor MultiheadAttention::qkv(const Tensor& x) const { return linear(x, in_proj_weight, in_proj_bias); }

Tensor MultiheadAttention::attend(const Tensor& qkv, bool causal, const Tensor& prefix_qkv) const {
  // q, k and v are read in place from the projection; the heads come back merged as [B, L, W].
  return out_proj->forward(fused_attention(qkv, heads, causal, std::nullopt, prefix_qkv));
}

Mlp::Mlp(int64_t width, int64_t hidden, Activation act_, Generator& gen, DType dtype) : act(act_) {
  register_module("c_fc", &c_fc, std::make_unique<Linear>(width, hidden, true, gen, dtype));
  register_module("c_proj", &c_proj, std::make_unique<Linear>(hidden, width, true, gen, dtype));
}

Tensor Mlp::forward(const Tensor& x) const {
  profile::ModuleScope scope(module_name());
  if (!fused || act != Activation::QuickGelu || !c_fc->bias.defined())
    return c_proj->forward(activate(act, c_fc->forward(x)));
  Tensor pre;
  {
    profile::ModuleScope fc(c_fc->module_name());
    pre = linear(x, c_fc->weight);
  }
  return c_proj->forward(bias_quick_gelu(pre, c_fc->bias));
}

ResidualAttentionBlock::ResidualAttentionBlock(int64_t width, int64_t heads, int64_t mlp_hidden, Activation act,
                                               Generator& gen, DType dtype, double ln_eps) {
  register_module("ln_1", &ln_1, std::make_unique<LayerNorm>(width, ln_eps, dtype));
  register_module("attn", &attn, std::make_unique<MultiheadAttention>(width, heads, gen, dtype));
  register_module("ln_2", &ln_2, std::make_unique<LayerNorm>(width, ln_eps, dtype));
  register_module("mlp", &mlp, std::make_unique<Mlp>(width, mlp_hidden, act, gen, dtype));
}

void ResidualAttentionBlock::set_fused(bool on) {
  fused_ = on;
  mlp->fused = on;
}

std::pair<Tensor, Tensor> ResidualAttentionBlock::add_and_norm(const Tensor& x, const Tensor& attn_out) const {
  if (!fused_) {
    Tensor h = add(x, attn_out);
    return {h, ln_2->forward(h)};
  }
  profile::ModuleScope scope(ln_2->module_name());
  return residual_layer_norm(x, attn_out, ln_2->weight, ln_2->bias, ln_2->eps);
}

Tensor ResidualAttentionBlock::forward(const Tensor& x, bool causal) const {
  profile::ModuleScope scope(module_name());
  auto [h, normed] = add_and_norm(x, attn->forward(ln_1->forward(x), causal));
  return add(h, mlp->forward(normed));
}

std::pair<Tensor, Tensor> ResidualAttentionBlock::forward_shared_prefix(const Tensor& prefix, const Tensor& rows,
                                                                        bool causal, bool prefix_out) const {
  profile::ModuleScope scope(module_name());
  const Tensor prefix_qkv = attn->qkv(ln_1->forward(prefix));
  auto [r, r_normed] = add_and_norm(rows, attn->attend(attn->qkv(ln_1->forward(rows)), causal, prefix_qkv));
  r = add(r, mlp->forward(r_normed));
  if (!prefix_out) return {Tensor(), r};
  auto [p, p_normed] = add_and_norm(prefix, attn->attend(prefix_qkv, causal));
  return {add(p, mlp->forward(p_normed)), r};
}

Transformer::Transformer(int64_t width_, int64_t layers, int64_t heads, int64_t mlp_hidden, Activation act,
                         Generator& gen, DType dtype, double ln_eps)
    : width(width_) {
  resblocks.resize(size_t(layers));
  for (int64_t i = 0; i < layers; ++i)
    register_module("resblocks." + std::to_string(i), &resblocks[size_t(i)],
                    std::make_unique<ResidualAttentionBlock>(width, heads, mlp_hidden, act, gen, dtype, ln_eps));
}

void Transformer::set_fused(bool on) {
  for (auto& block : resblocks) block->set_fused(on);
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

Tensor Transformer::forward_shared_prefix(const Tensor& prefix, const Tensor& rows, bool causal,
                                          const LayerHook& before_layer) const {
  CLIPT_CHECK(prefix.dim() == 3 && rows.dim() == 3 && prefix.size(2) == width && rows.size(2) == width &&
                  prefix.size(0) > 0 && rows.size(0) % prefix.size(0) == 0,
              "transformer: shared prefix {} does not fit rows {} (width {})", describe(prefix), describe(rows), width);
  profile::ModuleScope scope(module_name());
  Tensor p = prefix, r = rows;
  for (size_t i = 0; i < resblocks.size(); ++i) {
    if (before_layer) p = before_layer(int64_t(i), p);
    std::tie(p, r) = resblocks[i]->forward_shared_prefix(p, r, causal, i + 1 < resblocks.size());
  }
  return r;
}

}  // namespace clipt::nn
