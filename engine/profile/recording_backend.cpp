#include "engine/profile/recording_backend.h"

namespace clipt::profile {

double touched_bytes(const Tensor& t) {
  if (!t.defined()) return 0;
  double n = 1;
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.strides()[size_t(d)] != 0) n *= double(t.shape()[size_t(d)]);
  return n * double(t.element_size());
}

namespace {

OpShape shape_of(const Tensor& t) {
  OpShape s;
  if (!t.defined()) return s;
  const int64_t nd = std::min<int64_t>(t.dim(), int64_t(s.dims.size()));
  s.ndim = int8_t(nd);
  // Leading dims beyond six are folded into the first kept one.
  int64_t lead = 1;
  for (int64_t d = 0; d + nd < t.dim(); ++d) lead *= t.size(d);
  for (int64_t d = 0; d < nd; ++d) s.dims[size_t(d)] = int32_t(t.size(t.dim() - nd + d) * (d == 0 ? lead : 1));
  return s;
}

OpShape shape_of(std::initializer_list<int64_t> dims) {
  OpShape s;
  s.ndim = 0;
  for (int64_t d : dims)
    if (s.ndim < int8_t(s.dims.size())) s.dims[size_t(s.ndim++)] = int32_t(d);
  return s;
}

double numel(const Tensor& t) { return t.defined() ? double(t.numel()) : 0.0; }

}  // namespace

// Opens a record for the outermost backend call (nested ones are forwarded unrecorded).
class RecordingBackend::Call {
 public:
  Call(RecordingBackend& b, const char* op, DType dtype) : b_(b) {
    if (b_.session_.nesting_++ == 0 && b_.session_.recording()) {
      index_ = b_.session_.profile_.ops.size();
      b_.session_.begin_op(op, b_.device_timed_).dtype = dtype;
    }
  }
  ~Call() {
    if (index_ != kNone) b_.session_.end_op(b_.session_.profile_.ops[index_], b_.device_timed_);
    --b_.session_.nesting_;
  }
  // Fills the record's cost and shapes (no-op for an unrecorded call).
  void cost(double flops, double bytes, OpShape s0 = {}, OpShape s1 = {}, OpShape s2 = {}) {
    if (index_ == kNone) return;
    OpRecord& r = b_.session_.profile_.ops[index_];
    r.flops = flops;
    r.bytes = bytes;
    r.shapes = {s0, s1, s2};
  }
  // begin_op stamped the start already; costs are filled before the inner call but read only after it.
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

 private:
  static constexpr size_t kNone = size_t(-1);
  RecordingBackend& b_;
  size_t index_ = kNone;
};

void RecordingBackend::copy(const Tensor& src, Tensor& dst) {
  Call c(*this, "copy", dst.dtype());
  c.cost(0, touched_bytes(src) + touched_bytes(dst), shape_of(src));
  inner_.copy(src, dst);
}

void RecordingBackend::fill(Tensor& dst, double value) {
  Call c(*this, "fill", dst.dtype());
  c.cost(0, touched_bytes(dst), shape_of(dst));
  inner_.fill(dst, value);
}

void RecordingBackend::unary(UnaryOp op, const Tensor& x, Tensor& out, double a, double b) {
  Call c(*this, unary_record_name(op), x.dtype());
  c.cost(numel(out) * unary_flops_per_element(op), touched_bytes(x) + touched_bytes(out), shape_of(out));
  inner_.unary(op, x, out, a, b);
}

void RecordingBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  Call c(*this, binary_record_name(op), a.dtype());
  c.cost(numel(out) * binary_flops_per_element(op), touched_bytes(a) + touched_bytes(b) + touched_bytes(out),
         shape_of(out));
  inner_.binary(op, a, b, out);
}

void RecordingBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  Call c(*this, "where", out.dtype());
  c.cost(numel(out), touched_bytes(cond) + touched_bytes(a) + touched_bytes(b) + touched_bytes(out), shape_of(out));
  inner_.where(cond, a, b, out);
}

void RecordingBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) {
  static const char* names[] = {"reduce.sum", "reduce.mean", "reduce.max", "reduce.min", "reduce.sum_squares"};
  static_assert(int(ReduceOp::SumSquares) == 4, "reduce names follow ReduceOp");
  Call c(*this, names[int(op)], x.dtype());
  const double per = op == ReduceOp::SumSquares ? 2.0 : 1.0;
  c.cost(per * double(outer * n * inner), touched_bytes(x) + touched_bytes(out), shape_of({outer, n, inner}));
  inner_.reduce(op, x, outer, n, inner, out);
}

void RecordingBackend::arg_reduce(ArgReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                                  Tensor& out) {
  Call c(*this, op == ArgReduceOp::ArgMax ? "argmax" : "argmin", x.dtype());
  c.cost(double(outer * n * inner), touched_bytes(x) + touched_bytes(out), shape_of({outer, n, inner}));
  inner_.arg_reduce(op, x, outer, n, inner, out);
}

void RecordingBackend::topk(const Tensor& x, int64_t k, Tensor& values, Tensor& indices) {
  Call c(*this, "topk", x.dtype());
  c.cost(numel(x), touched_bytes(x) + touched_bytes(values) + touched_bytes(indices), shape_of(x));
  inner_.topk(x, k, values, indices);
}

// 2·m·n·k multiply-adds per batch entry; β ≠ 0 reads C and adds it, a bias adds one more per output.
void RecordingBackend::gemm(const GemmArgs& g) {
  Call c(*this, "gemm", g.c->dtype());
  const double es = double(g.c->element_size());
  const double outputs = double(g.batch) * double(g.m) * double(g.n);
  double flops = 2.0 * outputs * double(g.k);
  if (g.beta != 0.f) flops += 2.0 * outputs;
  if (g.bias) flops += outputs;
  const double a_batches = g.stride_a ? double(g.batch) : 1.0, b_batches = g.stride_b ? double(g.batch) : 1.0;
  double bytes = es * (a_batches * double(g.m * g.k) + b_batches * double(g.k * g.n) + outputs);
  if (g.beta != 0.f) bytes += es * outputs;
  if (g.bias) bytes += touched_bytes(*g.bias);
  c.cost(flops, bytes, shape_of({g.batch, g.m, g.k}), shape_of({g.batch, g.k, g.n}), shape_of({g.batch, g.m, g.n}));
  inner_.gemm(g);
  ++inner_.gemm_calls;  // the op layer counts on the backend it was handed (this one); keep the device's right
}

void RecordingBackend::softmax(const Tensor& x, Tensor& out, bool log, double scale, bool causal) {
  Call c(*this, log ? "log_softmax" : "softmax", x.dtype());
  c.cost(5.0 * numel(x), touched_bytes(x) + touched_bytes(out), shape_of(x));
  inner_.softmax(x, out, log, scale, causal);
}

void RecordingBackend::softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx, bool log, double scale) {
  Call c(*this, log ? "log_softmax_backward" : "softmax_backward", dy.dtype());
  c.cost(4.0 * numel(dy), touched_bytes(dy) + touched_bytes(y) + touched_bytes(dx), shape_of(dy));
  inner_.softmax_backward(dy, y, dx, log, scale);
}

// Fused attention: q·kᵀ and p·v (2 FLOPs per multiply-add each) over the visible keys (about half under
// the causal mask), plus the softmax; the backward recomputes q·kᵀ and adds dout·vᵀ, dq, dk and dv.
namespace {
double attention_flops(const AttentionArgs& a, double products) {
  const double keys = double(a.prefix_len) + (a.causal ? 0.5 * double(a.len + 1) : double(a.len));
  return products * 2.0 * double(a.batch * a.heads * a.len) * keys * double(a.head_dim);
}
}  // namespace

void RecordingBackend::attention(const AttentionArgs& a, Tensor& out, Tensor& lse) {
  Call c(*this, "attention", a.qkv->dtype());
  c.cost(attention_flops(a, 2.0),
         touched_bytes(*a.qkv) + (a.prefix_qkv ? touched_bytes(*a.prefix_qkv) : 0.0) + touched_bytes(out) +
             touched_bytes(lse),
         shape_of(*a.qkv));
  inner_.attention(a, out, lse);
}

