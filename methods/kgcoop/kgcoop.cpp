// KgCoOp (Yao et al., CVPR 2023): CoOp plus λ·(1 − mean_c cos(w_c, w_c^clip)), pulling the learned
// class embeddings towards frozen CLIP's hand-made ones (KgCoOp's per-dataset template: CoOp's, except
// "a photo of a {}, a type of texture." for DTD, as htyao89/KgCoOp trainers/kgcoop.py), over all training
// classes at every step. λ = TRAINER.COOP.W (8.0 for base-to-new).
#include "data/templates.h"
#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/common/clip_features.h"
#include "methods/coop/coop.h"

namespace clipt::methods {

namespace {

class KgCoOp final : public CoOp {
 public:
  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override {
    CoOp::build(ctx, classnames);
    lambda_ = ctx.cfg->get_float("TRAINER.COOP.W");
    frozen_text_ = hand_made_text_features(ctx, classnames, {data::kgcoop_template(ctx.dataset)});
  }

  LossResult loss(const TrainBatch& batch) override {
    Tensor text = text_features();
    Tensor logits = cosine_logits(batch_image_features(batch), text, scale_);
    Tensor ce = cross_entropy(logits, batch.labels);
    Tensor kg = rsub(1.0, mean(sum(mul(text, frozen_text_), {1})));  // both normalised: cosine per class
    return {add(ce, mul(kg, lambda_)), logits.detach(), {{"ce", ce.detach()}, {"kg", kg.detach()}}};
  }

 private:
  double lambda_ = 8.0;
  Tensor frozen_text_;
};

}  // namespace

void register_kgcoop() {
  register_method("KgCoOp", [] { return std::make_unique<KgCoOp>(); });
}

}  // namespace clipt::methods
