// The quantity sharpness-aware prompt learning reasons about, measured on a trained method: the
// training loss L(w) over a whole (few-shot) training set and its first-order sharpness
//   S_ρ(w) = L(w + ρ·g/‖g‖) − L(w),   g = ∇L(w) over the whole set,
// the loss increase at the worst point of the ρ-ball to first order (SAM's inner maximisation).
// L is the method's loss() averaged over images (batches weighted by their size), so the numbers do not
// depend on the batch size when the loss is a per-image mean. The parameters are restored bit-exactly.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>

#include "methods/method.h"

namespace clipt::methods {

struct SharpnessReport {
  double rho = 0;
  double loss = 0;            // L(w)
  double perturbed_loss = 0;  // L(w + ρ·g/‖g‖)
  double sharpness = 0;       // perturbed_loss − loss
  double grad_norm = 0;       // ‖g‖ (first order: sharpness ≈ ρ·‖g‖ for small ρ)
  int64_t images = 0;
  nlohmann::json to_json() const;
};

// The training set as batches: `next` fills the next batch and returns false at the end; `rewind`
// starts again from the first batch (the same images in the same order: use deterministic transforms).
struct BatchSource {
  std::function<void()> rewind;
  std::function<bool(TrainBatch&)> next;
};

// Two passes over `source`: the loss and its gradient at w, then the loss at w + ρ·g/‖g‖.
SharpnessReport measure_sharpness(Method& method, const BatchSource& source, double rho);

}  // namespace clipt::methods
