// IVLP, independent vision–language prompting (the deep baseline of MaPLe, Khattak et al., CVPR 2023;
// muzairkhattak/multimodal-prompt-learning trainers/independentVL.py): learnable text tokens after the
// start token and learnable vision tokens after the image tokens, replaced by fresh tokens at every
// layer up to the prompt depth, each tower on its own. Text context from the first N_CTX_TEXT tokens of
// CTX_INIT ("a photo of a"; random when empty or N_CTX_TEXT > 4); deep text prompts and all vision
// prompts N(0, 0.02²), as the peers' ResidualAttentionBlock_IVLP / VisionTransformer initialise them.
// Keys TRAINER.IVLP.{N_CTX_TEXT, N_CTX_VISION, CTX_INIT, PROMPT_DEPTH_TEXT, PROMPT_DEPTH_VISION, PREC}.
#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/common/config_read.h"
#include "methods/common/deep_prompts.h"

namespace clipt::methods {

namespace {

class IVLP final : public DeepPromptMethod {
 public:
  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override {
    const Config& cfg = *ctx.cfg;
    const auto& c = ctx.clip->config();
    const int64_t n_text = cfg.get_int("TRAINER.IVLP.N_CTX_TEXT"), n_vision = cfg.get_int("TRAINER.IVLP.N_CTX_VISION");
    const int64_t depth_text = cfg.get_int("TRAINER.IVLP.PROMPT_DEPTH_TEXT");
    const int64_t depth_vision = cfg.get_int("TRAINER.IVLP.PROMPT_DEPTH_VISION");
    // The peers: text depth >= 1 (use VPT for vision-only prompting); vision depth 0 = language only.
    check_prompt_depth("TRAINER.IVLP.PROMPT_DEPTH_TEXT", depth_text, 1, c.text.layers, "text");
    check_prompt_depth("TRAINER.IVLP.PROMPT_DEPTH_VISION", depth_vision, 0, c.vision.layers, "image");
    CLIPT_CHECK(depth_vision == 0 || n_vision > 0, "TRAINER.IVLP.N_CTX_VISION must be positive, got {}", n_vision);

    Generator text_gen(ctx.seed * 7919 + 101), vision_gen(ctx.seed * 7919 + 202);
    TextContextInit init = peer_text_context(ctx, n_text, ctx_init_value(cfg, "TRAINER.IVLP.CTX_INIT"), text_gen,
                                             "TRAINER.IVLP.N_CTX_TEXT");
    build_class_prompts(ctx, classnames, init.prompt_prefix, n_text);
    ctx_vectors_ = init.vectors.requires_grad_();
    if (depth_text > 1)
      text_deep_ = normal_prompts({depth_text - 1, n_text, c.text.width}, text_gen, ctx.device).requires_grad_();
    if (depth_vision > 0)
      vision_ctx_ = normal_prompts({n_vision, c.vision.width}, vision_gen, ctx.device).requires_grad_();
    if (depth_vision > 1)
      vision_deep_ =
          normal_prompts({depth_vision - 1, n_vision, c.vision.width}, vision_gen, ctx.device).requires_grad_();
  }

  nn::NamedTensors trainable_parameters() const override {
    nn::NamedTensors out{{"prompt_learner.ctx", ctx_vectors_}};
    if (text_deep_.defined()) out.push_back({"prompt_learner.text_deep_prompts", text_deep_});
    if (vision_ctx_.defined()) out.push_back({"prompt_learner.vision_ctx", vision_ctx_});
    if (vision_deep_.defined()) out.push_back({"prompt_learner.vision_deep_prompts", vision_deep_});
    return out;
  }

  // Every prompt tensor is a prompt: a wrapper clones and mixes all of them.
  std::vector<std::pair<std::string, Tensor*>> prompt_slots() override {
    std::vector<std::pair<std::string, Tensor*>> out{{"ctx", &ctx_vectors_}};
    if (text_deep_.defined()) out.push_back({"text_deep_prompts", &text_deep_});
    if (vision_ctx_.defined()) out.push_back({"vision_ctx", &vision_ctx_});
    if (vision_deep_.defined()) out.push_back({"vision_deep_prompts", &vision_deep_});
    return out;
  }

 protected:
  DeepPrompts current_prompts() const override { return {ctx_vectors_, text_deep_, vision_ctx_, vision_deep_}; }

 private:
  Tensor ctx_vectors_;  // [n_t, W_t]
  Tensor text_deep_;    // [depth_text − 1, n_t, W_t]
  Tensor vision_ctx_;   // [n_v, W_v]
  Tensor vision_deep_;  // [depth_vision − 1, n_v, W_v]
};

}  // namespace

void register_ivlp() {
  register_method(
      "IVLP", [] { return std::make_unique<IVLP>(); }, {}, "TRAINER.IVLP");
}

}  // namespace clipt::methods
