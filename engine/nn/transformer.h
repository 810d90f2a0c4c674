// Multi-head attention with PyTorch's fused in_proj layout, the MLP, the pre-LN residual block of
// CLIP (x + attn(ln_1(x)), then x + mlp(ln_2(x))) and a stack of such blocks. Sequences are
// batch-first [B, L, width].
#pragma once
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "engine/nn/layers.h"

namespace clipt::nn {

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t width, int64_t heads, Generator& gen, DType dtype = DType::F32);
  // Self-attention over x [B, L, width]; `causal` hides later positions.
  Tensor forward(const Tensor& x, bool causal) const;
  // The projection [B, L, 3·width] and the attention of rows whose keys/values start with a shared prefix
  // (see fused_attention): qkv(x) once, then attend(qkv, prefix_qkv) per pass.
  Tensor qkv(const Tensor& x) const;
  Tensor attend(const Tensor& qkv, bool causal, const Tensor& prefix_qkv = Tensor()) const;
  int64_t width, heads;
  Tensor in_proj_weight, in_proj_bias;  // [3·width, width], [3·width] (q, k, v stacked)
  std::unique_ptr<Linear> out_proj;
};

class Mlp : public Module {
 public:
  Mlp(int64_t width, int64_t hidden, Activation act, Generator& gen, DType dtype = DType::F32);
  // c_proj(act(c_fc(x))); with `fused` and QuickGELU, c_fc's GEMM runs without its bias and the bias
  // joins the activation (bias_quick_gelu): the same values, one pass fewer.
  Tensor forward(const Tensor& x) const;
  Activation act;
  bool fused = true;
  std::unique_ptr<Linear> c_fc, c_proj;
};

class ResidualAttentionBlock : public Module {
 public:
  ResidualAttentionBlock(int64_t width, int64_t heads, int64_t mlp_hidden, Activation act, Generator& gen,
                         DType dtype = DType::F32, double ln_eps = 1e-5);
  Tensor forward(const Tensor& x, bool causal) const;
  // One block over a shared prefix [G, P, W] and the rows that follow it [N, S, W] (N = G·m, row r after
  // prefix r / m): the rows attend to their prefix's keys/values of this block. Returns the new prefix
  // (undefined unless `prefix_out`: the last block's prefix output is never read) and the new rows.
  std::pair<Tensor, Tensor> forward_shared_prefix(const Tensor& prefix, const Tensor& rows, bool causal,
                                                  bool prefix_out) const;
  // Uses the fused ops (residual add + ln_2 in one pass, bias + QuickGELU) or the composed ones they
  // equal; on by default, off only to compare the two.
  void set_fused(bool on);
  std::unique_ptr<LayerNorm> ln_1, ln_2;
  std::unique_ptr<MultiheadAttention> attn;
  std::unique_ptr<Mlp> mlp;

 private:
  // x + attn_out followed by ln_2: {residual stream, ln_2 of it}.
  std::pair<Tensor, Tensor> add_and_norm(const Tensor& x, const Tensor& attn_out) const;
  bool fused_ = true;
};

class Transformer : public Module {
 public:
  Transformer(int64_t width, int64_t layers, int64_t heads, int64_t mlp_hidden, Activation act, Generator& gen,
              DType dtype = DType::F32, double ln_eps = 1e-5);
  // Called with (layer index, hidden state) before each block; returns the (possibly edited) state.
  // Deep prompts replace token positions here.
  using LayerHook = std::function<Tensor(int64_t layer, const Tensor& x)>;
  Tensor forward(const Tensor& x, bool causal, const LayerHook& before_layer = nullptr) const;
  // The stack over rows that share a prefix (see ResidualAttentionBlock::forward_shared_prefix), exactly
  // forward(cat(prefix of each row, rows)) restricted to the rows' positions; the prefix is computed once
  // per group. `before_layer` edits the prefix's hidden state.
  Tensor forward_shared_prefix(const Tensor& prefix, const Tensor& rows, bool causal,
                               const LayerHook& before_layer = nullptr) const;
  // See ResidualAttentionBlock::set_fused.
  void set_fused(bool on);
  int64_t width;
  std::vector<std::unique_ptr<ResidualAttentionBlock>> resblocks;
};

}  // namespace clipt::nn
