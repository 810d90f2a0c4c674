#include "methods/common/deep_prompts.h"

#include "engine/ops/ops.h"
#include "methods/common/clip_features.h"
#include "methods/common/sharded_text.h"

namespace clipt::methods {

namespace {
// deep [k, n, W] → slots for layers 0..k (layer 0's prompts are the input, so slot 0 stays empty).
std::vector<Tensor> per_layer(const Tensor& deep) {
  std::vector<Tensor> out;
  if (!deep.defined()) return out;
  CLIPT_CHECK(deep.dim() == 3, "deep prompts must be [layers, tokens, width], got {}", describe(deep));
  out.resize(size_t(deep.size(0)) + 1);
  for (int64_t i = 0; i < deep.size(0); ++i) out[size_t(i) + 1] = deep.select(0, i);
  return out;
}
}  // namespace

clip::TextPrompts text_layer_prompts(const Tensor& deep) { return {per_layer(deep)}; }

clip::VisionPrompts vision_layer_prompts(const Tensor& shallow, const Tensor& deep) {
  return {shallow, per_layer(deep)};
}

Tensor deep_text_features(const MethodContext& ctx, const ClassPrompts& prompts, const Tensor& text_ctx,
                          const Tensor& deep, const std::vector<int64_t>& rows) {
  const clip::TextPrompts layers = text_layer_prompts(deep);
  return sharded_text_rows(ctx, prompts.num_classes(), rows, [&](const std::vector<int64_t>& local) {
    Tensor f = prompts.encode(*ctx.clip->text, text_ctx, ClassTokenPosition::End, local,
                              layers.deep.empty() ? nullptr : &layers);
    return l2_normalize(f.to(DType::F32), -1);
  });
}

Tensor deep_image_features(const MethodContext& ctx, const Tensor& images, const Tensor& shallow, const Tensor& deep) {
  if (!shallow.defined()) {
    CLIPT_CHECK(!deep.defined(), "deep vision prompts need layer-0 vision prompts");
    return l2_normalize(ctx.clip->encode_image(images).to(DType::F32), -1);
  }
  const clip::VisionPrompts p = vision_layer_prompts(shallow, deep);
  return l2_normalize(ctx.clip->encode_image(images, &p).to(DType::F32), -1);
}

std::string placeholder_prefix(int64_t n) {
  std::string s;
  for (int64_t i = 0; i < n; ++i) s += i ? " X" : "X";
  return s;
}

Tensor normal_prompts(const Shape& shape, Generator& gen, Device device, double std) {
  Tensor t = Tensor::empty(shape, DType::F32);
  normal_(t, 0.0, std, gen);
  return t.to(device);
}

TextContextInit peer_text_context(const MethodContext& ctx, int64_t n_ctx, const std::string& ctx_init, Generator& gen,
                                  const std::string& key) {
  CLIPT_CHECK(n_ctx > 0, "{} must be positive, got {}", key, n_ctx);
  const int64_t width = ctx.clip->config().text.width;
  TextContextInit out;
  if (!ctx_init.empty() && n_ctx <= 4) {
    std::string words = ctx_init;
    for (char& ch : words)
      if (ch == '_') ch = ' ';
    const auto tokens = ctx.tokenizer->encode(words);
    CLIPT_CHECK(int64_t(tokens.size()) >= n_ctx,
                "CTX_INIT '{}' has {} tokens, fewer than the {} context tokens of {}: the context would start "
                "with the end token",
                ctx_init, tokens.size(), n_ctx, key);
    NoGrad ng;
    Tensor ids = ctx.tokenizer->tokenize_batch({words}, ctx.clip->config().context_length).to(ctx.device);
    out.vectors = ctx.clip->text->embed(ids).select(0, 0).narrow(0, 1, n_ctx).to(DType::F32).contiguous();
    out.prompt_prefix = words;
  } else {
    out.vectors = normal_prompts({n_ctx, width}, gen, ctx.device);
    out.prompt_prefix = placeholder_prefix(n_ctx);
  }
  return out;
}

void check_prompt_depth(const std::string& key, int64_t depth, int64_t min_depth, int64_t tower_layers,
                        const char* tower) {
  CLIPT_CHECK(depth >= min_depth && depth <= tower_layers,
              "{} is {}; it must lie in [{}, {}] (the {} tower has {} layers)", key, depth, min_depth, tower_layers,
              tower, tower_layers);
}

void DeepPromptMethod::build_class_prompts(const MethodContext& ctx, const std::vector<std::string>& classnames,
                                           const std::string& prefix, int64_t n_ctx) {
  ctx_ = ctx;
  scale_ = ctx.clip->logit_scale_value();
  prefix_ = prefix;
  n_ctx_ = n_ctx;
  train_prompts_ = ClassPrompts(ctx, classnames, prefix, n_ctx);
}

Tensor DeepPromptMethod::image_features(const Tensor& images) {
  const DeepPrompts p = current_prompts();
  return deep_image_features(ctx_, images, p.vision_ctx, p.vision_deep);
}

Tensor DeepPromptMethod::text_features(const std::vector<int64_t>& rows) {
  const DeepPrompts p = current_prompts();
  return deep_text_features(ctx_, train_prompts_, p.text_ctx, p.text_deep, rows);
}

LossResult DeepPromptMethod::loss(const TrainBatch& batch) {
  Tensor logits = cosine_logits(image_features(batch.images), text_features(), scale_);
  return {cross_entropy(logits, batch.labels), logits.detach(), {}};
}

void DeepPromptMethod::prepare_eval(const std::vector<std::string>& classnames, ClassSplit) {
  NoGrad ng;
  const DeepPrompts p = current_prompts();
  eval_text_ = deep_text_features(ctx_, ClassPrompts(ctx_, classnames, prefix_, n_ctx_), p.text_ctx, p.text_deep);
}

Tensor DeepPromptMethod::eval_logits(const Tensor& images) {
  CLIPT_CHECK(eval_text_.defined(), "eval_logits before prepare_eval");
  NoGrad ng;
  return cosine_logits(image_features(images), eval_text_, scale_);
}

}  // namespace clipt::methods
