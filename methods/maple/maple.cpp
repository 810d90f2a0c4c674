// MaPLe, multi-modal prompt learning (Khattak et al., CVPR 2023; muzairkhattak/multimodal-prompt-learning
// trainers/maple.py and clip/model.py): text context after the start token and deep text prompts at
// layers 1..depth−1; the vision prompts of every layer are produced from that layer's text prompts by a
// linear coupling function (text width → vision width: 512 → 768 on ViT-B/16), so the two towers are
// prompted jointly. Context from the first N_CTX tokens of CTX_INIT ("a photo of a"; random when empty or
// N_CTX > 4), deep text prompts N(0, 0.02²), couplings PyTorch's nn.Linear initialisation with every deep
// coupling a copy of one layer (the peers' _get_clones). Keys TRAINER.MAPLE.{N_CTX, CTX_INIT,
// PROMPT_DEPTH, PREC}; recipe (configs/trainers/MaPLe): batch 4, SGD lr 0.0035, 5 epochs, depth 9.
//
// "The prompt" of MaPLe for wrappers (DPC): its whole prompt learner — the text context, the deep text
// prompts and the coupling weights and biases — as in the peers' checkpoint (MultiModalPromptLearner).
// Cloning P' ← P is then exact and any decoded prompt is itself a MaPLe prompt learner whose vision
// prompts are still its couplings applied to its text prompts. A mix ω·P' + (1−ω)·P mixes the text
// prompts and the couplings linearly, so the generated vision prompts mix bilinearly (exactly P at
// ω = 0 and P' at ω = 1, the values DPC uses for new and base classes with its released weights).
#include <cmath>

#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/common/config_read.h"
#include "methods/common/deep_prompts.h"

namespace clipt::methods {

namespace {

// PyTorch's nn.Linear(in, out) initialisation: weight and bias ~ U(−1/√in, 1/√in).
std::pair<Tensor, Tensor> torch_linear_init(int64_t in, int64_t out, Generator& gen, Device device) {
  const double bound = 1.0 / std::sqrt(double(in));
  Tensor w = Tensor::empty({out, in}, DType::F32), b = Tensor::empty({out}, DType::F32);
  uniform_(w, -bound, bound, gen);
  uniform_(b, -bound, bound, gen);
  return {w.to(device), b.to(device)};
}

class MaPLe final : public DeepPromptMethod {
 public:
  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override {
    const Config& cfg = *ctx.cfg;
    const auto& c = ctx.clip->config();
    const int64_t n_ctx = cfg.get_int("TRAINER.MAPLE.N_CTX"), depth = cfg.get_int("TRAINER.MAPLE.PROMPT_DEPTH");
    check_prompt_depth("TRAINER.MAPLE.PROMPT_DEPTH", depth, 1, std::min(c.text.layers, c.vision.layers),
                       c.text.layers <= c.vision.layers ? "text" : "image");
    Generator gen(ctx.seed * 7919 + 303);
    TextContextInit init =
        peer_text_context(ctx, n_ctx, ctx_init_value(cfg, "TRAINER.MAPLE.CTX_INIT"), gen, "TRAINER.MAPLE.N_CTX");
    build_class_prompts(ctx, classnames, init.prompt_prefix, n_ctx);
    ctx_vectors_ = init.vectors.requires_grad_();
    auto [w, b] = torch_linear_init(c.text.width, c.vision.width, gen, ctx.device);
    proj_weight_ = w.requires_grad_();
    proj_bias_ = b.requires_grad_();
    if (depth > 1) {
      compound_text_ = normal_prompts({depth - 1, n_ctx, c.text.width}, gen, ctx.device).requires_grad_();
      auto [w1, b1] = torch_linear_init(c.text.width, c.vision.width, gen, ctx.device);
      compound_weight_ = w1.unsqueeze(0).expand({depth - 1, w1.size(0), w1.size(1)}).contiguous().requires_grad_();
      compound_bias_ = b1.unsqueeze(0).expand({depth - 1, b1.size(0)}).contiguous().requires_grad_();
    }
  }

  nn::NamedTensors trainable_parameters() const override {
    nn::NamedTensors out{{"prompt_learner.ctx", ctx_vectors_},
                         {"prompt_learner.proj.weight", proj_weight_},
                         {"prompt_learner.proj.bias", proj_bias_}};
    if (compound_text_.defined()) {
      out.push_back({"prompt_learner.compound_prompts_text", compound_text_});
      out.push_back({"prompt_learner.compound_prompt_projections.weight", compound_weight_});
      out.push_back({"prompt_learner.compound_prompt_projections.bias", compound_bias_});
    }
    return out;
  }

  std::vector<std::pair<std::string, Tensor*>> prompt_slots() override {
    std::vector<std::pair<std::string, Tensor*>> out{
        {"ctx", &ctx_vectors_}, {"proj.weight", &proj_weight_}, {"proj.bias", &proj_bias_}};
    if (compound_text_.defined()) {
      out.push_back({"compound_prompts_text", &compound_text_});
      out.push_back({"compound_prompt_projections.weight", &compound_weight_});
      out.push_back({"compound_prompt_projections.bias", &compound_bias_});
    }
    return out;
  }

 protected:
  DeepPrompts current_prompts() const override {
    DeepPrompts p;
    p.text_ctx = ctx_vectors_;
    p.text_deep = compound_text_;
    p.vision_ctx = linear(ctx_vectors_, proj_weight_, proj_bias_);  // [n, W_v]
    if (compound_text_.defined())  // layer i's vision prompts = coupling_i(text prompts of layer i)
      p.vision_deep = add(matmul(compound_text_, transpose(compound_weight_, 1, 2)), compound_bias_.unsqueeze(1));
    return p;
  }

 private:
  Tensor ctx_vectors_;                      // [n, W_t]
  Tensor proj_weight_, proj_bias_;          // [W_v, W_t], [W_v]: layer-0 coupling
  Tensor compound_text_;                    // [depth − 1, n, W_t]
  Tensor compound_weight_, compound_bias_;  // [depth − 1, W_v, W_t], [depth − 1, W_v]
};

}  // namespace

void register_maple() {
  register_method(
      "MaPLe", [] { return std::make_unique<MaPLe>(); }, {}, "TRAINER.MAPLE");
}

}  // namespace clipt::methods
