// Zero-shot CLIP with CoOp's hand-made per-dataset template (trainer ZeroshotCLIP), or the ensemble of
// ImageNet's 7 select templates plus the dataset's (trainer ZeroshotCLIP2). Nothing to train.
#include "data/templates.h"
#include "methods/builtin.h"
#include "methods/common/clip_features.h"

namespace clipt::methods {

namespace {

class ZeroshotClip final : public Method {
 public:
  explicit ZeroshotClip(bool ensemble) : ensemble_(ensemble) {}

  void build(const MethodContext& ctx, const std::vector<std::string>&) override {
    ctx_ = ctx;
    scale_ = ctx.clip->logit_scale_value();
  }
  nn::NamedTensors trainable_parameters() const override { return {}; }
  LossResult loss(const TrainBatch&) override { fail("zero-shot CLIP has nothing to train"); }

  void prepare_eval(const std::vector<std::string>& classnames, ClassSplit) override {
    std::vector<std::string> templates{data::coop_template(ctx_.dataset)};
    if (ensemble_) {
      // ZeroshotCLIP2: the select templates, plus the dataset's own unless it is ImageNet or a variant.
      templates = data::imagenet_select_templates();
      std::string lower = ctx_.dataset;
      for (char& ch : lower) ch = char(std::tolower(ch));
      if (!lower.starts_with("imagenet")) templates.push_back(data::coop_template(ctx_.dataset));
    }
    text_ = hand_made_text_features(ctx_, classnames, templates);
  }

  Tensor eval_logits(const Tensor& images) override {
    NoGrad ng;
    return cosine_logits(frozen_image_features(ctx_, images), text_, scale_);
  }

 private:
  bool ensemble_;
  MethodContext ctx_;
  double scale_ = 100.0;
  Tensor text_;
};

}  // namespace

void register_zeroshot() {
  register_method("ZeroshotCLIP", [] { return std::make_unique<ZeroshotClip>(false); }, {"ZeroShot", "zeroshot"});
  register_method("ZeroshotCLIP2", [] { return std::make_unique<ZeroshotClip>(true); });
}

}  // namespace clipt::methods
