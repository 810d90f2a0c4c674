// Fused pieces of the transformer's residual block, each equal to the ops it replaces:
//   residual_layer_norm — h = x + residual and y = layer_norm(h) in one pass (the residual stream and
//                         the next sub-layer's input); backward: layer norm's dx plus h's own gradient;
//   bias_quick_gelu     — quick_gelu(x + bias) over a bias-free GEMM output; backward recomputes x + bias,
//                         so no biased pre-activation is ever stored.
#include "engine/ops/ops.h"

namespace clipt {

namespace {

Tensor stats_tensor(int64_t rows, const Tensor& x) {
  return Tensor::empty({rows}, x.dtype() == DType::F64 ? DType::F64 : DType::F32, x.device());
}

}  // namespace

std::pair<Tensor, Tensor> residual_layer_norm(const Tensor& x0, const Tensor& residual0, const Tensor& w0,
                                              const Tensor& b0, double eps) {
  check_same_device("residual_layer_norm", x0, residual0);
  // Broadcasting or mixed dtypes take the composed path (the fused kernel adds equal-shaped rows).
  if (x0.shape() != residual0.shape() || x0.dtype() != residual0.dtype() || x0.dim() < 1 || !is_floating(x0.dtype())) {
    Tensor h = add(x0, residual0);
    return {h, layer_norm(h, w0, b0, eps)};
  }
  const int64_t c = x0.size(-1);
  for (const Tensor* p : {&w0, &b0}) {
    if (!p->defined()) continue;
    check_same_device("residual_layer_norm", x0, *p);
    CLIPT_CHECK(p->dim() == 1 && p->size(0) == c, "residual_layer_norm: parameter {} does not match input {} (C = {})",
                describe(*p), describe(x0), c);
  }
  Tensor x = x0.contiguous(), residual = residual0.contiguous();
  Tensor w = w0.defined() ? to_dtype(w0, x.dtype()) : Tensor(), b = b0.defined() ? to_dtype(b0, x.dtype()) : Tensor();
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  Tensor h = empty_like(x), y = empty_like(x);
  Tensor mean_ = stats_tensor(rows, x), rstd = stats_tensor(rows, x);
  if (x.numel() > 0) backend_for(x.device()).residual_layer_norm(x, residual, w, b, eps, h, y, mean_, rstd);
  TensorList inputs{x, residual, w, b};
  if (any_requires_grad(inputs)) {
    Tensor hd = h.detach(), wd = w.defined() ? w.detach() : Tensor();
    record("residual_layer_norm", inputs, {&h, &y},
           [hd, wd, mean_, rstd](const TensorList& g, const Node& node) -> TensorList {
             const bool need_sum = node.needs_input_grad(0) || node.needs_input_grad(1);
             Tensor dsum = need_sum ? empty_like(hd) : Tensor();
             Tensor dw = node.needs_input_grad(2) ? empty_like(wd) : Tensor();
             Tensor db = node.needs_input_grad(3) ? Tensor::empty({hd.size(-1)}, hd.dtype(), hd.device()) : Tensor();
             Backend& be = backend_for(hd.device());
             if (hd.numel() > 0) be.layer_norm_backward(g[1].contiguous(), hd, wd, mean_, rstd, dsum, dw, db);
             // h's own consumers (the residual stream) add their gradient: dsum += dh, in place.
             if (need_sum && hd.numel() > 0) be.binary(BinaryOp::Add, dsum, g[0].to(hd.dtype()), dsum);
             return {node.needs_input_grad(0) ? dsum : Tensor(), node.needs_input_grad(1) ? dsum : Tensor(), dw, db};
           });
  }
  return {h, y};
}

Tensor bias_quick_gelu(const Tensor& x0, const Tensor& bias0) {
  CLIPT_CHECK(x0.dim() >= 1 && is_floating(x0.dtype()), "bias_quick_gelu: expected a floating tensor, got {}",
              describe(x0));
  check_same_device("bias_quick_gelu", x0, bias0);
  const int64_t c = x0.size(-1);
  CLIPT_CHECK(bias0.dim() == 1 && bias0.size(0) == c, "bias_quick_gelu: bias {} does not match input {} (C = {})",
              describe(bias0), describe(x0), c);
  Tensor x = x0.contiguous(), bias = to_dtype(bias0, x.dtype()).contiguous();
  Tensor y = empty_like(x);
  if (y.numel() > 0) backend_for(x.device()).bias_quick_gelu(x, bias, y);
  TensorList inputs{x, bias};
  if (any_requires_grad(inputs)) {
    Tensor xd = x.detach(), bd = bias.detach();
    record("bias_quick_gelu", inputs, {&y}, [xd, bd](const TensorList& g, const Node& node) -> TensorList {
      Tensor dx = empty_like(xd);
      if (dx.numel() > 0) backend_for(xd.device()).bias_quick_gelu_backward(g[0].contiguous(), xd, bd, dx);
      Tensor dbias = node.needs_input_grad(1) ? sum(reshape(dx, {-1, xd.size(-1)}), {0}) : Tensor();
      return {node.needs_input_grad(0) ? dx : Tensor(), dbias};
    });
  }
  return y;
}

}  // namespace clipt
