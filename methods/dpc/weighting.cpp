#include "methods/dpc/weighting.h"

#include "engine/ops/ops.h"

namespace clipt::methods::dpc {

Semantics parse_semantics(const std::string& s) {
  if (s == "code") return Semantics::Code;
  if (s == "figure") return Semantics::Figure;
  fail("DPC.SEMANTICS must be 'code' (the released code) or 'figure' (the paper figure), got '{}'", s);
}

void Weighting::validate() const {
  if (semantics == Semantics::Code)
    CLIPT_CHECK(omega_base > 0 && omega_base <= 1,
                "SPLE.STACK.WEIGHT (omega_b) must be in (0, 1] with DPC.SEMANTICS code (the decoded prompt "
                "divides by it), got {}",
                omega_base);
  else
    CLIPT_CHECK(omega_base >= 0 && omega_base <= 1, "SPLE.STACK.WEIGHT (omega_b) must be in [0, 1], got {}",
                omega_base);
  CLIPT_CHECK(omega_new >= 0 && omega_new <= 1, "SPLE.STACK.WEIGHT_FOR_NEW (omega_n) must be in [0, 1], got {}",
              omega_new);
}

namespace {
// a·x + (1−a)·y, computed as the reference does (two products and a sum).
Tensor mix(const Tensor& x, const Tensor& y, double a) { return add(mul(x, a), mul(y, 1.0 - a)); }
}  // namespace

Tensor initial_parameter(const Tensor& tuned, const Tensor& fresh, bool clone, const Weighting& w) {
  NoGrad ng;
  if (clone) return tuned.clone();
  CLIPT_CHECK(fresh.defined() && fresh.shape() == tuned.shape(),
              "DPC: SPLE.SPLE_TRAINER.SPLE_INIT False needs the backbone's fresh prompt initialisation");
  return w.semantics == Semantics::Code ? mix(fresh, tuned, w.omega_base) : fresh.clone();
}

Tensor parallel_prompt(const Tensor& stored, const Tensor& tuned, const Weighting& w) {
  if (w.semantics == Semantics::Figure) return stored;
  // sple_coop.py: (ctx − (1 − w)·pretuned_ctx) / w
  return div(sub(stored, mul(tuned, 1.0 - w.omega_base)), w.omega_base);
}

Tensor base_prompt(const Tensor& stored, const Tensor& tuned, const Weighting& w) {
  Tensor p = parallel_prompt(stored, tuned, w);
  return w.semantics == Semantics::Code ? p : mix(p, tuned, w.omega_base);
}

Tensor new_prompt(const Tensor& stored, const Tensor& tuned, const Weighting& w) {
  if (w.omega_new == 0.0) return tuned;
  return mix(parallel_prompt(stored, tuned, w), tuned, w.omega_new);
}

bool uses_new_class_rule(ClassSplit split, const std::string& dataset) {
  if (split == ClassSplit::New) return true;
  if (split == ClassSplit::Base) return false;
  return dataset != "imagenet" && dataset != "ImageNet";
}

}  // namespace clipt::methods::dpc
