// The Backend a profiling Session hands out: it forwards every primitive to the device's own backend and
// records one OpRecord per call with the FLOPs and bytes its operands imply (the formulas are in
// recording_backend.cpp, next to each primitive). Calls made from inside a recorded call (a backend that
// dispatches to itself, a collective's staging copies) are forwarded without a record, so times are never
// counted twice.
// Every Backend method must be overridden here: a method left to a default would bypass the device.
#pragma once
#include "engine/core/backend.h"
#include "engine/profile/profiler.h"

namespace clipt::profile {

class RecordingBackend final : public Backend {
 public:
  // `device_timed`: the session times this backend's calls with device events (the session's GPU).
  RecordingBackend(Backend& inner, Session& session, bool device_timed)
      : inner_(inner), session_(session), device_timed_(device_timed) {}
  Backend& inner() { return inner_; }

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
  void synchronize() override;

 private:
  class Call;
  Backend& inner_;
  Session& session_;
  bool device_timed_;
};

// Names of the element-wise ops ("exp", "add", ...) and their FLOPs per output element.
const char* unary_record_name(UnaryOp op);
const char* binary_record_name(BinaryOp op);
double unary_flops_per_element(UnaryOp op);
double binary_flops_per_element(BinaryOp op);
// Bytes a kernel touches to read or write `t` once: elements along broadcast (stride-0) dims count once.
double touched_bytes(const Tensor& t);

}  // namespace clipt::profile
