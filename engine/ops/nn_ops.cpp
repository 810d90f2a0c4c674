// Neural-network functions: softmax family, layer norm, losses, attention, patch embedding. The heavy
// parts are fused backend primitives (statistics in f32); the rest is composed from ops.
#include <cmath>

#include "engine/ops/ops.h"

namespace clipt {

namespace {

// Softmax over the last dim of x·scale, optionally with a causal mask over the last two dims.
Tensor softmax_last(const Tensor& x0, bool log, double scale, bool causal) {
  CLIPT_CHECK(is_floating(x0.dtype()), "{}: expected a floating tensor, got {}", log ? "log_softmax" : "softmax",
              describe(x0));
  Tensor x = x0.contiguous();
  Tensor y = empty_like(x);
  if (y.numel() > 0) backend_for(x.device()).softmax(x, y, log, scale, causal);
  if (any_requires_grad({&x})) {
    Tensor yd = y.detach();
    record(log ? "log_softmax" : "softmax", {x}, {&y},
           [yd, log, scale](const TensorList& g, const Node&) -> TensorList {
             Tensor dx = empty_like(yd);
             if (dx.numel() > 0) backend_for(yd.device()).softmax_backward(g[0].contiguous(), yd, dx, log, scale);
             return {dx};
           });
  }
  return y;
}

Tensor softmax_dim(const Tensor& x, int64_t dim, bool log) {
  if (x.dim() == 0) return softmax_last(reshape(x, {1}), log, 1.0, false).reshape({});
  const int64_t d = wrap_dim(dim, x.dim(), log ? "log_softmax" : "softmax");
  if (d == x.dim() - 1) return softmax_last(x, log, 1.0, false);
  return transpose(softmax_last(transpose(x, d, -1), log, 1.0, false), d, -1);
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_dim(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_dim(x, dim, true); }

Tensor layer_norm(const Tensor& x0, const Tensor& w0, const Tensor& b0, double eps) {
  CLIPT_CHECK(x0.dim() >= 1 && is_floating(x0.dtype()), "layer_norm: expected a floating tensor, got {}", describe(x0));
  const int64_t c = x0.size(-1);
  for (const Tensor* p : {&w0, &b0}) {
    if (!p->defined()) continue;
    check_same_device("layer_norm", x0, *p);
    CLIPT_CHECK(p->dim() == 1 && p->size(0) == c, "layer_norm: parameter {} does not match input {} (C = {})",
                describe(*p), describe(x0), c);
  }
  Tensor x = x0.contiguous();
  // Parameters are used in the activation dtype (mixed precision keeps them in the model dtype anyway).
  Tensor w = w0.defined() ? to_dtype(w0, x.dtype()) : Tensor(), b = b0.defined() ? to_dtype(b0, x.dtype()) : Tensor();
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  Tensor y = empty_like(x);
  Tensor mean_ = Tensor::empty({rows}, DType::F32, x.device()), rstd = Tensor::empty({rows}, DType::F32, x.device());
  if (x.dtype() == DType::F64) {
    mean_ = Tensor::empty({rows}, DType::F64, x.device());
    rstd = Tensor::empty({rows}, DType::F64, x.device());
  }
  if (y.numel() > 0) backend_for(x.device()).layer_norm(x, w, b, eps, y, mean_, rstd);
  TensorList inputs{x};
  inputs.push_back(w.defined() ? w : Tensor());
  inputs.push_back(b.defined() ? b : Tensor());
  if (any_requires_grad(inputs)) {
    Tensor xd = x.detach(), wd = w.defined() ? w.detach() : Tensor();
    Tensor md = mean_, rd = rstd;
    record("layer_norm", inputs, {&y}, [xd, wd, md, rd](const TensorList& g, const Node& node) -> TensorList {
      Tensor dx = node.needs_input_grad(0) ? empty_like(xd) : Tensor();
      Tensor dw = node.needs_input_grad(1) ? empty_like(wd) : Tensor();
      Tensor db = node.needs_input_grad(2) ? Tensor::empty({xd.size(-1)}, xd.dtype(), xd.device()) : Tensor();
      backend_for(xd.device()).layer_norm_backward(g[0].contiguous(), xd, wd, md, rd, dx, dw, db);
      return {dx, dw, db};
    });
  }
  return y;
}

Tensor l2_normalize(const Tensor& x, int64_t dim, double eps) {
  return div(x, clamp(norm(x, {dim}, true), eps, std::nullopt));
}

Tensor cosine_similarity(const Tensor& a, const Tensor& b, int64_t dim, double eps) {
  return sum(mul(l2_normalize(a, dim, eps), l2_normalize(b, dim, eps)), {dim});
}

Tensor cross_entropy(const Tensor& logits0, const Tensor& labels0, double label_smoothing, Reduction reduction) {
  CLIPT_CHECK(logits0.dim() == 2, "cross_entropy: logits must be [N, C], got {}", describe(logits0));
  CLIPT_CHECK(labels0.dim() == 1 && labels0.size(0) == logits0.size(0),
              "cross_entropy: labels {} do not match logits {}", describe(labels0), describe(logits0));
  CLIPT_CHECK(labels0.dtype() == DType::I64 || labels0.dtype() == DType::I32,
              "cross_entropy: labels must be integers, got {}", describe(labels0));
  CLIPT_CHECK(label_smoothing >= 0 && label_smoothing <= 1, "cross_entropy: label_smoothing {} outside [0, 1]",
              label_smoothing);
  check_same_device("cross_entropy", logits0, labels0);
  Tensor logits = logits0.contiguous();
  Tensor labels = labels0.to(DType::I64).contiguous();
  const DType loss_dtype = logits.dtype() == DType::F64 ? DType::F64 : DType::F32;
  const int64_t n = logits.size(0);
  Tensor loss = Tensor::empty({n}, loss_dtype, logits.device());
  Tensor lse = Tensor::empty({n}, loss_dtype, logits.device());
  if (n > 0) backend_for(logits.device()).cross_entropy(logits, labels, label_smoothing, loss, lse);
  if (any_requires_grad({&logits})) {
    Tensor ld = logits.detach();
    record("cross_entropy", {logits}, {&loss},
           [ld, labels, lse, label_smoothing](const TensorList& g, const Node&) -> TensorList {
             Tensor dlogits = empty_like(ld);
             if (dlogits.numel() > 0)
               backend_for(ld.device())
                   .cross_entropy_backward(ld, labels, lse, g[0].contiguous(), label_smoothing, dlogits);
             return {dlogits};
           });
  }
  switch (reduction) {
    case Reduction::None: return loss;
    case Reduction::Sum: return sum(loss);
    case Reduction::Mean: {
      Tensor counted = sum(to_dtype(ge(labels, 0.0), loss_dtype));
      return div(sum(loss), counted);
    }
  }
  return loss;
}

Tensor cross_entropy_soft(const Tensor& logits, const Tensor& target, Reduction reduction) {
  CLIPT_CHECK(logits.shape() == target.shape() && logits.dim() == 2,
              "cross_entropy_soft: logits {} and targets {} must both be [N, C]", describe(logits), describe(target));
  Tensor rows = neg(sum(mul(target, log_softmax(logits, -1)), {-1}));
  if (reduction == Reduction::None) return rows;
  return reduction == Reduction::Sum ? sum(rows) : mean(rows);
}

Tensor kl_div(const Tensor& log_input, const Tensor& target, KLReduction reduction) {
  CLIPT_CHECK(log_input.shape() == target.shape(), "kl_div: input {} and target {} differ", describe(log_input),
              describe(target));
  // target·(log target − input), with 0·log 0 = 0.
  Tensor positive = gt(target, 0.0);
  Tensor safe_t = where(positive, target, Tensor::scalar(1, target.dtype(), target.device()));
  Tensor pointwise = where(positive, mul(target, sub(log(safe_t), log_input)),
                           Tensor::scalar(0, log_input.dtype(), log_input.device()));
  switch (reduction) {
    case KLReduction::None: return pointwise;
    case KLReduction::Sum: return sum(pointwise);
    case KLReduction::Mean: return mean(pointwise);
    case KLReduction::BatchMean: return div(sum(pointwise), double(std::max<int64_t>(log_input.size(0), 1)));
  }
  return pointwise;
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                                    std::optional<double> scale) {
  CLIPT_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(),
              "attention: q {}, k {}, v {} must have the same rank >= 2", describe(q), describe(k), describe(v));
  CLIPT_CHECK(q.size(-1) == k.size(-1) && k.size(-2) == v.size(-2),
              "attention: q {}, k {}, v {} have incompatible shapes", describe(q), describe(k), describe(v));
  const double s = scale.value_or(1.0 / std::sqrt(double(q.size(-1))));
  Tensor scores = matmul(q, transpose(k, -1, -2));
  Tensor probs = softmax_last(scores, false, s, causal);
  return matmul(probs, v);
}

Tensor patch_embed(const Tensor& x, const Tensor& w, const Tensor& bias) {
  CLIPT_CHECK(x.dim() == 4 && w.dim() == 4, "patch_embed: expected x [N, C, H, W] and w [O, C, P, P], got {} and {}",
              describe(x), describe(w));
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t o = w.size(0), p = w.size(2);
  CLIPT_CHECK(w.size(1) == c && w.size(3) == p, "patch_embed: weight {} does not match input {}", describe(w),
              describe(x));
  CLIPT_CHECK(h % p == 0 && wd % p == 0, "patch_embed: image {}x{} is not a multiple of the patch size {}", h, wd, p);
  const int64_t gh = h / p, gw = wd / p;
  // [N, C, gh, P, gw, P] → [N, gh, gw, C, P, P] → rows of C·P·P, then one GEMM with w as [O, C·P·P].
  Tensor patches = reshape(permute(reshape(x, {n, c, gh, p, gw, p}), {0, 2, 4, 1, 3, 5}), {n * gh * gw, c * p * p});
  return reshape(linear(patches, reshape(w, {o, c * p * p}), bias), {n, gh * gw, o});
}

Tensor conv2d_patchify(const Tensor& x, const Tensor& w, const Tensor& bias) {
  Tensor tokens = patch_embed(x, w, bias);  // [N, gh·gw, O]
  const int64_t p = w.size(2);
  return permute(reshape(tokens, {x.size(0), x.size(2) / p, x.size(3) / p, w.size(0)}), {0, 3, 1, 2});
}

}  // namespace clipt
