// MetaPrompt (Zhao et al., "Learning Domain Invariant Prompt for Vision-Language Models", IEEE TIP 2024;
// Vill-Lab/2024-TIP-MetaPrompt trainers/meta.py), as specified in shared/specs/metaprompt.md §1:
//   - independent deep prompts in the first LAYERS layers (all 12 in the recipes) of both towers: text
//     Pt [LAYERS, N_CTX, W_t] ("X X <class>." with Pt[0] at positions 1..N_CTX), vision Pv [LAYERS, N_PRO,
//     W_v], all N(0, 0.02²);
//   - the asymmetric logits z_V = s·f_v(x)·W0ᵀ (prompted image vs the frozen template classifier W0, the
//     dataset's template(s) filled with the raw class names, ensembled then renormalised, cached once per
//     class set) and
//     z_T = s·f_0(x)·g_t(c)ᵀ (frozen image vs prompted text); z = (z_V + z_T)/2; loss CE(z) + CE(z_V) +
//     CE(z_T), one optimiser step; prediction by z;
//   - then the first-order meta step on the same batch (meta_splits.h for the episodes): per episode one
//     inner step of the *shared* optimiser on the support loss, the held-out gradient at the inner point,
//     a restore; finally P ← P − lr·META_STEP·Σg (a raw update: no momentum, no weight decay).
//     MetaPrompt (alias Meta_B2N): class halves, text prompts, loss CE(z_T) over the group's classes.
//     MetaPrompt_DG (alias Meta_DG): leave one present domain out, vision prompts, CE(z_V) over all classes.
// The frozen image features f_0 of a batch are computed once per step and W0 once per class set; both
// branches share them.
// Data parallel: the episodes are drawn over the gathered labels (and domains) of the global batch, each
// rank's support and held-out losses cover its share of an episode's samples, weighted so that the
// averaged gradients are the whole episode's (meta::LocalShare); every gradient the step uses is averaged.
// METAPROMPT.LEGACY_RESTORE True (the default, and what clipt's MetaPrompt recipes write) reproduces the
// released code, whose numbers the paper reports (§1.6 items 1–2): the restore aliases the snapshot (only
// the first episode's inner step is undone), and the "frozen" modality keeps a zero gradient, so the inner
// steps apply momentum and weight decay to it. False: the clean algorithm (every inner step undone, the
// frozen modality untouched).
#pragma once
#include <functional>

#include "methods/common/prompt_learner.h"
#include "methods/method.h"

namespace clipt::methods {

class MetaPrompt : public Method {
 public:
  enum class Mode { CrossClass, CrossDomain };
  explicit MetaPrompt(Mode mode) : mode_(mode) {}

  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override;
  nn::NamedTensors trainable_parameters() const override;
  // The in-domain objective CE(z) + CE(z_V) + CE(z_T) (the default step would train only this).
  LossResult loss(const TrainBatch& batch) override;
  void precompute(TrainBatch& batch) override;  // the frozen image features f_0
  StepResult train_step(const TrainBatch& batch, optim::Optimizer& optimizer) override;
  void prepare_eval(const std::vector<std::string>& classnames, ClassSplit split) override;
  Tensor eval_logits(const Tensor& images) override;  // z
  std::vector<std::pair<std::string, Tensor*>> prompt_slots() override;
  Tensor image_features(const Tensor& images) override;                  // prompted f_v
  Tensor text_features(const std::vector<int64_t>& rows = {}) override;  // prompted g_t

  // Test hook: the class order of the cross-class split at a global step (default: meta::class_order of
  // the run's seed), so a reference implementation can draw the same halves.
  using ClassOrderFn = std::function<std::vector<int64_t>(int64_t global_step, int64_t num_classes)>;
  void set_class_order_for_testing(ClassOrderFn fn) { class_order_fn_ = std::move(fn); }

  Mode mode() const { return mode_; }
  bool legacy_restore() const { return legacy_; }

 private:
  struct Logits {
    Tensor z, z_v, z_t;
  };
  Logits logits(const Tensor& prompted_image, const Tensor& frozen_image, const Tensor& w0,
                const Tensor& prompted_text) const;
  LossResult in_domain_loss(const TrainBatch& batch, const Tensor& frozen_image);
  // The meta step; returns the number of episodes run and their mean held-out loss.
  std::pair<int64_t, Tensor> meta_step(const TrainBatch& batch, const Tensor& frozen_image, optim::Optimizer& opt);
  Tensor text_features_of(const ClassPrompts& prompts, const std::vector<int64_t>& rows = {}) const;
  Tensor frozen_features(const TrainBatch& batch) const;  // from batch.cache when precompute() ran

  Mode mode_;
  MethodContext ctx_;
  double scale_ = 100.0, meta_step_size_ = 0.2;
  bool legacy_ = false;
  int64_t n_ctx_ = 2;
  std::vector<std::string> train_classnames_, cached_classnames_;
  ClassPrompts train_prompts_, eval_prompts_, prompts_cached_;
  Tensor w0_train_, w0_eval_, w0_cached_;  // frozen template classifiers [C, D]
  Tensor eval_text_;                       // prompted text features of the evaluation classes
  Tensor text_prompts_;                    // Pt [layers, n_ctx, W_t]
  Tensor vision_prompts_;                  // Pv [layers, n_pro, W_v]
  ClassOrderFn class_order_fn_;
};

}  // namespace clipt::methods
