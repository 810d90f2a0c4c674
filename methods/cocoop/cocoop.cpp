// CoCoOp (Zhou et al., CVPR 2022): CoOp's shared context shifted per image by a meta-net over the image
// feature, π(x) = W2·ReLU(W1·f(x)) (hidden = D/16), so every image sees its own class prompts. The text
// tower runs once over all (image, class) pairs of a batch (chunked by image when that is large), each
// image's start token and context encoded once as the shared prefix of its C class rows.
#include "engine/nn/layers.h"
#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/common/clip_features.h"
#include "methods/common/config_read.h"
#include "methods/common/prompt_learner.h"

namespace clipt::methods {

namespace {

class MetaNet : public nn::Module {
 public:
  MetaNet(int64_t vis_dim, int64_t ctx_dim, Generator& gen, Device device) {
    register_module("linear1", &linear1, std::make_unique<nn::Linear>(vis_dim, vis_dim / 16, true, gen));
    register_module("linear2", &linear2, std::make_unique<nn::Linear>(vis_dim / 16, ctx_dim, true, gen));
    to(device);
  }
  Tensor forward(const Tensor& x) const { return linear2->forward(relu(linear1->forward(x))); }
  std::unique_ptr<nn::Linear> linear1, linear2;
};

class CoCoOp final : public Method {
 public:
  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override {
    ctx_ = ctx;
    scale_ = ctx.clip->logit_scale_value();
    PromptLearnerOptions o;
    o.n_ctx = ctx.cfg->get_int("TRAINER.COCOOP.N_CTX");
    o.ctx_init = ctx_init_value(*ctx.cfg, "TRAINER.COCOOP.CTX_INIT");
    learner_ = std::make_unique<PromptLearner>(ctx, classnames, o);
    Generator gen(ctx.seed * 104729 + 3);
    meta_net_ =
        std::make_unique<MetaNet>(ctx.clip->config().projection_dim, ctx.clip->config().text.width, gen, ctx.device);
  }

  nn::NamedTensors trainable_parameters() const override {
    nn::NamedTensors out{{"prompt_learner.ctx", learner_->ctx}};
    for (auto& [n, t] : meta_net_->named_parameters()) out.push_back({"prompt_learner.meta_net." + n, t});
    return out;
  }

  LossResult loss(const TrainBatch& batch) override {
    Tensor logits = logits_for(frozen_image_features(ctx_, batch.images), learner_->prompts());
    return {cross_entropy(logits, batch.labels), logits.detach(), {}};
  }

  void prepare_eval(const std::vector<std::string>& classnames, ClassSplit) override {
    eval_prompts_ = learner_->make_prompts(ctx_, classnames);
  }

  Tensor eval_logits(const Tensor& images) override {
    NoGrad ng;
    return logits_for(frozen_image_features(ctx_, images), eval_prompts_);
  }

 private:
  // Per-image logits: image i against the class prompts built with ctx + π(f_i).
  Tensor logits_for(const Tensor& image_features, const ClassPrompts& prompts) const {
    const int64_t b = image_features.size(0), c = prompts.num_classes();
    Tensor shift = meta_net_->forward(image_features);                 // [B, W]
    Tensor ctx = add(learner_->ctx.unsqueeze(0), shift.unsqueeze(1));  // [B, n, W]
    // Encode images in groups so that one text pass holds at most ~kMaxPrompts prompts.
    constexpr int64_t kMaxPrompts = 4096;
    const int64_t per_pass = std::max<int64_t>(1, kMaxPrompts / std::max<int64_t>(c, 1));
    TensorList rows;
    std::vector<int64_t> classes;
    for (int64_t k = 0; k < c; ++k) classes.push_back(k);
    for (int64_t at = 0; at < b; at += per_pass) {
      const int64_t g = std::min(per_pass, b - at);
      std::vector<int64_t> class_rows;
      for (int64_t i = 0; i < g; ++i) class_rows.insert(class_rows.end(), classes.begin(), classes.end());
      // One context per image, shared by its C class rows (one shared prefix per image).
      Tensor text =
          l2_normalize(prompts.encode(*ctx_.clip->text, ctx.narrow(0, at, g), learner_->options().position, class_rows)
                           .to(DType::F32),
                       -1)
              .reshape({g, c, -1});
      Tensor img = image_features.narrow(0, at, g).unsqueeze(1);  // [g, 1, D]
      rows.push_back(mul(sum(mul(img, text), {2}), scale_));      // [g, C]
    }
    return rows.size() == 1 ? rows[0] : cat(rows, 0);
  }

  MethodContext ctx_;
  double scale_ = 100.0;
  std::unique_ptr<PromptLearner> learner_;
  std::unique_ptr<MetaNet> meta_net_;
  ClassPrompts eval_prompts_;
};

}  // namespace

void register_cocoop() {
  register_method(
      "CoCoOp", [] { return std::make_unique<CoCoOp>(); }, {}, "TRAINER.COCOOP");
}

}  // namespace clipt::methods
