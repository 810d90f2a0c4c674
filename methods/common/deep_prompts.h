// Shared pieces of the deep vision–language prompt methods (IVLP, MaPLe, MetaPrompt): learnable tokens
// in several layers of both CLIP towers, through the towers' prompt hooks (models/clip/towers.h).
//   text:   n tokens right after the start token at layer 0 (they receive the positional embedding),
//           replaced by the next layer's tokens before blocks 1..k (no positional embedding);
//   vision: n tokens appended after the positional embedding (none added to them), through ln_pre,
//           the last n tokens replaced before blocks 1..k.
// CLIP stays frozen: its weights do not require grad, so a backward through a tower computes
// activation gradients only, and nothing before the first prompted layer is recorded on the tape.
#pragma once
#include <string>
#include <vector>

#include "engine/ops/random.h"
#include "methods/common/prompt_learner.h"
#include "methods/method.h"

namespace clipt::methods {

// The prompts of one forward (trainable f32 tensors, or values computed from them on the tape).
struct DeepPrompts {
  Tensor text_ctx;     // [n_t, W_t]: positions 1..n_t of the layer-0 input
  Tensor text_deep;    // [k, n_t, W_t] (or undefined): replace positions 1..n_t before layers 1..k
  Tensor vision_ctx;   // [n_v, W_v] (or undefined: no vision prompts): appended at layer 0
  Tensor vision_deep;  // [k, n_v, W_v] (or undefined): replace the last n_v tokens before layers 1..k
};

// Per-layer prompts for the towers' hooks: deep[i − 1] goes to layer i.
clip::TextPrompts text_layer_prompts(const Tensor& deep);
clip::VisionPrompts vision_layer_prompts(const Tensor& shallow, const Tensor& deep);

// L2-normalised f32 text features of `rows` of `prompts` (all when empty) with the layer-0 context
// `ctx` and the deep prompts `deep` (may be undefined).
Tensor deep_text_features(const MethodContext& ctx, const ClassPrompts& prompts, const Tensor& text_ctx,
                          const Tensor& deep, const std::vector<int64_t>& rows = {});
// L2-normalised f32 image features with vision prompts (`shallow` undefined: plain CLIP).
Tensor deep_image_features(const MethodContext& ctx, const Tensor& images, const Tensor& shallow, const Tensor& deep);

// The peers' text-context initialisation (MaPLe/IVLP): with `ctx_init` set and n_ctx <= 4, the first
// n_ctx token embeddings of ctx_init, and the class prompts read "<ctx_init> <class>." (the words after
// the first n_ctx tokens stay as frozen tokens); otherwise N(0, 0.02²) and "X X ... <class>.".
struct TextContextInit {
  Tensor vectors;             // f32 [n_ctx, W_t]
  std::string prompt_prefix;  // the text in front of the class name
};
TextContextInit peer_text_context(const MethodContext& ctx, int64_t n_ctx, const std::string& ctx_init, Generator& gen,
                                  const std::string& key);
// N(0, std²) in f32 on `device` (the peers' nn.init.normal_(std=0.02) prompts).
Tensor normal_prompts(const Shape& shape, Generator& gen, Device device, double std = 0.02);
// `n` "X" words separated by spaces (the placeholder prompt prefix).
std::string placeholder_prefix(int64_t n);
// A prompt depth must lie in [min_depth, tower_layers]; otherwise an error naming the key.
void check_prompt_depth(const std::string& key, int64_t depth, int64_t min_depth, int64_t tower_layers,
                        const char* tower);

// A deep-prompt method with CLIP's single cosine logit (IVLP, MaPLe): cross-entropy of
// scale · f_v(x)·g_t(c) with both towers prompted; text features cached once per evaluation class set.
// Subclasses own the parameters and say how the prompts of a forward are made from them, reading
// them through their prompt slots at every forward (so a wrapper such as DPC can rebind them).
class DeepPromptMethod : public Method {
 public:
  LossResult loss(const TrainBatch& batch) override;
  void prepare_eval(const std::vector<std::string>& classnames, ClassSplit split) override;
  Tensor eval_logits(const Tensor& images) override;
  Tensor image_features(const Tensor& images) override;
  Tensor text_features(const std::vector<int64_t>& rows = {}) override;

  const MethodContext& context() const { return ctx_; }
  double logit_scale() const { return scale_; }

 protected:
  // The prompts of this forward (on the tape).
  virtual DeepPrompts current_prompts() const = 0;
  // Tokenised class prompts "<prefix> <class>." with n_ctx learnable positions after the start token.
  void build_class_prompts(const MethodContext& ctx, const std::vector<std::string>& classnames,
                           const std::string& prefix, int64_t n_ctx);

  MethodContext ctx_;
  double scale_ = 100.0;
  std::string prefix_;
  int64_t n_ctx_ = 0;
  ClassPrompts train_prompts_;
  Tensor eval_text_;  // normalised features of the evaluation classes
};

}  // namespace clipt::methods
