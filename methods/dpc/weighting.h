// DPC's Weighting-Decoupling (specs/dpc.md §2): how the trained parallel prompt P′ and the frozen tuned
// prompt P of stage 1 combine, in training and at test time, for base and for new classes.
//
// Two readings exist and both are supported (DPC.SEMANTICS):
//  - "code" (default, the released code, sple_coop.py): the stored parameter is a "mixed" prompt M and
//    CLIP sees the decoded prompt X = (M − (1−ω_b)·P)/ω_b, in training and for base classes at test
//    time. Since ∂L/∂M = ∂L/∂X / ω_b, SGD on M moves X exactly as SGD on X at lr/ω_b² would (weight decay
//    aside: it acts on M). New classes use ω_n·X + (1−ω_n)·P.
//  - "figure" (the paper's Figure 1(b) read literally): the stored parameter is P′ itself, trained at lr;
//    base classes use ω_b·P′ + (1−ω_b)·P and new classes ω_n·P′ + (1−ω_n)·P.
// With ω_n = 0 the new-class prompt is P itself (the same tensor, not a recomputation), so new-class
// accuracy is the backbone's bit for bit.
#pragma once
#include <string>

#include "engine/core/tensor.h"
#include "methods/method.h"

namespace clipt::methods::dpc {

enum class Semantics { Code, Figure };
Semantics parse_semantics(const std::string& s);  // "code" | "figure"

struct Weighting {
  Semantics semantics = Semantics::Code;
  double omega_base = 0.2;  // ω_b, SPLE.STACK.WEIGHT
  double omega_new = 0.0;   // ω_n, SPLE.STACK.WEIGHT_FOR_NEW
  // Range checks naming the keys: code needs 0 < ω_b ≤ 1 (it divides by ω_b), figure 0 ≤ ω_b ≤ 1;
  // 0 ≤ ω_n ≤ 1.
  void validate() const;
};

// The stored parameter's initial value from the tuned prompt P. `clone` (SPLE_INIT, always used by the
// authors): P′ starts equal to P (code: M = P). Otherwise P′ starts at `fresh` (the backbone's own
// initialisation; code: M = ω_b·fresh + (1−ω_b)·P).
Tensor initial_parameter(const Tensor& tuned, const Tensor& fresh, bool clone, const Weighting& w);
// The parallel prompt P′ that CLIP sees while training, from the stored parameter (on the tape).
Tensor parallel_prompt(const Tensor& stored, const Tensor& tuned, const Weighting& w);
// The test-time prompt of base classes: code P′; figure ω_b·P′ + (1−ω_b)·P.
Tensor base_prompt(const Tensor& stored, const Tensor& tuned, const Weighting& w);
// The test-time prompt of new classes: ω_n·P′ + (1−ω_n)·P; `tuned` itself when ω_n = 0.
Tensor new_prompt(const Tensor& stored, const Tensor& tuned, const Weighting& w);

// Which rule an evaluation uses. The released code re-weights in load_model for "new", and for "all" on
// every dataset but ImageNet (cross-dataset transfer from ImageNet keeps the base rule).
bool uses_new_class_rule(ClassSplit split, const std::string& dataset);

}  // namespace clipt::methods::dpc
