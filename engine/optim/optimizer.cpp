#include "engine/optim/optimizer.h"

#include "engine/core/backend.h"
#include "engine/ops/ops.h"
#include "engine/profile/profiler.h"

namespace clipt::optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    CLIPT_CHECK(p.defined() && p.is_leaf(), "optimizer: parameter {} is not a leaf tensor", i);
    CLIPT_CHECK(p.dtype() == DType::F32 || p.dtype() == DType::F64,
                "optimizer: parameter {} is {}; keep trainable parameters in f32 (the master copy) and cast them "
                "in the forward",
                i, describe(p));
    CLIPT_CHECK(p.is_contiguous(), "optimizer: parameter {} must be contiguous, got strides {}", i,
                shape_str(p.strides()));
  }
}

void Optimizer::reduce(std::vector<Tensor>& grads) {
  reduced_ = true;
  if (!reduction_) return;
  std::vector<Tensor> defined;
  for (const Tensor& g : grads)
    if (g.defined()) defined.push_back(g.contiguous());
  reduction_(defined);
  size_t k = 0;
  for (Tensor& g : grads)
    if (g.defined()) g = defined[k++];
}

void Optimizer::reduce_grads() {
  reduced_ = true;
  if (!reduction_) return;
  std::vector<Tensor> grads;
  for (const Tensor& p : params_)
    if (p.grad().defined()) grads.push_back(p.grad());
  reduction_(grads);  // in place: .grad tensors are reduced where they are
}

void Optimizer::begin_update() {
  CLIPT_CHECK(!reduction_ || reduced_,
              "optimizer: step without averaging the gradients over the ranks (data-parallel run): the method's "
              "train_step must call reduce_grads() or reduce() before stepping");
  reduced_ = false;
}

void Optimizer::step_with(const std::vector<Tensor>& grads) {
  CLIPT_CHECK(grads.size() == params_.size(), "optimizer: {} gradients for {} parameters", grads.size(),
              params_.size());
  for (size_t i = 0; i < params_.size(); ++i) params_[i].set_grad(grads[i]);
  step();
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

namespace {
Tensor contiguous_grad(const Tensor& p, size_t i) {
  Tensor g = p.grad();
  CLIPT_CHECK(g.shape() == p.shape(), "optimizer: gradient of parameter {} has shape {}, parameter {}", i,
              shape_str(g.shape()), shape_str(p.shape()));
  return g.contiguous();
}

// Parameters in f64 (gradchecks, reference tests) take the composed path; f32 the fused kernel.
bool fused(const Tensor& p) { return p.dtype() == DType::F32; }

std::string state_name(size_t i, const char* what) { return std::to_string(i) + "." + what; }

void load_buffer(const std::map<std::string, Tensor>& state, const std::string& name, const Tensor& like, Tensor& out) {
  auto it = state.find(name);
  if (it == state.end()) {
    out = Tensor();
    return;
  }
  CLIPT_CHECK(it->second.shape() == like.shape(), "optimizer state '{}' has shape {}, parameter has {}", name,
              shape_str(it->second.shape()), shape_str(like.shape()));
  out = it->second.to(like.dtype()).to(like.device()).contiguous().clone();
}
}  // namespace

SGD::SGD(std::vector<Tensor> params, SgdOptions options)
    : Optimizer(std::move(params), options.lr), options_(options), buffers_(params_.size()) {}

void SGD::step() {
  begin_update();
  profile::PhaseScope phase(profile::Phase::Optimizer);
  NoGrad ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    Tensor g = contiguous_grad(p, i);
    const bool first = !buffers_[i].defined();
    if (options_.momentum != 0 && first) buffers_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
    if (fused(p)) {
      SgdArgs a{float(lr_),
                float(options_.momentum),
                float(options_.dampening),
                float(options_.weight_decay),
                options_.nesterov,
                first};
      Tensor buf = buffers_[i];
      backend_for(p.device()).sgd_update(p, g, buf, a);
      continue;
    }
    Tensor d = g.to(p.dtype());
    if (options_.weight_decay != 0) d = add(d, mul(p, options_.weight_decay));
    if (options_.momentum != 0) {
      Tensor& buf = buffers_[i];
      buf.copy_(first ? d : add(mul(buf, options_.momentum), mul(d, 1.0 - options_.dampening)));
      d = options_.nesterov ? add(d, mul(buf, options_.momentum)) : buf;
    }
    p.copy_(sub(p, mul(d, lr_)));
  }
  ++steps_;
}

