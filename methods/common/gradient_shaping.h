// Gradient shaping: the step machinery of the methods that change *how* prompts are optimised rather
// than what they are (specs/gcscoop_and_baselines.md):
//   - SAM (Foret et al.): the gradient at the ascent point w + ρ·g/‖g‖ of the same mini-batch;
//   - GCSAM (GCSCoOp, §2.2): that SAM gradient constrained, per parameter tensor, by its cosine with
//     the plain gradient — itself, its projection on the direction of g_s + g_v, or the plain gradient;
//   - ProGrad (§3.2): the cross-entropy gradient with the component that conflicts with the gradient
//     of the KL to zero-shot CLIP removed.
// The algebra works on one tensor pair so that tests can feed it hand-built gradients; the steps take
// the loss of a batch as a function, so they wrap any method's loss(). Every step ends with the base
// optimiser's step_with(g): momentum and weight decay act on the shaped gradient, as in the peers' code.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/optim/grad_utils.h"
#include "methods/method.h"

namespace clipt::methods {

// ------------------------------------------------------------------ gradient algebra (one tensor)

// Added to norms before dividing, so that zero gradients and g_s = −g_v give finite results.
inline constexpr double kShapingEps = 1e-12;

enum class GcsamRegion { Sam, Projected, Plain };
const char* gcsam_region_name(GcsamRegion r);  // "sam" | "projected" | "plain"

struct GcsamChoice {
  Tensor grad;  // the constrained gradient (f32, g_s's shape)
  GcsamRegion region;
  double cosine = 0;  // cos(g_s, g_v) = ⟨g_s, g_v⟩ / (‖g_s‖‖g_v‖ + eps)
};
// GCSAM's constraint on one parameter tensor, with β1 = low_bound < β2 = up_bound:
//   c ≥ β2 → g_s;  β1 < c < β2 → ⟨g_s, u⟩·u with u = (g_s + g_v)/(‖g_s + g_v‖ + eps);  c ≤ β1 → g_v.
// With β1 ≤ 0 the peers' code has two regions: the projection when c < β2, else g_s.
GcsamChoice gcsam_constrain(const Tensor& g_sam, const Tensor& g_plain, double low_bound, double up_bound);

struct ProjectionChoice {
  Tensor grad;             // the update gradient (f32)
  bool projected = false;  // ⟨g_ce, g_kl⟩ < 0: the conflicting component was removed
  double cosine = 0;       // cos(g_ce, g_kl)
};
// ProGrad on one parameter tensor: g = g_ce − λ·⟨g_ce, ĝ_kl⟩·ĝ_kl when ⟨g_ce, g_kl⟩ < 0, else g_ce,
// with ĝ_kl = g_kl/(‖g_kl‖ + eps) (a zero g_kl never projects).
ProjectionChoice prograd_project(const Tensor& g_ce, const Tensor& g_kl, double lambda);

// SAM's ascent ε_i = ρ·g_i/(‖g‖ + 1e-12), with the norm over all tensors together.
optim::Grads sam_perturbation(const optim::Grads& g, double rho);
optim::Grads sam_perturbation(const optim::Grads& g, double rho, double norm);  // ‖g‖ already known

// ------------------------------------------------------------------ steps

enum class SharpnessRule { Sam, Gcsam };
struct SharpnessOptions {
  SharpnessRule rule = SharpnessRule::Gcsam;
  double rho = 0.1;        // OPTIM.RHO
  double low_bound = 0.5;  // OPTIM.LOWBOUND (β1)
  double up_bound = 0.8;   // OPTIM.UPBOUND (β2)
};
// ρ, β1 and β2 from OPTIM.RHO / LOWBOUND / UPBOUND (a negative ρ or β1 > β2 is an error naming the key).
SharpnessOptions sharpness_options(const Config& cfg, SharpnessRule rule);

// The objective of a batch under the current parameter values (a method's loss()).
using BatchLoss = std::function<LossResult(const TrainBatch&)>;

// One SAM or GCSAM step on `batch` (whose cache the caller has filled, so both passes share the
// prompt-independent forward): g_v at w, ε = ρ·g_v/‖g_v‖, g_s at w + ε, w restored bit-exactly, the
// rule's gradient handed to optimizer.step_with. `params` are the optimizer's parameters. The result's
// loss and logits are the first pass's (the loss at w, as the peers log loss1); metrics carry
// loss_perturbed, grad_norm, and for GCSAM gcsam_cos (first tensor) and the number of tensors per region
// (gcsam_sam, gcsam_projected, gcsam_plain).
StepResult sharpness_aware_step(const BatchLoss& loss, const TrainBatch& batch, optim::Optimizer& optimizer,
                                const SharpnessOptions& options);

// One ProGrad step: gradients of both losses at w (one forward), per-tensor prograd_project, then
// optimizer.step_with. `reported` is what the step reports (loss = ce; logits, metrics).
StepResult projected_gradient_step(const Tensor& ce_loss, const Tensor& kl_loss, double lambda,
                                   optim::Optimizer& optimizer, LossResult reported);

}  // namespace clipt::methods
