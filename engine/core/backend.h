// The primitive kernels every device implements. Ops (engine/ops) validate arguments, allocate outputs
// and record autograd; a Backend only computes. The CPU backend is the reference; the CUDA backend calls
// kernels/ and cuBLASLt. Conventions unless a method says otherwise:
//   - outputs are freshly allocated, contiguous and on the same device as the inputs;
//   - inputs of the element-wise primitives may be strided views already expanded to the output shape
//     (stride 0 along broadcast dims);
//   - 16-bit floats are computed in f32; reductions, softmax, layer norm and losses accumulate in f32
//     (f64 for f64 tensors).
#pragma once
#include <array>
#include <cstdint>

#include "engine/core/tensor.h"
#include "kernels/elementwise_ops.h"

namespace clipt {

// The element-wise op lists and their formulas are written once, in kernels/elementwise_ops.h.
using kernels::BinaryOp;
using kernels::op_name;
using kernels::UnaryOp;

enum class ReduceOp : uint8_t { Sum, Mean, Max, Min, SumSquares };
enum class ArgReduceOp : uint8_t { ArgMax, ArgMin };
enum class RandomKind : uint8_t { Uniform /* [a, b) */, Normal /* mean a, std b */, Bernoulli /* p = a */ };

// C[batch] = alpha · op(A[batch]) · op(B[batch]) + beta · C[batch] (+ bias[n] broadcast over rows).
// Matrices are row-major views: A is m×k (k×m when trans_a) with leading dimension lda, etc. A batch
// stride of 0 broadcasts that operand. All three share one dtype; accumulation is f32 (f64 for f64).
struct GemmArgs {
  const Tensor* a = nullptr;
  const Tensor* b = nullptr;
  Tensor* c = nullptr;
  const Tensor* bias = nullptr;  // optional, length n, same dtype
  bool trans_a = false, trans_b = false;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  float alpha = 1.f, beta = 0.f;
};

struct SgdArgs {
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // PyTorch initialises the momentum buffer to the first gradient
};

struct AdamWArgs {
  float lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1-based, for bias correction
};

// Fused self-attention over the output of a fused QKV projection (one op: no score matrix in memory).
// qkv is contiguous [B, L, 3·H·D] laid out [B, L, 3, H, D] (q, k, v stacked, heads inside each); out is
// contiguous [B, L, H·D] (heads merged). With a shared prefix, prefix_qkv is contiguous [G, P, 3·H·D]
// (only its k and v are read) and batch row b also attends to the P keys of group b / (B / G), placed
// before its own keys: key j of the concatenation [prefix, own] is visible from query i when
// j <= i + P under the causal mask (all keys otherwise). lse (f32, f64 for f64) is [B, H, L]:
// the log-sum-exp of each query row's scaled scores, saved for the backward's recomputation.
struct AttentionArgs {
  const Tensor* qkv = nullptr;
  const Tensor* prefix_qkv = nullptr;  // optional
  int64_t batch = 0, len = 0, heads = 0, head_dim = 0;
  int64_t groups = 0, prefix_len = 0;  // groups = 0: no prefix
  bool causal = false;
  double scale = 1.0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // dst ← src (same shape, any strides, dtype conversion allowed, same device).
  virtual void copy(const Tensor& src, Tensor& dst) = 0;
  virtual void fill(Tensor& dst, double value) = 0;  // dst contiguous
  virtual void unary(UnaryOp op, const Tensor& x, Tensor& out, double a, double b) = 0;
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) = 0;
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) = 0;

  // x is contiguous and viewed as [outer, n, inner]; out is [outer, inner]. Deterministic order.
  virtual void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) = 0;
  virtual void arg_reduce(ArgReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                          Tensor& out) = 0;  // out i64
  // Along the last dim of contiguous x [rows, n]: the k largest, sorted descending, ties by lower index.
  virtual void topk(const Tensor& x, int64_t k, Tensor& values, Tensor& indices) = 0;

  virtual void gemm(const GemmArgs& args) = 0;

  // Softmax over the last dim of contiguous x [rows, n] after scaling by `scale`. With `causal`, x is
  // viewed as [.., q, n] and entry j of query row i is masked when j > i + (n − q).
  virtual void softmax(const Tensor& x, Tensor& out, bool log, double scale, bool causal) = 0;
  // dx = scale · (y ⊙ (dy − Σ dy⊙y)) for softmax, scale · (dy − exp(y)·Σ dy) for log_softmax.
  virtual void softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx, bool log, double scale) = 0;

  // See AttentionArgs. attention writes out and lse; attention_backward recomputes the probabilities from
  // lse and writes dqkv ([B, L, 3·H·D], every entry) and, when defined, dprefix_qkv ([G, P, 3·H·D]: the
  // prefix's k/v gradients summed over its group's rows, q part zero).
  virtual void attention(const AttentionArgs& args, Tensor& out, Tensor& lse) = 0;
  virtual void attention_backward(const AttentionArgs& args, const Tensor& out, const Tensor& dout, const Tensor& lse,
                                  Tensor& dqkv, Tensor& dprefix_qkv) = 0;

  // Over the last dim of contiguous x [rows, c]; mean and rstd are f32 [rows]. w, b may be undefined.
  virtual void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, Tensor& y, Tensor& mean,
                          Tensor& rstd) = 0;
  // Computes the requested gradients (undefined outputs are skipped; dw/db accumulate in f32).
  virtual void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& mean,
                                   const Tensor& rstd, Tensor& dx, Tensor& dw, Tensor& db) = 0;

  // The residual block's add fused with the next layer norm: h = x + residual (written, rounded to the
  // dtype, the residual stream), then y = layer_norm(h) exactly as layer_norm would compute it from h.
  // x, residual, h, y contiguous and of one shape; the backward is layer_norm_backward on h.
  virtual void residual_layer_norm(const Tensor& x, const Tensor& residual, const Tensor& w, const Tensor& b,
                                   double eps, Tensor& h, Tensor& y, Tensor& mean, Tensor& rstd) = 0;

  // Bias + QuickGELU of a bias-free GEMM output, over contiguous x [rows, c] and bias [c]:
  // out = z·σ(1.702·z) with z = x + bias rounded to the dtype (as a GEMM epilogue would store it), and the
  // backward dx = dy ⊙ q'(z) recomputing z from x (z itself is never stored).
  virtual void bias_quick_gelu(const Tensor& x, const Tensor& bias, Tensor& out) = 0;
  virtual void bias_quick_gelu_backward(const Tensor& dy, const Tensor& x, const Tensor& bias, Tensor& dx) = 0;

  // ToTensor + Normalize of contiguous uint8 images [B, 3, H, W] (as the data loader stages them) into
  // contiguous `out` of the same shape and a floating dtype: out = (v / 255 − mean[c]) / std[c] computed in
  // f32 (kernels/normalize_images_math.h) and rounded to out's dtype.
  virtual void normalize_images(const Tensor& images, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                                Tensor& out) = 0;

  // Row losses of contiguous logits [n, c] with i64 labels [n] (label < 0: ignored, loss 0) and label
  // smoothing; lse (f32 [n]) is saved for the backward. No probabilities are materialised.
  virtual void cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& loss,
                             Tensor& lse) = 0;
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                                      const Tensor& grad_loss, double smoothing, Tensor& dlogits) = 0;

  // out = x.index_select(dim, index) for contiguous x viewed as [outer, n, inner]; index i64 [m].
  virtual void index_select(const Tensor& x, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                            Tensor& out) = 0;
  // out[:, index[i], :] += src[:, i, :] in a deterministic order (the backward of index_select).
  virtual void index_add(Tensor& out, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                         const Tensor& src) = 0;
  // torch.gather / scatter_add along `dim` for contiguous tensors of equal rank.
  virtual void gather(const Tensor& x, int64_t dim, const Tensor& index, Tensor& out) = 0;
  virtual void scatter_add(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) = 0;

  // Philox-4x32-10 keyed by seed; element i uses counter (offset + i/4, lane i%4) so CPU and GPU agree.
  virtual void random(RandomKind kind, Tensor& out, uint64_t seed, uint64_t offset, double a, double b) = 0;

  // Fused optimizer updates on contiguous f32 tensors (master weights). grad may be f16/bf16/f32.
  virtual void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdArgs& args) = 0;
  virtual void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                            const AdamWArgs& args) = 0;

  // Host ↔ device transfers (only the CUDA backend moves data; dst and src are contiguous).
  virtual void copy_to_host(const Tensor& src, void* dst) = 0;
  virtual void copy_from_host(const void* src, Tensor& dst) = 0;
  virtual void synchronize() {}

  // Counters used by tests and benchmarks (e.g. "a frozen weight triggers no weight-gradient GEMM").
  int64_t gemm_calls = 0;
};

Backend& backend_for(Device device);
Backend& cpu_backend();
Backend& cuda_backend();  // throws when clipt was built without CUDA or no device is present
bool cuda_available();    // built with CUDA and at least one device visible
int cuda_device_count();
std::shared_ptr<Storage> cuda_allocate(size_t nbytes, int device);
// Copies between host and a CUDA device (or between two CUDA devices).
void cuda_copy_between(const Tensor& src, Tensor& dst);

}  // namespace clipt
