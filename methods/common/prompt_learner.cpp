#include "methods/common/prompt_learner.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "data/templates.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/common/sharded_text.h"

namespace clipt::methods {

ClassTokenPosition parse_class_token_position(const std::string& s) {
  if (s == "end") return ClassTokenPosition::End;
  if (s == "middle") return ClassTokenPosition::Middle;
  if (s == "front") return ClassTokenPosition::Front;
  fail("unknown CLASS_TOKEN_POSITION '{}' (expected end, middle or front)", s);
}

namespace {
Tensor rows_tensor(const std::vector<int64_t>& rows, Device device) {
  return Tensor::from_vector(rows, {int64_t(rows.size())}, device);
}
}  // namespace

ClassPrompts::ClassPrompts(const MethodContext& ctx, const std::vector<std::string>& classnames,
                           const std::string& prefix, int64_t n_ctx)
    : n_ctx_(n_ctx) {
  CLIPT_CHECK(!classnames.empty(), "class prompts: no classes");
  std::vector<std::string> texts;
  for (const auto& c : classnames) {
    const std::string name = data::prompt_classname(c);
    name_lens_.push_back(int64_t(ctx.tokenizer->encode(name).size()));
    texts.push_back(prefix.empty() ? name + "." : prefix + " " + name + ".");
  }
  NoGrad ng;
  const Tensor host_ids = ctx.tokenizer->tokenize_batch(texts, ctx.clip->config().context_length);
  const clip::EotPositions eot = clip::EotPositions::of_ids(host_ids, Device::cpu());
  eot_host_ = eot.positions.to_vector<int64_t>();  // host data: no device read
  ids_ = host_ids.to(ctx.device);
  eot_ = eot.positions.to(ctx.device);
  Tensor emb = ctx.clip->text->embed(ids_);
  prefix_ = emb.narrow(1, 0, 1).contiguous();
  suffix_ = emb.narrow(1, 1 + n_ctx, emb.size(1) - 1 - n_ctx).contiguous();
}

clip::EotPositions ClassPrompts::eot_of(const std::vector<int64_t>& rows) const {
  if (eot_host_.empty()) return clip::EotPositions(eot_, -1, -1);  // a default-constructed (empty) set
  if (rows.empty())
    return clip::EotPositions(eot_, *std::max_element(eot_host_.begin(), eot_host_.end()),
                              *std::min_element(eot_host_.begin(), eot_host_.end()));
  std::vector<int64_t> sub;
  sub.reserve(rows.size());
  for (int64_t r : rows) {
    CLIPT_CHECK(r >= 0 && r < int64_t(eot_host_.size()), "class prompts: row {} outside the {} classes", r,
                eot_host_.size());
    sub.push_back(eot_host_[size_t(r)]);
  }
  return clip::EotPositions(rows_tensor(sub, eot_.device()), *std::max_element(sub.begin(), sub.end()),
                            *std::min_element(sub.begin(), sub.end()));
}

Tensor ClassPrompts::assemble(const Tensor& ctx0, ClassTokenPosition position, const std::vector<int64_t>& rows) const {
  Tensor prefix = prefix_, suffix = suffix_;
  std::vector<int64_t> classes = rows;
  if (!rows.empty()) {
    Tensor r = rows_tensor(rows, prefix_.device());
    prefix = index_select(prefix_, 0, r);
    suffix = index_select(suffix_, 0, r);
  } else {
    for (int64_t i = 0; i < num_classes(); ++i) classes.push_back(i);
  }
  const int64_t n_rows = prefix.size(0), w = prefix.size(2);
  Tensor ctx = ctx0.to(prefix.dtype());
  if (ctx.dim() == 2) ctx = ctx.unsqueeze(0).expand({n_rows, ctx.size(0), w});
  CLIPT_CHECK(ctx.dim() == 3 && ctx.size(0) == n_rows && ctx.size(1) == n_ctx_ && ctx.size(2) == w,
              "prompt context {} does not fit {} prompts of {} context tokens and width {}", describe(ctx0), n_rows,
              n_ctx_, w);
  if (position == ClassTokenPosition::End) return cat({prefix, ctx, suffix}, 1);

  // Middle/front: the class tokens move, and their count differs per class; rows with the same name
  // length are assembled together, then put back in order.
  std::map<int64_t, std::vector<int64_t>> by_len;
  for (int64_t i = 0; i < n_rows; ++i) by_len[name_lens_[size_t(classes[size_t(i)])]].push_back(i);
  TensorList parts;
  std::vector<int64_t> order;
  const int64_t half = n_ctx_ / 2;
  for (const auto& [len, members] : by_len) {
    Tensor r = rows_tensor(members, prefix.device());
    Tensor p = index_select(prefix, 0, r), s = index_select(suffix, 0, r), c = index_select(ctx, 0, r);
    Tensor cls = s.narrow(1, 0, len), rest = s.narrow(1, len, s.size(1) - len);
    if (position == ClassTokenPosition::Middle)
      parts.push_back(cat({p, c.narrow(1, 0, half), cls, c.narrow(1, half, n_ctx_ - half), rest}, 1));
    else
      parts.push_back(cat({p, cls, c, rest}, 1));
    order.insert(order.end(), members.begin(), members.end());
  }
  std::vector<int64_t> inverse(order.size());
  for (size_t k = 0; k < order.size(); ++k) inverse[size_t(order[k])] = int64_t(k);
  return index_select(cat(parts, 0), 0, rows_tensor(inverse, prefix.device()));
}

Tensor ClassPrompts::encode(const clip::TextTower& text, const Tensor& ctx0, ClassTokenPosition position,
                            const std::vector<int64_t>& rows, const clip::TextPrompts* deep) const {
  const int64_t n_rows = rows.empty() ? num_classes() : int64_t(rows.size()), w = prefix_.size(2);
  Tensor ctx = ctx0.to(prefix_.dtype());
  if (ctx.dim() == 2) ctx = ctx.unsqueeze(0);
  CLIPT_CHECK(
      ctx.dim() == 3 && ctx.size(0) > 0 && n_rows % ctx.size(0) == 0 && ctx.size(1) == n_ctx_ && ctx.size(2) == w,
      "prompt context {} does not fit {} prompts of {} context tokens and width {}", describe(ctx0), n_rows, n_ctx_, w);
  const int64_t groups = ctx.size(0), members = n_rows / groups;
  if (position == ClassTokenPosition::End && members > 1) {
    // The start token is the same for every class.
    Tensor shared = cat({prefix_.narrow(0, 0, 1).expand({groups, 1, w}), ctx}, 1);
    Tensor suffix = rows.empty() ? suffix_ : index_select(suffix_, 0, rows_tensor(rows, suffix_.device()));
    return text.forward_shared_prefix(shared, suffix, eot_of(rows), deep);
  }
  Tensor per_row =
      members == 1 ? ctx : ctx.unsqueeze(1).expand({groups, members, n_ctx_, w}).reshape({n_rows, n_ctx_, w});
  return text.forward(assemble(per_row, position, rows), eot_of(rows), deep);
}

PromptLearner::PromptLearner(const MethodContext& mctx, const std::vector<std::string>& classnames,
                             PromptLearnerOptions options)
    : options_(std::move(options)) {
  const int64_t width = mctx.clip->config().text.width;
  Tensor init;
  if (!options_.ctx_init.empty()) {
    // CoOp: the context is the embedding of the init words, right after the start token.
    std::string words = options_.ctx_init;
    for (char& ch : words)
      if (ch == '_') ch = ' ';
    std::istringstream split(words);
    int64_t count = 0;
    for (std::string w; split >> w;) ++count;
    const auto tokens = mctx.tokenizer->encode(words);
    CLIPT_CHECK(!options_.class_specific, "CTX_INIT with class-specific context (CSC) is not supported (as CoOp)");
    NoGrad ng;
    Tensor ids = mctx.tokenizer->tokenize_batch({words}, mctx.clip->config().context_length).to(mctx.device);
    Tensor word_vectors = mctx.clip->text->embed(ids).select(0, 0).narrow(0, 1, count).to(DType::F32);
    if (options_.init_words_at_end) {
      CLIPT_CHECK(options_.n_ctx >= count, "N_CTX {} is smaller than the {} words of the context init '{}'",
                  options_.n_ctx, count, words);
      CLIPT_CHECK(int64_t(tokens.size()) == count || options_.position == ClassTokenPosition::End,
                  "the context init '{}' has {} words but {} tokens: its extra tokens stay before the class name, "
                  "which only CLASS_TOKEN_POSITION end supports",
                  words, count, tokens.size());
      init = Tensor::zeros({options_.n_ctx, width}, DType::F32, mctx.device);
      init.narrow(0, options_.n_ctx - count, count).copy_(word_vectors);
      prefix_text_.clear();
      for (int64_t i = 0; i < options_.n_ctx - count; ++i) prefix_text_ += "X ";
      prefix_text_ += words;
    } else {
      CLIPT_CHECK(int64_t(tokens.size()) == count,
                  "CTX_INIT '{}' has {} words but {} tokens; CoOp needs one token per word", options_.ctx_init, count,
                  tokens.size());
      options_.n_ctx = count;
      prefix_text_ = words;
      init = word_vectors.contiguous();
    }
  } else {
    CLIPT_CHECK(options_.n_ctx > 0, "N_CTX must be positive, got {}", options_.n_ctx);
    Shape s = options_.class_specific ? Shape{int64_t(classnames.size()), options_.n_ctx, width}
                                      : Shape{options_.n_ctx, width};
    Generator gen(mctx.seed * 7919 + 17);
    init = Tensor::empty(s, DType::F32, mctx.device);
    normal_(init, 0.0, options_.init_std, gen);
    prefix_text_.clear();
    for (int64_t i = 0; i < options_.n_ctx; ++i) prefix_text_ += i ? " X" : "X";
  }
  register_parameter("ctx", &ctx, init.to(mctx.device));
  prompts_ = make_prompts(mctx, classnames);
}

ClassPrompts PromptLearner::make_prompts(const MethodContext& mctx, const std::vector<std::string>& classnames) const {
  CLIPT_CHECK(!options_.class_specific || int64_t(classnames.size()) == ctx.size(0),
              "a class-specific context (CSC) was learned for {} classes and cannot encode {} other classes",
              ctx.size(0), classnames.size());
  return ClassPrompts(mctx, classnames, prefix_text_, options_.n_ctx);
}

Tensor PromptLearner::text_features(const MethodContext& mctx, const ClassPrompts& prompts, const Tensor& context,
                                    const std::vector<int64_t>& all_rows) const {
  const Tensor full_context = context.defined() ? context : ctx;
  return sharded_text_rows(mctx, prompts.num_classes(), all_rows, [&](const std::vector<int64_t>& rows) {
    Tensor c = full_context;
    if (c.dim() == 3 && !rows.empty())
      c = index_select(c, 0, Tensor::from_vector(rows, {int64_t(rows.size())}, c.device()));
    return prompts.encode(*mctx.clip->text, c, options_.position, rows);
  });
}

}  // namespace clipt::methods
