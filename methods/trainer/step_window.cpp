#include "methods/trainer/step_window.h"

#include "engine/ops/ops.h"

namespace clipt::trainer {

StepWindow::StepWindow(int64_t capacity, Device device)
    : capacity_(capacity), values_(Tensor::zeros({2, capacity}, DType::F32, device)) {
  CLIPT_CHECK(capacity > 0, "step window: capacity {} must be positive", capacity);
}

void StepWindow::add(const methods::StepResult& r, const Tensor& labels, int64_t iteration, int64_t global_step) {
  CLIPT_CHECK(!full(), "step window: {} steps queued without a read", capacity_);
  CLIPT_CHECK(r.loss.defined() && r.loss.numel() == 1, "step window: the step returned no 0-d loss");
  NoGrad ng;
  const int64_t k = size();
  Step s{iteration, global_step};
  values_.select(0, 0).narrow(0, k, 1).copy_(r.loss.detach().reshape({1}));
  if (r.logits.defined()) {
    s.seen = r.logits.size(0);
    CLIPT_CHECK(labels.defined() && labels.numel() == s.seen,
                "step window: the step's logits have {} rows for {} labels", s.seen,
                labels.defined() ? labels.numel() : 0);
    const Tensor correct = sum(eq(argmax(r.logits.detach(), 1), labels.to(DType::I64)).to(DType::F32));
    values_.select(0, 1).narrow(0, k, 1).copy_(correct.reshape({1}));
  } else {
    values_.select(0, 1).narrow(0, k, 1).zero_();
  }
  steps_.push_back(s);
  last_metrics_ = r.metrics;
}

StepWindow::Read StepWindow::read(bool with_metrics) {
  Read out;
  const int64_t n = size();
  std::vector<std::string> device_names;
  TensorList parts;
  if (n > 0) parts.push_back(values_.narrow(1, 0, n).contiguous().reshape({-1}).to(DType::F64));
  if (with_metrics)
    for (const auto& [name, t] : last_metrics_) {
      if (t.device() != values_.device()) {
        out.metrics[name] = t.item();  // a number the step had on the host (a cpu scalar): no device wait
      } else {
        device_names.push_back(name);
        parts.push_back(t.detach().reshape({1}).to(DType::F64));
      }
    }
  if (!parts.empty()) {
    const std::vector<double> v = cat(parts, 0).to_vector<double>();
    for (int64_t k = 0; k < n; ++k) {
      Step s = steps_[size_t(k)];
      s.loss = v[size_t(k)];
      s.correct = int64_t(v[size_t(n + k)]);
      out.steps.push_back(s);
    }
    for (size_t i = 0; i < device_names.size(); ++i) out.metrics[device_names[i]] = v[size_t(2 * n) + i];
  }
  steps_.clear();
  return out;
}

}  // namespace clipt::trainer
