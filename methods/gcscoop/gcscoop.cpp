// GCSCoOp (Liu et al., "Gradient constrained sharpness-aware prompt learning", trainer SharpCoOp in
// llcllc1997/GCSCoOp) and SCoOp (the same with plain SAM): an optimiser change, not a model change.
//
// Design: a wrapper method. It builds another registered method — TRAINER.GCSCOOP.BASE_TRAINER, CoOp by
// default (the peers' SharpCoOp is exactly CoOp), KgCoOp or any method whose objective is its loss() —
// and forwards everything to it (parameters, prompts, evaluation, checkpoint state), replacing only the
// training step by the two-pass step of methods/common/gradient_shaping.h over the base's loss(). The
// base's precompute() runs once per step, so both passes share the frozen image features.
//   GCSCoOp (alias SharpCoOp): the rule follows OPTIM.NAME as in the peers' Dassl — "gcsam" is the
//     gradient-constrained step (ρ = OPTIM.RHO, β1 = OPTIM.LOWBOUND, β2 = OPTIM.UPBOUND), "sam" plain SAM;
//     any other name is an error (the peers' trainer cannot step without the SAM-family optimiser).
//   SCoOp: always plain SAM (ρ = OPTIM.RHO) over the base optimiser named by OPTIM.NAME ("sam" = SGD).
// A base method that overrides train_step itself (MetaPrompt's inner loops) loses that step here: the
// wrapper composes with losses, not with other steps. The precision key stays TRAINER.COOP.PREC.
#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/common/gradient_shaping.h"

namespace clipt::methods {

namespace {

class SharpnessAwareWrapper final : public Method {
 public:
  SharpnessAwareWrapper(std::string name, bool always_sam) : name_(std::move(name)), always_sam_(always_sam) {}

  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override {
    const Config& cfg = *ctx.cfg;
    const std::string optim_name = cfg.get_string("OPTIM.NAME");
    SharpnessRule rule = SharpnessRule::Sam;
    if (always_sam_) {
      CLIPT_CHECK(optim_name != "gcsam",
                  "{} is plain SAM but OPTIM.NAME is 'gcsam'; use --trainer GCSCoOp for the gradient-constrained step",
                  name_);
    } else if (optim_name == "gcsam") {
      rule = SharpnessRule::Gcsam;
    } else {
      CLIPT_CHECK(optim_name == "sam",
                  "{} needs OPTIM.NAME 'gcsam' (gradient-constrained SAM) or 'sam' (plain SAM), got '{}' (see "
                  "configs/trainers/GCSCoOp/vit_b16_ctxv1.yaml)",
                  name_, optim_name);
    }
    options_ = sharpness_options(cfg, rule);
    const std::string base = canonical_method_name(cfg.get_string("TRAINER.GCSCOOP.BASE_TRAINER"));
    CLIPT_CHECK(base != "GCSCoOp" && base != "SCoOp",
                "TRAINER.GCSCOOP.BASE_TRAINER '{}' is itself a SAM-family wrapper; name the method it should wrap "
                "(CoOp, KgCoOp, ...)",
                base);
    base_ = create_method(base);
    base_->build(ctx, classnames);
  }

  nn::NamedTensors trainable_parameters() const override { return base_->trainable_parameters(); }
  LossResult loss(const TrainBatch& batch) override { return base_->loss(batch); }
  void precompute(TrainBatch& batch) override { base_->precompute(batch); }

  StepResult train_step(const TrainBatch& batch, optim::Optimizer& optimizer) override {
    TrainBatch cached = batch;
    base_->precompute(cached);
    return sharpness_aware_step([this](const TrainBatch& b) { return base_->loss(b); }, cached, optimizer, options_);
  }

  void prepare_eval(const std::vector<std::string>& classnames, ClassSplit split) override {
    base_->prepare_eval(classnames, split);
  }
  Tensor eval_logits(const Tensor& images) override { return base_->eval_logits(images); }
  std::vector<std::pair<std::string, Tensor*>> prompt_slots() override { return base_->prompt_slots(); }
  Tensor image_features(const Tensor& images) override { return base_->image_features(images); }
  Tensor text_features(const std::vector<int64_t>& rows) override { return base_->text_features(rows); }
  nn::NamedTensors extra_state() const override { return base_->extra_state(); }
  void load_extra_state(const std::map<std::string, Tensor>& state) override { base_->load_extra_state(state); }
  void on_epoch_begin(int64_t epoch, data::DataLoader* loader) override { base_->on_epoch_begin(epoch, loader); }
  std::optional<BaselineResult> baseline() const override { return base_->baseline(); }

 private:
  std::string name_;
  bool always_sam_;
  SharpnessOptions options_;
  std::unique_ptr<Method> base_;
};

}  // namespace

void register_gcscoop() {
  register_method("GCSCoOp", [] { return std::make_unique<SharpnessAwareWrapper>("GCSCoOp", false); }, {"SharpCoOp"});
  register_method("SCoOp", [] { return std::make_unique<SharpnessAwareWrapper>("SCoOp", true); });
}

}  // namespace clipt::methods
