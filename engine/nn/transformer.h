// Multi-head attention with PyTorch's fused in_proj layout, the MLP, the pre-LN residual block of
// CLIP (x + attn(ln_1(x)), then x + mlp(ln_2(x))) and a stack of such blocks. Sequences are
// batch-first [B, L, width].
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "engine/nn/layers.h"

namespace clipt::nn {

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t width, int64_t heads, Generator& gen, DType dtype = DType::F32);
  // Self-attention over x [B, L, width]; `causal` hides later positions.
  Tensor forward(const Tensor& x, bool causal) const;
  int64_t width, heads;
  Tensor in_proj_weight, in_proj_bias;  // [3·width, width], [3·width] (q, k, v stacked)
  std::unique_ptr<Linear> out_proj;
};

class Mlp : public Module {
 public:
  Mlp(int64_t width, int64_t hidden, Activation act, Generator& gen, DType dtype = DType::F32);
  Tensor forward(const Tensor& x) const {
    profile::ModuleScope scope(module_name());
    return c_proj->forward(activate(act, c_fc->forward(x)));
  }
  Activation act;
  std::unique_ptr<Linear> c_fc, c_proj;
};

class ResidualAttentionBlock : public Module {
 public:
  ResidualAttentionBlock(int64_t width, int64_t heads, int64_t mlp_hidden, Activation act, Generator& gen,
                         DType dtype = DType::F32, double ln_eps = 1e-5);
  Tensor forward(const Tensor& x, bool causal) const;
  std::unique_ptr<LayerNorm> ln_1, ln_2;
  std::unique_ptr<MultiheadAttention> attn;
  std::unique_ptr<Mlp> mlp;
};

class Transformer : public Module {
 public:
  Transformer(int64_t width, int64_t layers, int64_t heads, int64_t mlp_hidden, Activation act, Generator& gen,
              DType dtype = DType::F32, double ln_eps = 1e-5);
  // Called with (layer index, hidden state) before each block; returns the (possibly edited) state.
  // Deep prompts replace token positions here.
  using LayerHook = std::function<Tensor(int64_t layer, const Tensor& x)>;
  Tensor forward(const Tensor& x, bool causal, const LayerHook& before_layer = nullptr) const;
  int64_t width;
  std::vector<std::unique_ptr<ResidualAttentionBlock>> resblocks;
};

}  // namespace clipt::nn
