// Differentiable operations on Tensors. Each op validates its inputs (errors name the op, shapes,
// dtypes, devices), dispatches the forward to the tensor's backend and, when some input requires grad,
// records a node whose backward is written with these same ops (so gradients run on every backend).
#pragma once
#include <optional>
#include <utility>
#include <vector>

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/core/tensor.h"

namespace clipt {

// ---------------------------------------------------------------- element-wise
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor rsub(double a, const Tensor& b);  // a − b
Tensor div(const Tensor& a, double b);
Tensor rdiv(double a, const Tensor& b);  // a / b
Tensor pow(const Tensor& a, double exponent);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor sign(const Tensor& x);        // not differentiable (zero gradient)
Tensor gelu(const Tensor& x);        // exact (erf) form
Tensor gelu_tanh(const Tensor& x);   // tanh approximation
Tensor quick_gelu(const Tensor& x);  // x·σ(1.702x), OpenAI CLIP's activation
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);

// Comparisons return Bool tensors and are not differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor eq(const Tensor& a, double b);
Tensor logical_not(const Tensor& x);

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(double a, const Tensor& b) { return rsub(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(double a, const Tensor& b) { return rdiv(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }

// ---------------------------------------------------------------- reductions
Tensor sum(const Tensor& x);  // all elements → 0-d
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);  // values; gradient to the argmax
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements
Tensor min(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
// The k largest along `dim`, sorted descending (ties: lower index first); values are differentiable.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1);
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased = true, bool keepdim = false);
Tensor norm(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);  // L2
Tensor norm(const Tensor& x);                                                          // L2 over all elements
// Sums x down to `shape` (the inverse of broadcasting; used by backward formulas).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---------------------------------------------------------------- shapes, views, copies
Tensor reshape(const Tensor& x, const Shape& shape);  // one dim may be −1
Tensor view(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start = 0, int64_t end = -1);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const Shape& order);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);  // negatives wrap
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);  // −1 keeps a dim
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to_dtype(const Tensor& x, DType dtype);
Tensor to_device(const Tensor& x, Device device);
Tensor cat(const TensorList& xs, int64_t dim);
Tensor stack(const TensorList& xs, int64_t dim);
TensorList split(const Tensor& x, int64_t split_size, int64_t dim);
TensorList split_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim);
// Views of every index along `dim` (dropped). One node for all of them: the backward stacks the
// gradients into one buffer instead of accumulating a zero-padded buffer per view.
TensorList unbind(const Tensor& x, int64_t dim);
// Repeats the whole tensor `repeats[i]` times along dim i (like torch.Tensor.repeat).
Tensor repeat(const Tensor& x, const Shape& repeats);

// ---------------------------------------------------------------- indexing
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index i64/i32 1-d
Tensor embedding(const Tensor& weight, const Tensor& ids);               // weight [V, D], ids any shape
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Non-differentiable in-place scatter-add into a copy of `x`.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor one_hot(const Tensor& labels, int64_t classes, DType dtype = DType::F32);

// ---------------------------------------------------------------- linear algebra
// Batched matmul with broadcasting of the batch dims: [..., m, k] · [..., k, n].
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x · wᵀ + bias with w [out, in] (PyTorch layout); x [..., in]. bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

// ---------------------------------------------------------------- neural-network functions
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Normalises over the last dim; w and b (shape [C]) may be undefined.
Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps = 1e-5);
// The residual add fused with the layer norm that follows it: {h, y} with h = x + residual (the residual
// stream, rounded to the dtype) and y = layer_norm(h, w, b, eps) — exactly add() then layer_norm(), in one
// pass. x and residual of different shapes or dtypes take that composed path.
std::pair<Tensor, Tensor> residual_layer_norm(const Tensor& x, const Tensor& residual, const Tensor& w, const Tensor& b,
                                              double eps = 1e-5);
