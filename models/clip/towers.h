// CLIP's two towers on the engine, batch-first. Both expose the hooks prompt methods need:
//   - the text tower encodes token *embeddings* (so learnable context can be spliced in), with exact
//     causal length truncation (on by default) and per-layer deep prompts at positions 1..n;
//   - the image tower appends n prompt tokens after the positional embedding (before ln_pre) and can
//     replace them at deeper layers.
// Parameter names follow OpenAI's checkpoint names (conv1, class_embedding, ln_pre, transformer.*, ...).
#pragma once
#include <memory>
#include <vector>

#include "engine/nn/transformer.h"
#include "models/clip/clip_config.h"

namespace clipt::clip {

// Prompt tokens for the image tower. `shallow` ([n, W] or per-image [B, n, W]) is appended at layer 0;
// deep[i] (for 1 <= i < layers, undefined = keep) replaces the last n tokens before block i.
struct VisionPrompts {
  Tensor shallow;
  std::vector<Tensor> deep;
};

// Deep prompts for the text tower: deep[i] ([n, W] or per-sequence [N, n, W]; undefined = keep)
// replaces positions 1..n before block i (i >= 1). Layer 0's prompts are part of the input embeddings.
struct TextPrompts {
  std::vector<Tensor> deep;
};

class VisionTower : public nn::Module {
 public:
  VisionTower(const ClipConfig& c, Generator& gen, DType dtype);
  // images: [B, 3, R, R] (any float dtype; cast to the tower's) → features [B, projection_dim].
  Tensor forward(const Tensor& images, const VisionPrompts* prompts = nullptr) const;

  Tensor class_embedding;       // [W]
  Tensor positional_embedding;  // [1 + patches, W]
  Tensor conv1_weight;          // [W, 3, P, P]
  std::unique_ptr<nn::LayerNorm> ln_pre, ln_post;
  std::unique_ptr<nn::Transformer> transformer;
  Tensor proj;  // [W, projection_dim]

 private:
  int64_t image_size_, patch_size_;
};

// The end-of-text position of each sequence of a batch: i64 [N] on the tower's device (for the gather of
// the EOT rows) with its largest and smallest values known on the host (the truncation length and the
// shared-prefix check). Token ids are host data, so callers that keep them (ClassPrompts) pass the host
// values and a forward reads nothing back from the device; from a bare tensor they are read from it
// (one host read each, which on a device waits for the stream).
struct EotPositions {
  EotPositions(const Tensor& positions);  // NOLINT: implicit, every Tensor of positions converts
  EotPositions(Tensor positions, int64_t longest, int64_t shortest);
  // From host token ids [N, L] (the end token is the largest id): positions uploaded to `device`.
  static EotPositions of_ids(const Tensor& host_ids, Device device);
  Tensor positions;
  int64_t longest = -1, shortest = -1;  // -1 when the batch is empty
};

class TextTower : public nn::Module {
 public:
  TextTower(const ClipConfig& c, Generator& gen, DType dtype);
  // Token ids [N, L] → their (frozen-table) embeddings [N, L, W].
  Tensor embed(const Tensor& ids) const;
  // Token embeddings [N, L, W] (prompts already spliced in) and the EOT position of each sequence
  // (i64 [N]; the argmax of the token ids) → features [N, projection_dim]. With `truncate`, the
  // sequence is cut after the last EOT of the batch: the causal mask makes this exact.
  Tensor forward(const Tensor& embeddings, const EotPositions& eot_positions, const TextPrompts* prompts = nullptr,
                 bool truncate = true) const;
  // forward(embed(ids), argmax(ids)).
  Tensor encode_ids(const Tensor& ids, bool truncate = true) const;
  // Shared-prefix encoding, exactly forward(cat(prefix of each row, suffix), eot_positions, prompts):
  // prefix [G, P, W] is shared by consecutive groups of N / G rows of suffix [N, S, W] (CoOp: G = 1, the
  // start token and the learned context; CoCoOp: one per image). Under the causal mask the prefix's
  // hidden states do not depend on what follows, so it is encoded once per group and each row runs only
  // its own S tokens against the prefix's keys/values; the backward sums the prefix gradients over its
  // rows. Deep prompts must then be shared ([n, W], inside the prefix). Falls back to the full encoding
  // when that does not hold, when an EOT lies inside the prefix, or when share_prefix is off.
  Tensor forward_shared_prefix(const Tensor& prefix, const Tensor& suffix, const EotPositions& eot_positions,
                               const TextPrompts* prompts = nullptr, bool truncate = true) const;

  // Off: forward_shared_prefix always takes the full encoding (tests compare the two).
  bool share_prefix = true;
  // Token positions run through the transformer so far (rows × length, prefixes counted once).
  mutable int64_t tokens_encoded = 0;

  std::unique_ptr<nn::Embedding> token_embedding;
  Tensor positional_embedding;  // [context_length, W]
  std::unique_ptr<nn::Transformer> transformer;
  std::unique_ptr<nn::LayerNorm> ln_final;
  Tensor text_projection;  // [W, projection_dim]

 private:
  // The hook that puts deep prompts at positions 1..n before layers >= 1 of a batch of `batch`.
  nn::Transformer::LayerHook deep_prompt_hook(const TextPrompts* prompts, int64_t batch, DType dt) const;
  // ln_final and the projection of each sequence's EOT token (position eot_in_x[i] of x[i]).
  Tensor project_eot(const Tensor& x, const Tensor& eot_in_x) const;
};

}  // namespace clipt::clip
