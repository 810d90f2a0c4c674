// Launchers for fused self-attention (forward and backward) over a fused QKV projection, with an optional
// shared key/value prefix per group of rows. The math is in kernels/attention_math.h; the CPU backend's
// engine/cpu/attention.cpp is the reference. Head dim 64 only (CLIP's); every floating dtype, 16-bit
// types computed in f32.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// qkv: [batch, len, 3, heads, 64]; prefix_qkv (nullptr when groups == 0): [groups, prefix_len, 3, heads,
// 64], row b using group b / (batch / groups). out: [batch, len, heads, 64]; lse: f32 [batch, heads, len]
// (f64 for f64).
struct AttentionShape {
  int64_t batch, len, heads, groups, prefix_len;
  bool causal;
  double scale;
};

constexpr int kAttentionHeadDim = 64;

cudaError_t attention_forward(KDType dtype, const void* qkv, const void* prefix_qkv, void* out, void* lse,
                              const AttentionShape& s, cudaStream_t stream);

// Bytes of device scratch attention_backward needs (row deltas, and per-row prefix partial gradients).
size_t attention_backward_scratch_bytes(KDType dtype, const AttentionShape& s);

// Writes every entry of dqkv [batch, len, 3, heads, 64] and, when dprefix_qkv is not null, the k and v
// parts of dprefix_qkv [groups, prefix_len, 3, heads, 64] (the caller zeroes its q part).
cudaError_t attention_backward(KDType dtype, const void* qkv, const void* prefix_qkv, const void* out, const void* dout,
                               const void* lse, void* dqkv, void* dprefix_qkv, void* scratch, const AttentionShape& s,
                               cudaStream_t stream);

}  // namespace clipt::kernels
