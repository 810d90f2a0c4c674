#include "methods/common/clip_features.h"

#include "data/templates.h"
#include "engine/ops/ops.h"

namespace clipt::methods {

namespace {
constexpr int64_t kPromptChunk = 256;

Tensor encode_texts(const MethodContext& ctx, const std::vector<std::string>& texts) {
  const int64_t context = ctx.clip->config().context_length;
  TensorList parts;
  for (size_t at = 0; at < texts.size(); at += kPromptChunk) {
    std::vector<std::string> chunk(texts.begin() + int64_t(at),
                                   texts.begin() + int64_t(std::min(texts.size(), at + kPromptChunk)));
    Tensor ids = ctx.tokenizer->tokenize_batch(chunk, context).to(ctx.device);
    parts.push_back(l2_normalize(ctx.clip->encode_text(ids).to(DType::F32), -1));
  }
  return parts.size() == 1 ? parts[0] : cat(parts, 0);
}
}  // namespace

Tensor hand_made_text_features(const MethodContext& ctx, const std::vector<std::string>& classnames,
                               const std::vector<std::string>& templates, data::ClassNameForm form) {
  CLIPT_CHECK(!templates.empty(), "hand-made text features: no templates");
  NoGrad ng;
  Tensor sum_features;
  for (const std::string& tmpl : templates) {
    std::vector<std::string> texts;
    for (const auto& c : classnames) texts.push_back(data::fill_template(tmpl, c, form));
    Tensor f = encode_texts(ctx, texts);
    sum_features = sum_features.defined() ? add(sum_features, f) : f;
  }
  return templates.size() == 1 ? sum_features : l2_normalize(sum_features, -1);
}

Tensor coop_text_features(const MethodContext& ctx, const std::vector<std::string>& classnames) {
  return hand_made_text_features(ctx, classnames, {data::coop_template(ctx.dataset)});
}

Tensor frozen_image_features(const MethodContext& ctx, const Tensor& images) {
  NoGrad ng;
  return l2_normalize(ctx.clip->encode_image(images).to(DType::F32), -1);
}

Tensor cosine_logits(const Tensor& a, const Tensor& b, double scale) { return mul(matmul(a, b.t()), scale); }

}  // namespace clipt::methods
