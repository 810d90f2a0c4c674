// matmul / linear on the backend's strided-batched GEMM. Transposed operands are passed as flags, never
// copied; a frozen operand gets no gradient GEMM (the node asks needs_input_grad first).
#include "engine/ops/ops.h"

namespace clipt {

namespace {

// A 3-d view [batch, rows, cols] of an operand in a form the GEMM accepts.
struct Operand {
  Tensor t;
  bool trans = false;  // stored as [cols, rows]
  int64_t ld = 0;
  int64_t batch_stride = 0;
};

Operand as_operand(Tensor x) {  // x is 3-d
  const int64_t rows = x.size(1), cols = x.size(2);
  // Size-1 dims may carry any stride; treat them as compatible with either layout.
  const bool row_major = (cols == 1 || x.stride(2) == 1) && (rows == 1 || x.stride(1) >= cols);
  const bool col_major = (rows == 1 || x.stride(1) == 1) && (cols == 1 || x.stride(2) >= rows);
  if (row_major) return {x, false, rows == 1 ? std::max<int64_t>(cols, 1) : x.stride(1), x.stride(0)};
  if (col_major) return {x, true, cols == 1 ? std::max<int64_t>(rows, 1) : x.stride(2), x.stride(0)};
  Tensor c = x.contiguous();
  return {c, false, std::max<int64_t>(cols, 1), c.stride(0)};
}

// out[b] = a[b] · b[b] for 3-d views with equal (or stride-0 broadcast) batch.
Tensor bmm_raw(const Tensor& a3, const Tensor& b3, const Tensor& bias = Tensor()) {
  Operand a = as_operand(a3), b = as_operand(b3);
  const int64_t batch = a3.size(0), m = a3.size(1), k = a3.size(2), n = b3.size(2);
  Tensor c = Tensor::empty({batch, m, n}, a3.dtype(), a3.device());
  if (c.numel() == 0) return c;
  if (k == 0) return c.fill_(0.0);
  GemmArgs args;
  args.a = &a.t;
  args.b = &b.t;
  args.c = &c;
  args.bias = bias.defined() ? &bias : nullptr;
  args.trans_a = a.trans;
  args.trans_b = b.trans;
  args.batch = batch;
  args.m = m;
  args.n = n;
  args.k = k;
  args.lda = a.ld;
  args.ldb = b.ld;
  args.ldc = n;
  args.stride_a = batch > 1 ? a.batch_stride : 0;
  args.stride_b = batch > 1 ? b.batch_stride : 0;
  args.stride_c = m * n;
  Backend& be = backend_for(a3.device());
  ++be.gemm_calls;
  be.gemm(args);
  return c;
}

Tensor as3d(const Tensor& x) { return x.dim() == 2 ? unsqueeze(x, 0) : x; }

}  // namespace

Tensor matmul(const Tensor& a0, const Tensor& b0) {
  CLIPT_CHECK(a0.dim() >= 1 && b0.dim() >= 1, "matmul: 0-d operand ({} and {})", describe(a0), describe(b0));
  check_same_device("matmul", a0, b0);
  if (a0.dim() == 1) return squeeze(matmul(unsqueeze(a0, 0), b0), -2);
  if (b0.dim() == 1) return squeeze(matmul(a0, unsqueeze(b0, -1)), -1);
  const DType t = promote_types(a0.dtype(), b0.dtype());
  CLIPT_CHECK(is_floating(t), "matmul: expected floating tensors, got {} and {}", describe(a0), describe(b0));
  Tensor a = to_dtype(a0, t), b = to_dtype(b0, t);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  CLIPT_CHECK(b.size(-2) == k, "matmul: inner dimensions differ: {} · {}", shape_str(a.shape()), shape_str(b.shape()));
  Shape batch_a(a.shape().begin(), a.shape().end() - 2), batch_b(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);

  Tensor y;
  {
    NoGrad ng;
    if (batch_b.empty() && a.is_contiguous()) {
      // Fold the batch into rows: one GEMM [B·m, k] · [k, n].
      y = reshape(bmm_raw(reshape(a, {1, -1, k}), as3d(b)), out_shape);
    } else {
      Shape ea = batch, eb = batch;
      ea.insert(ea.end(), {m, k});
      eb.insert(eb.end(), {k, n});
      y = reshape(bmm_raw(reshape(expand(a, ea), {-1, m, k}), reshape(expand(b, eb), {-1, k, n})), out_shape);
    }
  }
  if (any_requires_grad({&a, &b})) {
    // Save only what the needed gradients read: dA needs B, dB needs A.
    Tensor ad = b.requires_grad() ? a.detach() : Tensor(), bd = a.requires_grad() ? b.detach() : Tensor();
    const Shape sa = a.shape(), sb = b.shape();
    record("matmul", {a, b}, {&y}, [ad, bd, sa, sb](const TensorList& g, const Node& node) -> TensorList {
      TensorList r(2);
      if (node.needs_input_grad(0)) r[0] = sum_to(matmul(g[0], transpose(bd, -1, -2)), sa);
      if (node.needs_input_grad(1)) r[1] = sum_to(matmul(transpose(ad, -1, -2), g[0]), sb);
      return r;
    });
  }
  return y;
}

Tensor linear(const Tensor& x0, const Tensor& w0, const Tensor& bias0) {
  CLIPT_CHECK(w0.dim() == 2, "linear: weight must be 2-d [out, in], got {}", describe(w0));
  CLIPT_CHECK(x0.dim() >= 1 && x0.size(-1) == w0.size(1), "linear: input {} does not match weight {} (in = {})",
              describe(x0), describe(w0), w0.size(1));
  check_same_device("linear", x0, w0);
  const int64_t in = w0.size(1), out = w0.size(0);
  DType t = promote_types(x0.dtype(), w0.dtype());
  if (bias0.defined()) {
    CLIPT_CHECK(bias0.dim() == 1 && bias0.size(0) == out, "linear: bias {} does not match weight {}", describe(bias0),
                describe(w0));
    t = promote_types(t, bias0.dtype());
  }
  Tensor x = to_dtype(x0, t), w = to_dtype(w0, t), bias = bias0.defined() ? to_dtype(bias0, t) : Tensor();
  Shape out_shape = x.shape();
  out_shape.back() = out;
  Tensor x2;
  Tensor y;
  {
    NoGrad ng;
    x2 = reshape(x, {1, -1, in});
    y = reshape(bmm_raw(x2, unsqueeze(transpose(w, 0, 1), 0), bias), out_shape);
  }
  TensorList inputs{x, w};
  if (bias.defined()) inputs.push_back(bias);
  if (any_requires_grad(inputs)) {
    Tensor xd = w.requires_grad() ? x2.detach() : Tensor(), wd = x.requires_grad() ? w.detach() : Tensor();
    const Shape sx = x.shape();
    record("linear", inputs, {&y}, [xd, wd, sx, in, out](const TensorList& g, const Node& node) -> TensorList {
      TensorList r(node.next.size());  // 2 inputs, or 3 with a bias
      Tensor dy = reshape(g[0], {1, -1, out});
      if (node.needs_input_grad(0)) r[0] = reshape(bmm_raw(dy, unsqueeze(wd, 0)), sx);
      if (node.needs_input_grad(1)) r[1] = reshape(bmm_raw(transpose(dy, 1, 2), xd), {out, in});
      if (node.needs_input_grad(2)) r[2] = sum(reshape(g[0], {-1, out}), {0});
      return r;
    });
  }
  return y;
}

}  // namespace clipt
