#include "methods/coop/coop.h"

#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/common/clip_features.h"
#include "methods/common/config_read.h"

namespace clipt::methods {

PromptLearnerOptions CoOp::learner_options(const Config& cfg) const {
  PromptLearnerOptions o;
  o.n_ctx = cfg.get_int("TRAINER.COOP.N_CTX");
  o.ctx_init = ctx_init_value(cfg, "TRAINER.COOP.CTX_INIT");
  o.class_specific = cfg.get_bool("TRAINER.COOP.CSC");
  o.position = parse_class_token_position(cfg.get_string("TRAINER.COOP.CLASS_TOKEN_POSITION"));
  return o;
}

void CoOp::build(const MethodContext& ctx, const std::vector<std::string>& classnames) {
  ctx_ = ctx;
  scale_ = ctx.clip->logit_scale_value();
  const PromptLearnerOptions options = learner_options(*ctx.cfg);
  static_prompts_ = options.position == ClassTokenPosition::End;
  learner_ = std::make_unique<PromptLearner>(ctx, classnames, options);
}

Tensor CoOp::image_features(const Tensor& images) { return frozen_image_features(ctx_, images); }

Tensor CoOp::text_features(const std::vector<int64_t>& rows) {
  return l2_normalize(learner_->text_features(ctx_, learner_->prompts(), Tensor(), rows).to(DType::F32), -1);
}

namespace {
constexpr const char* kImageFeatures = "image_features";
}  // namespace

void CoOp::precompute(TrainBatch& batch) {
  if (!batch.cache.count(kImageFeatures)) batch.cache[kImageFeatures] = image_features(batch.images);
}

Tensor CoOp::batch_image_features(const TrainBatch& batch) {
  auto it = batch.cache.find(kImageFeatures);
  return it != batch.cache.end() ? it->second : image_features(batch.images);
}

LossResult CoOp::loss(const TrainBatch& batch) {
  Tensor logits = cosine_logits(batch_image_features(batch), text_features(), scale_);
  return {cross_entropy(logits, batch.labels), logits.detach(), {}};
}

void CoOp::prepare_eval(const std::vector<std::string>& classnames, ClassSplit) {
  NoGrad ng;
  ClassPrompts prompts = learner_->make_prompts(ctx_, classnames);
  eval_text_ = l2_normalize(learner_->text_features(ctx_, prompts).to(DType::F32), -1);
}

Tensor CoOp::eval_logits(const Tensor& images) {
  CLIPT_CHECK(eval_text_.defined(), "CoOp: eval_logits before prepare_eval");
  NoGrad ng;
  return cosine_logits(frozen_image_features(ctx_, images), eval_text_, scale_);
}

void register_coop() {
  register_method("CoOp", [] { return std::make_unique<CoOp>(); });
}

}  // namespace clipt::methods
