// Optimizers with PyTorch's exact update semantics. They update parameters from the `.grad` each
// parameter currently holds, so methods may set or edit gradients before step() (SAM, gradient
// projection, meta-learning). Parameters must be f32 (or f64): mixed precision keeps the trainable
// parameters in f32 — that *is* the master copy — and casts them in the forward.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt::optim {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;

  // One update from the current .grad of every parameter (parameters without a gradient are skipped).
  virtual void step() = 0;
  // Sets the gradients (one per parameter, undefined = skip) and steps.
  void step_with(const std::vector<Tensor>& grads);
  void zero_grad();

  // Data parallelism: the reduction that averages gradients over the ranks (one collective per call).
  // Once set, every step must follow a reduce_grads()/reduce() of the gradients it uses, else step()
  // refuses: a method that forgot to average would silently train each rank apart.
  using GradientReduction = std::function<void(std::vector<Tensor>& grads)>;
  void set_gradient_reduction(GradientReduction f) { reduction_ = std::move(f); }
  bool reduces_gradients() const { return bool(reduction_); }
  // Averages the current .grad of the parameters (those without one are skipped on every rank).
  void reduce_grads();
  // Averages gradients computed apart from .grad (grad_of), in place; undefined entries are skipped.
  void reduce(std::vector<Tensor>& grads);

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  const std::vector<Tensor>& params() const { return params_; }

  // Optimizer state as named tensors ("<index>.<buffer>") plus scalars, for checkpoints.
  virtual std::vector<std::pair<std::string, Tensor>> state_tensors() const = 0;
  virtual void load_state_tensors(const std::map<std::string, Tensor>& state) = 0;
  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }

 protected:
  // Called first by every step(): checks (and consumes) the gradient reduction of this step.
  void begin_update();

  std::vector<Tensor> params_;
  double lr_;
  int64_t steps_ = 0;

 private:
  GradientReduction reduction_;
  bool reduced_ = false;
};

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class SGD final : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SgdOptions options);
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state_tensors() const override;
  void load_state_tensors(const std::map<std::string, Tensor>& state) override;
  const SgdOptions& options() const { return options_; }
  // The momentum buffer of parameter i (undefined before its first step).
  const Tensor& momentum_buffer(size_t i) const { return buffers_[i]; }

 private:
  SgdOptions options_;
  std::vector<Tensor> buffers_;
};

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  // false: torch.optim.Adam's L2 penalty (weight_decay·p added to the gradient) instead of AdamW's
  // decoupled decay — Dassl's OPTIM.NAME "adam".
  bool decoupled = true;
};

class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options);
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state_tensors() const override;
  void load_state_tensors(const std::map<std::string, Tensor>& state) override;

 private:
  AdamWOptions options_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
  std::vector<int64_t> param_steps_;
};

}  // namespace clipt::optim
