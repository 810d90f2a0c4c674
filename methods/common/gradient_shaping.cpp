#include "methods/common/gradient_shaping.h"

#include <cmath>

#include "engine/autograd/node.h"
#include "engine/ops/ops.h"

namespace clipt::methods {

namespace {

Tensor as_f32(const Tensor& g) { return g.dtype() == DType::F32 ? g : g.to(DType::F32); }

void check_pair(const char* what, const Tensor& a, const Tensor& b) {
  CLIPT_CHECK(a.defined() && b.defined(), "{}: undefined gradient", what);
  CLIPT_CHECK(a.shape() == b.shape(), "{}: gradients of shapes {} and {} differ", what, shape_str(a.shape()),
              shape_str(b.shape()));
}

// Sets the parameters to `values` (bit-exact copies), outside the tape.
void assign(const std::vector<Tensor>& params, const optim::Grads& values) {
  NoGrad ng;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i];
    p.copy_(values[i]);
  }
}

}  // namespace

const char* gcsam_region_name(GcsamRegion r) {
  switch (r) {
    case GcsamRegion::Sam: return "sam";
    case GcsamRegion::Projected: return "projected";
    case GcsamRegion::Plain: return "plain";
  }
  return "?";
}

GcsamChoice gcsam_constrain(const Tensor& g_sam, const Tensor& g_plain, double low_bound, double up_bound) {
  check_pair("GCSAM constraint", g_sam, g_plain);
  NoGrad ng;
  const Tensor s = as_f32(g_sam), v = as_f32(g_plain);
  const double norm_s = std::sqrt(optim::dot(s, s)), norm_v = std::sqrt(optim::dot(v, v));
  GcsamChoice out;
  out.cosine = optim::dot(s, v) / (norm_s * norm_v + kShapingEps);
  const double c = out.cosine;
  // The peers' rule (gcsam.py): three regions when β1 > 0; with β1 ≤ 0 only "projection below β2".
  if (low_bound > 0)
    out.region = c >= up_bound ? GcsamRegion::Sam : c > low_bound ? GcsamRegion::Projected : GcsamRegion::Plain;
  else
    out.region = c < up_bound ? GcsamRegion::Projected : GcsamRegion::Sam;
  switch (out.region) {
    case GcsamRegion::Sam: out.grad = s; break;
    case GcsamRegion::Plain: out.grad = v; break;
    case GcsamRegion::Projected: {
      const Tensor z = add(s, v);
      const Tensor u = div(z, std::sqrt(optim::dot(z, z)) + kShapingEps);
      out.grad = mul(u, optim::dot(s, u));
      break;
    }
  }
  return out;
}

ProjectionChoice prograd_project(const Tensor& g_ce, const Tensor& g_kl, double lambda) {
  check_pair("ProGrad projection", g_ce, g_kl);
  NoGrad ng;
  const Tensor a = as_f32(g_ce), b = as_f32(g_kl);
  const double norm_a = std::sqrt(optim::dot(a, a)), norm_b = std::sqrt(optim::dot(b, b));
  const double ab = optim::dot(a, b);
  ProjectionChoice out;
  out.cosine = ab / (norm_a * norm_b + kShapingEps);
  out.projected = ab < 0;
  if (!out.projected) {
    out.grad = a;
    return out;
  }
  const Tensor b_hat = div(b, norm_b + kShapingEps);
  out.grad = sub(a, mul(b_hat, lambda * optim::dot(a, b_hat)));
  return out;
}

optim::Grads sam_perturbation(const optim::Grads& g, double rho) {
  return sam_perturbation(g, rho, optim::global_norm(g));
}

optim::Grads sam_perturbation(const optim::Grads& g, double rho, double norm) {
  NoGrad ng;
  const double scale = rho / (norm + kShapingEps);
  optim::Grads e;
  for (const Tensor& t : g) e.push_back(mul(as_f32(t), scale));
  return e;
}

SharpnessOptions sharpness_options(const Config& cfg, SharpnessRule rule) {
  SharpnessOptions o;
  o.rule = rule;
  o.rho = cfg.get_float("OPTIM.RHO");
  o.low_bound = cfg.get_float("OPTIM.LOWBOUND");
  o.up_bound = cfg.get_float("OPTIM.UPBOUND");
  CLIPT_CHECK(std::isfinite(o.rho) && o.rho >= 0, "OPTIM.RHO must be a non-negative radius, got {}", o.rho);
  if (rule == SharpnessRule::Gcsam)
    CLIPT_CHECK(o.low_bound <= o.up_bound, "OPTIM.LOWBOUND ({}) must not exceed OPTIM.UPBOUND ({})", o.low_bound,
                o.up_bound);
  return o;
}

