// CoOp's class prompts: "<context> <class name>." tokenised once, with the context positions filled by
// learnable vectors at every forward. The frozen pieces (start token, class tokens, period, end token,
// padding) are embedded once and kept as buffers; assembling a batch of prompts is two concatenations.
// Class-token position "end" (CoOp's default), "middle" or "front"; shared or class-specific context.
#pragma once
#include <string>
#include <vector>

#include "methods/method.h"

namespace clipt::methods {

enum class ClassTokenPosition { End, Middle, Front };
ClassTokenPosition parse_class_token_position(const std::string& s);

struct PromptLearnerOptions {
  int64_t n_ctx = 16;
  std::string ctx_init;  // e.g. "a photo of a": n_ctx becomes its word count, vectors its embeddings
  // ProGrad's initialisation (BeierZhu/Prompt-align trainers/prograd.py): n_ctx stays, the vectors are
  // zeros with the embeddings of ctx_init's first w tokens (w = its word count) in the last w rows, and the
  // prompt text is "X … X <ctx_init> <class>." — a word of two tokens ("pet,") leaves its extra token in
  // the frozen part after the context, as the released trainer does.
  bool init_words_at_end = false;
  bool class_specific = false;  // CSC
  ClassTokenPosition position = ClassTokenPosition::End;
  double init_std = 0.02;
};

// Tokenised class prompts with placeholder context (frozen; rebuilt per class set).
class ClassPrompts {
 public:
  ClassPrompts() = default;
  ClassPrompts(const MethodContext& ctx, const std::vector<std::string>& classnames, const std::string& prefix,
               int64_t n_ctx);
  int64_t num_classes() const { return int64_t(name_lens_.size()); }
  int64_t n_ctx() const { return n_ctx_; }
  const Tensor& token_ids() const { return ids_; }      // i64 [C, L]
  const Tensor& eot_positions() const { return eot_; }  // i64 [C]

  // Prompt embeddings [R, L, W] for rows of classes `rows` (all classes when empty) with context
  // `ctx`: [n, W] shared by every row, or [R, n, W] one per row.
  Tensor assemble(const Tensor& ctx, ClassTokenPosition position, const std::vector<int64_t>& rows = {}) const;
  // EOT positions of `rows` (all when empty), with their bounds known on the host (no device read).
  clip::EotPositions eot_of(const std::vector<int64_t>& rows) const;
  // Text features [R, D] (model dtype) of `rows` (all when empty) with context `ctx`: [n, W] shared by
  // every row, [G, n, W] one per group of R / G consecutive rows (CoCoOp: one per image, the rows
  // repeating the class list), or [R, n, W] one per row (CSC); `deep` are the text tower's deep prompts.
  // With the class token at the end and a context shared by several rows, the start token and the
  // context form one shared prefix encoded once per group (TextTower::forward_shared_prefix); otherwise
  // the prompts are assembled whole.
  Tensor encode(const clip::TextTower& text, const Tensor& ctx, ClassTokenPosition position,
                const std::vector<int64_t>& rows = {}, const clip::TextPrompts* deep = nullptr) const;

 private:
  int64_t n_ctx_ = 0;
  Tensor ids_, eot_;
  std::vector<int64_t> eot_host_;  // eot_ on the host, from the host token ids
  Tensor prefix_;                  // [C, 1, W]: start token
  Tensor suffix_;                  // [C, L − 1 − n, W]: class tokens, ".", end token, padding
  std::vector<int64_t> name_lens_;
};

// The learnable context of CoOp (and of the methods built on it).
class PromptLearner : public nn::Module {
 public:
  PromptLearner(const MethodContext& ctx, const std::vector<std::string>& classnames, PromptLearnerOptions options);
  // The training classes' prompts, and prompts for another class set (evaluation on new classes; a
  // class-specific context cannot move to other classes: error).
  const ClassPrompts& prompts() const { return prompts_; }
  ClassPrompts make_prompts(const MethodContext& ctx, const std::vector<std::string>& classnames) const;
  const PromptLearnerOptions& options() const { return options_; }
  // Text features [R, D] (model dtype) of `prompts` with context `context` (default: the learnable
  // one); `rows` selects a class subset.
  Tensor text_features(const MethodContext& ctx, const ClassPrompts& prompts, const Tensor& context = Tensor(),
                       const std::vector<int64_t>& rows = {}) const;
  Tensor text_features(const MethodContext& ctx) const { return text_features(ctx, prompts_); }

  Tensor ctx;  // [n_ctx, W] or [C, n_ctx, W] (CSC), f32

 private:
  PromptLearnerOptions options_;
  std::string prefix_text_;
  ClassPrompts prompts_;
};

}  // namespace clipt::methods