std::vector<std::pair<std::string, Tensor>> SGD::state_tensors() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < buffers_.size(); ++i)
    if (buffers_[i].defined()) out.push_back({state_name(i, "momentum_buffer"), buffers_[i]});
  return out;
}

void SGD::load_state_tensors(const std::map<std::string, Tensor>& state) {
  for (size_t i = 0; i < params_.size(); ++i)
    load_buffer(state, state_name(i, "momentum_buffer"), params_[i], buffers_[i]);
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Optimizer(std::move(params), options.lr),
      options_(options),
      exp_avg_(params_.size()),
      exp_avg_sq_(params_.size()),
      param_steps_(params_.size(), 0) {}

void AdamW::step() {
  begin_update();
  profile::PhaseScope phase(profile::Phase::Optimizer);
  NoGrad ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    Tensor g = contiguous_grad(p, i);
    double decay = options_.weight_decay;
    if (!options_.decoupled && decay != 0) {  // Adam: L2 penalty through the gradient
      g = add(g.to(p.dtype()), mul(p, decay)).contiguous();
      decay = 0;
    }
    if (!exp_avg_[i].defined()) {
      exp_avg_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
      exp_avg_sq_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
    }
    const int64_t t = ++param_steps_[i];
    if (fused(p)) {
      AdamWArgs a{float(lr_), float(options_.beta1), float(options_.beta2), float(options_.eps), float(decay), t};
      backend_for(p.device()).adamw_update(p, g, exp_avg_[i], exp_avg_sq_[i], a);
      continue;
    }
    const double b1 = options_.beta1, b2 = options_.beta2;
    Tensor gd = g.to(p.dtype());
    p.copy_(mul(p, 1.0 - lr_ * decay));
    exp_avg_[i].copy_(add(exp_avg_[i], mul(sub(gd, exp_avg_[i]), 1.0 - b1)));
    exp_avg_sq_[i].copy_(add(mul(exp_avg_sq_[i], b2), mul(mul(gd, gd), 1.0 - b2)));
    const double bc1 = 1.0 - std::pow(b1, double(t)), bc2_sqrt = std::sqrt(1.0 - std::pow(b2, double(t)));
    Tensor denom = add(div(sqrt(exp_avg_sq_[i]), bc2_sqrt), options_.eps);
    p.copy_(sub(p, mul(div(exp_avg_[i], denom), lr_ / bc1)));
  }
  ++steps_;
}

std::vector<std::pair<std::string, Tensor>> AdamW::state_tensors() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!exp_avg_[i].defined()) continue;
    out.push_back({state_name(i, "exp_avg"), exp_avg_[i]});
    out.push_back({state_name(i, "exp_avg_sq"), exp_avg_sq_[i]});
    out.push_back({state_name(i, "step"), Tensor::scalar(double(param_steps_[i]), DType::I64)});
  }
  return out;
}

void AdamW::load_state_tensors(const std::map<std::string, Tensor>& state) {
  for (size_t i = 0; i < params_.size(); ++i) {
    load_buffer(state, state_name(i, "exp_avg"), params_[i], exp_avg_[i]);
    load_buffer(state, state_name(i, "exp_avg_sq"), params_[i], exp_avg_sq_[i]);
    auto it = state.find(state_name(i, "step"));
    param_steps_[i] = it == state.end() ? 0 : int64_t(it->second.item());
  }
}

}  // namespace clipt::optim
