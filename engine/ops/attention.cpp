// Fused self-attention straight from a fused QKV projection, forward and backward as single backend
// primitives (Backend::attention): the score matrix is never stored, the backward recomputes the
// probabilities from the saved log-sum-exp, q/k/v are read in place from the projection's output and the
// heads are written merged. A shared key/value prefix (one per group of rows) serves the shared-prefix
// text encoding: its gradients come back summed over the group.
#include <cmath>

#include "engine/ops/ops.h"

namespace clipt {

namespace {

struct QkvGeometry {
  int64_t batch, len, heads, head_dim, groups = 0, prefix_len = 0;
};

QkvGeometry check_qkv(const Tensor& qkv, int64_t heads, const Tensor& prefix_qkv) {
  CLIPT_CHECK(qkv.dim() == 3 && is_floating(qkv.dtype()),
              "fused_attention: qkv must be a floating [B, L, 3·H·D] tensor, got {}", describe(qkv));
  CLIPT_CHECK(heads > 0 && qkv.size(2) % (3 * heads) == 0 && qkv.size(2) > 0,
              "fused_attention: qkv {} does not split into q, k, v of {} heads", describe(qkv), heads);
  QkvGeometry g{qkv.size(0), qkv.size(1), heads, qkv.size(2) / (3 * heads)};
  if (prefix_qkv.defined()) {
    check_same_device("fused_attention", qkv, prefix_qkv);
    CLIPT_CHECK(prefix_qkv.dim() == 3 && prefix_qkv.size(2) == qkv.size(2) && prefix_qkv.dtype() == qkv.dtype() &&
                    prefix_qkv.size(0) > 0 && g.batch % prefix_qkv.size(0) == 0,
                "fused_attention: prefix qkv {} must be [G, P, {}] of {} with G dividing the batch of qkv {}",
                describe(prefix_qkv), qkv.size(2), dtype_name(qkv.dtype()), describe(qkv));
    g.groups = prefix_qkv.size(0);
    g.prefix_len = prefix_qkv.size(1);
  }
  return g;
}

// The CUDA kernels are written for head dim 64 (CLIP's); other sizes take the composed path there.
bool fused_supported(const Tensor& qkv, int64_t head_dim) { return qkv.device().is_cpu() || head_dim == 64; }

}  // namespace

Tensor composed_qkv_attention(const Tensor& qkv, int64_t heads, bool causal, std::optional<double> scale,
                              const Tensor& prefix_qkv) {
  const QkvGeometry g = check_qkv(qkv, heads, prefix_qkv);
  const int64_t b = g.batch, l = g.len, d = g.head_dim;
  // [B, L, 3, H, D] → [3, B, H, L, D].
  TensorList parts = unbind(permute(reshape(qkv, {b, l, 3, heads, d}), {2, 0, 3, 1, 4}), 0);
  Tensor k = parts[1], v = parts[2];
  if (g.groups > 0) {
    const int64_t members = b / g.groups, p = g.prefix_len;
    TensorList pre = unbind(permute(reshape(prefix_qkv, {g.groups, p, 3, heads, d}), {2, 0, 3, 1, 4}), 0);
    auto per_row = [&](const Tensor& t) {  // [G, H, P, D] → [B, H, P, D], row r from group r / members
      return reshape(expand(unsqueeze(t, 1), {g.groups, members, heads, p, d}), {b, heads, p, d});
    };
    k = cat({per_row(pre[1]), k}, 2);
    v = cat({per_row(pre[2]), v}, 2);
  }
  Tensor o = scaled_dot_product_attention(parts[0], k, v, causal, scale);  // [B, H, L, D]
  return reshape(permute(o, {0, 2, 1, 3}), {b, l, heads * d});
}

Tensor fused_attention(const Tensor& qkv0, int64_t heads, bool causal, std::optional<double> scale,
                       const Tensor& prefix0) {
  const QkvGeometry g = check_qkv(qkv0, heads, prefix0);
  if (!fused_supported(qkv0, g.head_dim)) return composed_qkv_attention(qkv0, heads, causal, scale, prefix0);
  Tensor qkv = qkv0.contiguous();
  Tensor prefix = prefix0.defined() ? prefix0.contiguous() : Tensor();
  AttentionArgs args;
  args.batch = g.batch;
  args.len = g.len;
  args.heads = heads;
  args.head_dim = g.head_dim;
  args.groups = g.groups;
  args.prefix_len = g.prefix_len;
  args.causal = causal;
  args.scale = scale.value_or(1.0 / std::sqrt(double(g.head_dim)));
  const DType stats = qkv.dtype() == DType::F64 ? DType::F64 : DType::F32;
  Tensor out = Tensor::empty({g.batch, g.len, heads * g.head_dim}, qkv.dtype(), qkv.device());
  Tensor lse = Tensor::empty({g.batch, heads, g.len}, stats, qkv.device());
  if (out.numel() > 0) {
    args.qkv = &qkv;
    args.prefix_qkv = prefix.defined() ? &prefix : nullptr;
    backend_for(qkv.device()).attention(args, out, lse);
  }
  TensorList inputs{qkv, prefix};
  if (any_requires_grad(inputs)) {
    Tensor qd = qkv.detach(), pd = prefix.defined() ? prefix.detach() : Tensor(), od = out.detach();
    record("fused_attention", inputs, {&out}, [qd, pd, od, lse, args](const TensorList& grads, const Node& node) {
      Tensor dqkv = empty_like(qd);
      Tensor dprefix = node.needs_input_grad(1) ? empty_like(pd) : Tensor();
      if (od.numel() == 0) {
        dqkv.fill_(0.0);
        if (dprefix.defined()) dprefix.fill_(0.0);
        return TensorList{dqkv, dprefix};
      }
      AttentionArgs a = args;
      a.qkv = &qd;
      a.prefix_qkv = pd.defined() ? &pd : nullptr;
      backend_for(qd.device()).attention_backward(a, od, grads[0].contiguous(), lse, dqkv, dprefix);
      return TensorList{node.needs_input_grad(0) ? dqkv : Tensor(), dprefix};
    });
  }
  return out;
}

}  // namespace clipt