// quick_gelu(x + bias) as one op, for the output x [..., C] of a bias-free GEMM and bias [C]: equals
// quick_gelu(add(x, bias)) (the sum rounded to the dtype); the backward recomputes the sum.
Tensor bias_quick_gelu(const Tensor& x, const Tensor& bias);
Tensor l2_normalize(const Tensor& x, int64_t dim = -1, double eps = 1e-12);
// ToTensor + Normalize on the tensor's device: uint8 images [B, 3, H, W] → (v / 255 − mean[c]) / std[c] in
// float32, rounded to `dtype` (f32, f16, bf16 or f64). Bit-identical to torchvision (and to the data
// loader's float path); ToTensor alone is mean {0, 0, 0}, std {1, 1, 1}. Not differentiable (uint8 input).
Tensor normalize_images(const Tensor& images, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                        DType dtype = DType::F32);
Tensor cosine_similarity(const Tensor& a, const Tensor& b, int64_t dim = -1, double eps = 1e-8);

enum class Reduction { None, Mean, Sum };
// Cross-entropy of logits [N, C] with integer labels [N] (−100 or any negative label is ignored and
// excluded from the mean, as PyTorch's ignore_index), optional label smoothing.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, double label_smoothing = 0.0,
                     Reduction reduction = Reduction::Mean);
// Cross-entropy with soft targets [N, C] (probabilities): −Σ t·log_softmax(x), mean over rows.
Tensor cross_entropy_soft(const Tensor& logits, const Tensor& target_probs, Reduction reduction = Reduction::Mean);
// PyTorch's F.kl_div(log_input, target) = Σ target·(log target − log_input); 'batchmean' divides by N.
enum class KLReduction { None, Sum, Mean, BatchMean };
Tensor kl_div(const Tensor& log_input, const Tensor& target, KLReduction reduction = KLReduction::BatchMean);

// q, k, v: [..., L, D] (k/v with their own length S); softmax(q·kᵀ·scale [+ causal mask])·v.
// scale defaults to 1/sqrt(D). The causal mask hides key j from query i when j > i + (S − L).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal = false,
                                    std::optional<double> scale = std::nullopt);
// Self-attention read straight from a fused QKV projection: qkv [B, L, 3·H·D] (q, k, v stacked, heads
// inside each, PyTorch's in_proj layout) → [B, L, H·D] with the heads merged. One fused op: the scores
// are never stored and the backward recomputes them (CPU: any head size; CUDA: head size 64, others take
// the composed path). With prefix_qkv [G, P, 3·H·D], row b also attends to the keys/values of group
// b / (B / G) placed before its own (causal: key j of [prefix, own] visible from query i when j <= i + P);
// the prefix's gradient is summed over the group's rows (its q part is zero).
Tensor fused_attention(const Tensor& qkv, int64_t heads, bool causal, std::optional<double> scale = std::nullopt,
                       const Tensor& prefix_qkv = Tensor());
// The same attention composed of split copies, matmuls and a materialised softmax (the reference).
Tensor composed_qkv_attention(const Tensor& qkv, int64_t heads, bool causal, std::optional<double> scale = std::nullopt,
                              const Tensor& prefix_qkv = Tensor());
// Convolution whose stride equals its kernel (ViT patch embedding): x [N, C, H, W], w [O, C, P, P],
// H and W multiples of P; returns [N, O, H/P, W/P]. Computed as reshape + matmul.
Tensor conv2d_patchify(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());
// The same convolution returning row-major patch tokens [N, (H/P)·(W/P), O] (ViT's layout), no copy back.
Tensor patch_embed(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

class Generator;
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

// ---------------------------------------------------------------- helpers for op implementations
// Output tensor of the given geometry on x's device.
Tensor empty_like(const Tensor& x, std::optional<DType> dtype = std::nullopt);
Tensor zeros_like(const Tensor& x, std::optional<DType> dtype = std::nullopt);
Tensor ones_like(const Tensor& x, std::optional<DType> dtype = std::nullopt);
void check_same_device(const char* op, const Tensor& a, const Tensor& b);

}  // namespace clipt
