#include "methods/common/sharpness.h"

#include <cmath>

#include "engine/autograd/node.h"
#include "engine/ops/ops.h"
#include "methods/common/gradient_shaping.h"

namespace clipt::methods {

namespace {

// Σ_b n_b·L_b over the batches' losses, kept on the device until the pass is over and read in one go
// (a read per batch would wait for the stream every batch); summed in f64 on the host in batch order.
double weighted_sum(const std::vector<Tensor>& losses, const std::vector<int64_t>& sizes) {
  if (losses.empty()) return 0.0;
  TensorList flat;
  for (const Tensor& l : losses) flat.push_back(l.detach().reshape({1}));
  const std::vector<double> values = cat(flat, 0).to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < values.size(); ++i) s += double(sizes[i]) * values[i];
  return s;
}

}  // namespace

nlohmann::json SharpnessReport::to_json() const {
  return {{"rho", rho},
          {"train_loss", loss},
          {"perturbed_loss", perturbed_loss},
          {"sharpness", sharpness},
          {"grad_norm", grad_norm},
          {"train_images", images}};
}

SharpnessReport measure_sharpness(Method& method, const BatchSource& source, double rho) {
  CLIPT_CHECK(std::isfinite(rho) && rho >= 0, "sharpness: the radius rho must be non-negative, got {}", rho);
  std::vector<Tensor> params;
  for (auto& [name, t] : method.trainable_parameters()) params.push_back(t);
  CLIPT_CHECK(!params.empty(), "sharpness: the method has no trainable parameters");

  // Pass 1: Σ_b n_b·L_b and Σ_b n_b·∇L_b (accumulated in f64 for the loss, f32 tensors for the gradient).
  SharpnessReport r;
  r.rho = rho;
  std::vector<Tensor> losses;
  std::vector<int64_t> sizes;
  optim::Grads g;
  source.rewind();
  TrainBatch batch;
  while (source.next(batch)) {
    method.precompute(batch);
    const int64_t n = batch.labels.size(0);
    LossResult l = method.loss(batch);
    const optim::Grads gb = grad_of(l.loss, params);
    losses.push_back(l.loss.detach());
    sizes.push_back(n);
    NoGrad ng;
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor scaled = mul(gb[i].to(DType::F32), double(n));
      if (g.size() == params.size())
        g[i] = add(g[i], scaled);
      else
        g.push_back(scaled);
    }
    r.images += n;
    batch = TrainBatch();
  }
  CLIPT_CHECK(r.images > 0, "sharpness: the training set is empty");
  {
    NoGrad ng;
    for (Tensor& t : g) t = div(t, double(r.images));
  }
  r.loss = weighted_sum(losses, sizes) / double(r.images);
  r.grad_norm = optim::global_norm(g);

  // Pass 2: the loss at the ascent point, without a tape; then the exact original parameters back.
  optim::Grads saved;
  {
    NoGrad ng;
    const optim::Grads eps = sam_perturbation(g, rho);
    for (size_t i = 0; i < params.size(); ++i) {
      saved.push_back(params[i].clone());
      Tensor p = params[i];
      p.copy_(add(params[i], eps[i]));
    }
  }
  auto restore = [&] {
    NoGrad ng;
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor p = params[i];
      p.copy_(saved[i]);
    }
  };
  std::vector<Tensor> perturbed;
  std::vector<int64_t> perturbed_sizes;
  int64_t images = 0;
  try {
    NoGrad ng;
    source.rewind();
    while (source.next(batch)) {
      method.precompute(batch);
      const int64_t n = batch.labels.size(0);
      perturbed.push_back(method.loss(batch).loss);
      perturbed_sizes.push_back(n);
      images += n;
      batch = TrainBatch();
    }
  } catch (...) {
    restore();
    throw;
  }
  restore();
  CLIPT_CHECK(images == r.images, "sharpness: the second pass saw {} images, the first {}", images, r.images);
  r.perturbed_loss = weighted_sum(perturbed, perturbed_sizes) / double(r.images);
  r.sharpness = r.perturbed_loss - r.loss;
  return r;
}

}  // namespace clipt::methods