StepResult sharpness_aware_step(const BatchLoss& loss, const TrainBatch& batch, optim::Optimizer& optimizer,
                                const SharpnessOptions& o) {
  const std::vector<Tensor>& params = optimizer.params();
  LossResult at_w = loss(batch);
  optim::Grads g_plain = grad_of(at_w.loss, params);
  optimizer.reduce(g_plain);  // data parallel: ε needs the full batch's gradient (and its norm)
  // A host read this step keeps: ε's scale ρ/‖g‖ is computed in f64 on the host (the peers' value), and
  // the same norm is the grad_norm metric.
  const double plain_norm = optim::global_norm(g_plain);

  optim::Grads saved, ascent;
  {
    NoGrad ng;
    const optim::Grads eps = sam_perturbation(g_plain, o.rho, plain_norm);
    for (size_t i = 0; i < params.size(); ++i) {
      saved.push_back(params[i].clone());
      ascent.push_back(add(params[i], eps[i]));
    }
  }
  assign(params, ascent);
  LossResult at_ascent;
  optim::Grads g_sam;
  try {
    at_ascent = loss(batch);
    g_sam = grad_of(at_ascent.loss, params);
    optimizer.reduce(g_sam);
  } catch (...) {
    assign(params, saved);  // never leave the parameters at the ascent point
    throw;
  }
  assign(params, saved);

  StepResult r{at_w.loss.detach(), at_w.logits, at_w.metrics};
  r.metrics["loss_perturbed"] = at_ascent.loss.detach();
  r.metrics["grad_norm"] = host_metric(plain_norm);
  if (o.rule == SharpnessRule::Sam) {
    optimizer.step_with(g_sam);
    return r;
  }
  optim::Grads g(params.size());
  int64_t counts[3] = {0, 0, 0};
  for (size_t i = 0; i < params.size(); ++i) {
    GcsamChoice c = gcsam_constrain(g_sam[i], g_plain[i], o.low_bound, o.up_bound);
    if (i == 0) r.metrics["gcsam_cos"] = host_metric(c.cosine);
    counts[int(c.region)] += 1;
    g[i] = c.grad;
  }
  r.metrics["gcsam_sam"] = host_metric(double(counts[int(GcsamRegion::Sam)]));
  r.metrics["gcsam_projected"] = host_metric(double(counts[int(GcsamRegion::Projected)]));
  r.metrics["gcsam_plain"] = host_metric(double(counts[int(GcsamRegion::Plain)]));
  optimizer.step_with(g);
  return r;
}

StepResult projected_gradient_step(const Tensor& ce_loss, const Tensor& kl_loss, double lambda,
                                   optim::Optimizer& optimizer, LossResult reported) {
  const std::vector<Tensor>& params = optimizer.params();
  const optim::Grads g_kl = grad_of(kl_loss, params, /*retain_graph=*/true);
  const optim::Grads g_ce = grad_of(ce_loss, params);
  // Data parallel: the projection is non-linear, so both full-batch gradients first (one collective).
  optim::Grads both = g_kl;
  both.insert(both.end(), g_ce.begin(), g_ce.end());
  optimizer.reduce(both);
  const optim::Grads g_kl_all(both.begin(), both.begin() + int64_t(params.size()));
  const optim::Grads g_ce_all(both.begin() + int64_t(params.size()), both.end());
  optim::Grads g(params.size());
  int64_t projected = 0;
  StepResult r{reported.loss.detach(), reported.logits, reported.metrics};
  for (size_t i = 0; i < params.size(); ++i) {
    ProjectionChoice c = prograd_project(g_ce_all[i], g_kl_all[i], lambda);
    if (i == 0) r.metrics["prograd_cos"] = host_metric(c.cosine);
    projected += c.projected;
    g[i] = c.grad;
  }
  r.metrics["prograd_projected"] = host_metric(double(projected));
  optimizer.step_with(g);
  return r;
}

}  // namespace clipt::methods
