// CoOp (Zhou et al., IJCV 2022): a learnable context shared by all classes (or one per class, CSC) in
// front of (or around) the class name; CLIP frozen; cross-entropy on CLIP's cosine logits. KgCoOp,
// GCSCoOp and DPC build on this class.
#pragma once
#include <memory>

#include "methods/common/prompt_learner.h"

namespace clipt::methods {

class CoOp : public Method {
 public:
  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override;
  nn::NamedTensors trainable_parameters() const override { return {{"prompt_learner.ctx", learner_->ctx}}; }
  LossResult loss(const TrainBatch& batch) override;
  void precompute(TrainBatch& batch) override;
  void prepare_eval(const std::vector<std::string>& classnames, ClassSplit split) override;
  Tensor eval_logits(const Tensor& images) override;
  std::vector<std::pair<std::string, Tensor*>> prompt_slots() override { return {{"ctx", &learner_->ctx}}; }
  Tensor image_features(const Tensor& images) override;
  Tensor text_features(const std::vector<int64_t>& rows = {}) override;
  // The default step over fixed prompts and frozen image features: fixed shapes, nothing read back
  // (tests/methods/step_graph_test.cpp runs it under a simulated capture), as long as the class token
  // ends the prompt (middle/front positions upload row indices every step). Subclasses that change the
  // step must say again.
  bool graph_capturable() const override { return static_prompts_; }

  PromptLearner& learner() { return *learner_; }
  const MethodContext& context() const { return ctx_; }
  double logit_scale() const { return scale_; }

 protected:
  // Options from TRAINER.COOP (subclasses may adjust them before the learner is built).
  virtual PromptLearnerOptions learner_options(const Config& cfg) const;
  // The batch's frozen image features: from batch.cache when precompute() ran, else computed now.
  Tensor batch_image_features(const TrainBatch& batch);

  MethodContext ctx_;
  std::unique_ptr<PromptLearner> learner_;
  double scale_ = 100.0;
  bool static_prompts_ = true;  // CLASS_TOKEN_POSITION end (see graph_capturable)
  Tensor eval_text_;            // normalised features of the evaluation classes (computed once per class set)
};

}  // namespace clipt::methods