void RecordingBackend::attention_backward(const AttentionArgs& a, const Tensor& out, const Tensor& dout,
                                          const Tensor& lse, Tensor& dqkv, Tensor& dprefix_qkv) {
  Call c(*this, "attention_backward", a.qkv->dtype());
  c.cost(attention_flops(a, 5.0),
         touched_bytes(*a.qkv) + (a.prefix_qkv ? 2.0 * touched_bytes(*a.prefix_qkv) : 0.0) + touched_bytes(out) +
             touched_bytes(dout) + touched_bytes(lse) + touched_bytes(dqkv),
         shape_of(*a.qkv));
  inner_.attention_backward(a, out, dout, lse, dqkv, dprefix_qkv);
}

// Mean, variance (subtract, square, add), normalise (subtract, multiply), affine (multiply, add).
void RecordingBackend::layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, Tensor& y,
                                  Tensor& mean, Tensor& rstd) {
  Call c(*this, "layer_norm", x.dtype());
  c.cost(8.0 * numel(x),
         touched_bytes(x) + touched_bytes(w) + touched_bytes(b) + touched_bytes(y) + touched_bytes(mean) +
             touched_bytes(rstd),
         shape_of(x));
  inner_.layer_norm(x, w, b, eps, y, mean, rstd);
}

void RecordingBackend::layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& mean,
                                           const Tensor& rstd, Tensor& dx, Tensor& dw, Tensor& db) {
  Call c(*this, "layer_norm_backward", x.dtype());
  c.cost(12.0 * numel(x),
         touched_bytes(dy) + touched_bytes(x) + touched_bytes(w) + touched_bytes(mean) + touched_bytes(rstd) +
             touched_bytes(dx) + touched_bytes(dw) + touched_bytes(db),
         shape_of(x));
  inner_.layer_norm_backward(dy, x, w, mean, rstd, dx, dw, db);
}

// The add (1 FLOP) and the layer norm's 8 per element; h is written besides y.
void RecordingBackend::residual_layer_norm(const Tensor& x, const Tensor& residual, const Tensor& w, const Tensor& b,
                                           double eps, Tensor& h, Tensor& y, Tensor& mean, Tensor& rstd) {
  Call c(*this, "residual_layer_norm", x.dtype());
  c.cost(9.0 * numel(x),
         touched_bytes(x) + touched_bytes(residual) + touched_bytes(w) + touched_bytes(b) + touched_bytes(h) +
             touched_bytes(y) + touched_bytes(mean) + touched_bytes(rstd),
         shape_of(x));
  inner_.residual_layer_norm(x, residual, w, b, eps, h, y, mean, rstd);
}

// Bias add, exp, add, divide, multiply (as the unary QuickGELU plus the add).
void RecordingBackend::bias_quick_gelu(const Tensor& x, const Tensor& bias, Tensor& out) {
  Call c(*this, "bias_quick_gelu", x.dtype());
  c.cost(5.0 * numel(x), touched_bytes(x) + touched_bytes(bias) + touched_bytes(out), shape_of(x));
  inner_.bias_quick_gelu(x, bias, out);
}

// Recomputes z and σ, then σ + 1.702·z·σ·(1 − σ) times dy.
void RecordingBackend::bias_quick_gelu_backward(const Tensor& dy, const Tensor& x, const Tensor& bias, Tensor& dx) {
  Call c(*this, "bias_quick_gelu_backward", x.dtype());
  c.cost(10.0 * numel(x), touched_bytes(dy) + touched_bytes(x) + touched_bytes(bias) + touched_bytes(dx), shape_of(x));
  inner_.bias_quick_gelu_backward(dy, x, bias, dx);
}

// A divide, a subtract and a divide per pixel; one byte read, one element written.
void RecordingBackend::normalize_images(const Tensor& images, const std::array<float, 3>& mean,
                                        const std::array<float, 3>& std, Tensor& out) {
  Call c(*this, "normalize_images", out.dtype());
  c.cost(3.0 * numel(images), touched_bytes(images) + touched_bytes(out), shape_of(images));
  inner_.normalize_images(images, mean, std, out);
}

