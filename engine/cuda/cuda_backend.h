// The CUDA backend: every Backend primitive on NVIDIA GPUs. Each method validates what the kernels rely
// on, picks the device and this thread's current stream, and calls a launcher in kernels/ (or cuBLASLt
// for GEMM). Definitions are split by family across engine/cuda/*.cpp, mirroring engine/cpu/.
#pragma once
#include "engine/core/backend.h"

namespace clipt::cuda {

class CudaBackend final : public Backend {
 public:
  void copy(const Tensor& src, Tensor& dst) override;
  void fill(Tensor& dst, double value) override;
  void unary(UnaryOp op, const Tensor& x, Tensor& out, double a, double b) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) override;
  void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) override;
  void arg_reduce(ArgReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) override;
  void topk(const Tensor& x, int64_t k, Tensor& values, Tensor& indices) override;
  void gemm(const GemmArgs& args) override;
  void softmax(const Tensor& x, Tensor& out, bool log, double scale, bool causal) override;
  void softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx, bool log, double scale) override;
  void attention(const AttentionArgs& args, Tensor& out, Tensor& lse) override;
  void attention_backward(const AttentionArgs& args, const Tensor& out, const Tensor& dout, const Tensor& lse,
                          Tensor& dqkv, Tensor& dprefix_qkv) override;
  void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, Tensor& y, Tensor& mean,
                  Tensor& rstd) override;
  void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd,
                           Tensor& dx, Tensor& dw, Tensor& db) override;
  void residual_layer_norm(const Tensor& x, const Tensor& residual, const Tensor& w, const Tensor& b, double eps,
                           Tensor& h, Tensor& y, Tensor& mean, Tensor& rstd) override;
  void bias_quick_gelu(const Tensor& x, const Tensor& bias, Tensor& out) override;
  void bias_quick_gelu_backward(const Tensor& dy, const Tensor& x, const Tensor& bias, Tensor& dx) override;
  void normalize_images(const Tensor& images, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                        Tensor& out) override;
  void cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& loss, Tensor& lse) override;
  void cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse, const Tensor& grad_loss,
                              double smoothing, Tensor& dlogits) override;
  void index_select(const Tensor& x, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                    Tensor& out) override;
  void index_add(Tensor& out, const Tensor& index, int64_t outer, int64_t n, int64_t inner, const Tensor& src) override;
  void gather(const Tensor& x, int64_t dim, const Tensor& index, Tensor& out) override;
  void scatter_add(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) override;
  void random(RandomKind kind, Tensor& out, uint64_t seed, uint64_t offset, double a, double b) override;
  void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdArgs& args) override;
  void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                    const AdamWArgs& args) override;
  void copy_to_host(const Tensor& src, void* dst) override;
  void copy_from_host(const void* src, Tensor& dst) override;
  // Waits for the current stream of every initialised device and raises pending device errors.
  void synchronize() override;
};

// TF32 tensor cores for f32 GEMMs (off by default, so f32 matches the CPU to f32 rounding). Also enabled by
// the environment variable CLIPT_TF32=1.
void set_allow_tf32(bool allow);
bool allow_tf32();

}  // namespace clipt::cuda