void RecordingBackend::cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& loss,
                                     Tensor& lse) {
  Call c(*this, "cross_entropy", logits.dtype());
  c.cost(4.0 * numel(logits), touched_bytes(logits) + touched_bytes(labels) + touched_bytes(loss) + touched_bytes(lse),
         shape_of(logits));
  inner_.cross_entropy(logits, labels, smoothing, loss, lse);
}

void RecordingBackend::cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                                              const Tensor& grad_loss, double smoothing, Tensor& dlogits) {
  Call c(*this, "cross_entropy_backward", logits.dtype());
  c.cost(4.0 * numel(logits),
         touched_bytes(logits) + touched_bytes(labels) + touched_bytes(lse) + touched_bytes(grad_loss) +
             touched_bytes(dlogits),
         shape_of(logits));
  inner_.cross_entropy_backward(logits, labels, lse, grad_loss, smoothing, dlogits);
}

void RecordingBackend::index_select(const Tensor& x, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                                    Tensor& out) {
  Call c(*this, "index_select", x.dtype());
  c.cost(0, 2.0 * touched_bytes(out) + touched_bytes(index), shape_of(x), shape_of(index));
  inner_.index_select(x, index, outer, n, inner, out);
}

void RecordingBackend::index_add(Tensor& out, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                                 const Tensor& src) {
  Call c(*this, "index_add", out.dtype());
  c.cost(numel(src), 3.0 * touched_bytes(src) + touched_bytes(index), shape_of(out), shape_of(src));
  inner_.index_add(out, index, outer, n, inner, src);
}

void RecordingBackend::gather(const Tensor& x, int64_t dim, const Tensor& index, Tensor& out) {
  Call c(*this, "gather", x.dtype());
  c.cost(0, 2.0 * touched_bytes(out) + touched_bytes(index), shape_of(x), shape_of(index));
  inner_.gather(x, dim, index, out);
}

void RecordingBackend::scatter_add(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  Call c(*this, "scatter_add", out.dtype());
  c.cost(numel(src), 3.0 * touched_bytes(src) + touched_bytes(index), shape_of(out), shape_of(src));
  inner_.scatter_add(out, dim, index, src);
}

void RecordingBackend::random(RandomKind kind, Tensor& out, uint64_t seed, uint64_t offset, double a, double b) {
  Call c(*this, "random", out.dtype());
  c.cost(0, touched_bytes(out), shape_of(out));
  inner_.random(kind, out, seed, offset, a, b);
}

// SGD: decay, momentum, (nesterov), update ≈ 6 FLOPs; reads param, grad, buffer, writes param, buffer.
void RecordingBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdArgs& args) {
  Call c(*this, "sgd_update", param.dtype());
  c.cost(6.0 * numel(param), 2.0 * touched_bytes(param) + touched_bytes(grad) + 2.0 * touched_bytes(momentum_buffer),
         shape_of(param));
  inner_.sgd_update(param, grad, momentum_buffer, args);
}

// AdamW: two moment updates, bias corrections, sqrt, divide, decay ≈ 14 FLOPs; param, m, v read and written.
void RecordingBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                                    const AdamWArgs& args) {
  Call c(*this, "adamw_update", param.dtype());
  c.cost(14.0 * numel(param), 6.0 * touched_bytes(param) + touched_bytes(grad), shape_of(param));
  inner_.adamw_update(param, grad, exp_avg, exp_avg_sq, args);
}

// A transfer to the host blocks until the device has produced the data: host-wait time.
void RecordingBackend::copy_to_host(const Tensor& src, void* dst) {
  PhaseScope wait(Phase::HostWait);
  Call c(*this, "copy_to_host", src.dtype());
  c.cost(0, touched_bytes(src), shape_of(src));
  inner_.copy_to_host(src, dst);
}

void RecordingBackend::copy_from_host(const void* src, Tensor& dst) {
  Call c(*this, "copy_from_host", dst.dtype());
  c.cost(0, touched_bytes(dst), shape_of(dst));
  inner_.copy_from_host(src, dst);
}

void RecordingBackend::synchronize() {
  PhaseScope wait(Phase::HostWait);
  Call c(*this, "synchronize", DType::F32);
  inner_.synchronize();
}

}  // namespace clipt::profile
