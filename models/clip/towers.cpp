#include "models/clip/towers.h"

#include <algorithm>
#include <cmath>

#include "engine/ops/ops.h"
#include "engine/profile/profiler.h"

namespace clipt::clip {

namespace {

Tensor init_normal(const Shape& s, double std, Generator& gen, DType dtype) {
  Tensor t = Tensor::empty(s, DType::F32);
  normal_(t, 0.0, std, gen);
  return t.to(dtype);
}

std::unique_ptr<nn::Transformer> make_transformer(const TowerConfig& t, Generator& gen, DType dtype) {
  return std::make_unique<nn::Transformer>(t.width, t.layers, t.heads, t.mlp_hidden, nn::parse_activation(t.activation),
                                           gen, dtype, t.layer_norm_eps);
}

// The prompt for a batch of `batch`: shared [n, W] prompts are broadcast.
Tensor batched(const Tensor& p, int64_t batch, DType dtype, const char* what) {
  CLIPT_CHECK(p.dim() == 2 || p.dim() == 3, "{}: prompt must be [n, W] or [B, n, W], got {}", what, describe(p));
  Tensor q = p.to(dtype);
  if (q.dim() == 2) return q.unsqueeze(0).expand({batch, q.size(0), q.size(1)});
  CLIPT_CHECK(q.size(0) == batch, "{}: per-sample prompt {} for a batch of {}", what, describe(p), batch);
  return q;
}

}  // namespace

VisionTower::VisionTower(const ClipConfig& c, Generator& gen, DType dtype)
    : image_size_(c.image_size), patch_size_(c.patch_size) {
  const int64_t w = c.vision.width;
  const double scale = 1.0 / std::sqrt(double(w));
  register_parameter("class_embedding", &class_embedding, init_normal({w}, scale, gen, dtype));
  register_parameter("positional_embedding", &positional_embedding,
                     init_normal({1 + c.num_patches(), w}, scale, gen, dtype));
  register_parameter("conv1.weight", &conv1_weight,
                     init_normal({w, 3, c.patch_size, c.patch_size},
                                 1.0 / std::sqrt(3.0 * double(c.patch_size * c.patch_size)), gen, dtype));
  register_module("ln_pre", &ln_pre, std::make_unique<nn::LayerNorm>(w, c.vision.layer_norm_eps, dtype));
  register_module("transformer", &transformer, make_transformer(c.vision, gen, dtype));
  register_module("ln_post", &ln_post, std::make_unique<nn::LayerNorm>(w, c.vision.layer_norm_eps, dtype));
  register_parameter("proj", &proj, init_normal({w, c.projection_dim}, scale, gen, dtype));
}

Tensor VisionTower::forward(const Tensor& images, const VisionPrompts* prompts) const {
  CLIPT_CHECK(
      images.dim() == 4 && images.size(1) == 3 && images.size(2) == image_size_ && images.size(3) == image_size_,
      "image tower: expected images [B, 3, {}, {}], got {}", image_size_, image_size_, describe(images));
  profile::ModuleScope scope(module_name());
  const DType dt = proj.dtype();
  const int64_t b = images.size(0), w = class_embedding.size(0);
  Tensor x = patch_embed(images.to(dt), conv1_weight);  // [B, patches, W]
  Tensor cls = class_embedding.reshape({1, 1, w}).expand({b, 1, w});
  x = add(cat({cls, x}, 1), positional_embedding);
  int64_t n = 0;
  if (prompts && prompts->shallow.defined()) {
    Tensor p = batched(prompts->shallow, b, dt, "vision prompts");
    n = p.size(1);
    x = cat({x, p}, 1);  // appended after the positional embedding: prompts get none
  }
  x = ln_pre->forward(x);
  nn::Transformer::LayerHook hook;
  if (prompts && !prompts->deep.empty()) {
    CLIPT_CHECK(prompts->shallow.defined(), "vision prompts: deep prompts given without layer-0 prompts");
    hook = [&](int64_t layer, const Tensor& h) {
      if (layer == 0 || layer >= int64_t(prompts->deep.size()) || !prompts->deep[size_t(layer)].defined()) return h;
      Tensor p = batched(prompts->deep[size_t(layer)], b, dt, "deep vision prompts");
      CLIPT_CHECK(p.size(1) == n, "deep vision prompt of layer {} has {} tokens, layer 0 has {}", layer, p.size(1), n);
      return cat({h.narrow(1, 0, h.size(1) - n), p}, 1);
    };
  }
  x = transformer->forward(x, /*causal=*/false, hook);
  return matmul(ln_post->forward(x.select(1, 0)), proj);
}

TextTower::TextTower(const ClipConfig& c, Generator& gen, DType dtype) {
  const int64_t w = c.text.width;
  register_module("token_embedding", &token_embedding,
                  std::make_unique<nn::Embedding>(c.vocab_size, w, gen, 0.02, dtype));
  register_parameter("positional_embedding", &positional_embedding,
                     init_normal({c.context_length, w}, 0.01, gen, dtype));
  register_module("transformer", &transformer, make_transformer(c.text, gen, dtype));
  register_module("ln_final", &ln_final, std::make_unique<nn::LayerNorm>(w, c.text.layer_norm_eps, dtype));
  register_parameter("text_projection", &text_projection,
                     init_normal({w, c.projection_dim}, 1.0 / std::sqrt(double(w)), gen, dtype));
}

Tensor TextTower::embed(const Tensor& ids) const {
  profile::ModuleScope scope(module_name());
  return token_embedding->forward(ids);
}

EotPositions::EotPositions(const Tensor& p) : positions(p) {
  CLIPT_CHECK(p.defined() && p.dim() == 1, "text tower: EOT positions must be [N], got {}", describe(p));
  if (p.numel() > 0) {
    const std::vector<int64_t> v = p.to_vector<int64_t>();  // one host read for both bounds
    longest = *std::max_element(v.begin(), v.end());
    shortest = *std::min_element(v.begin(), v.end());
  }
}

EotPositions::EotPositions(Tensor p, int64_t longest_, int64_t shortest_)
    : positions(std::move(p)), longest(longest_), shortest(shortest_) {}

EotPositions EotPositions::of_ids(const Tensor& host_ids, Device device) {
  CLIPT_CHECK(host_ids.device().is_cpu() && host_ids.dim() == 2,
              "EOT positions: expected host token ids [N, L], got {}", describe(host_ids));
  const int64_t n = host_ids.size(0), l = host_ids.size(1);
  const std::vector<int64_t> ids = host_ids.contiguous().to_vector<int64_t>();
  std::vector<int64_t> eot(size_t(n), 0);
  int64_t longest = -1, shortest = -1;
  for (int64_t r = 0; r < n; ++r) {
    int64_t best = 0;  // argmax: the first position of the largest id, as argmax(ids, 1)
    for (int64_t c = 1; c < l; ++c)
      if (ids[size_t(r * l + c)] > ids[size_t(r * l + best)]) best = c;
    eot[size_t(r)] = best;
    longest = std::max(longest, best);
    shortest = r == 0 ? best : std::min(shortest, best);
  }
  return EotPositions(Tensor::from_vector(eot, {n}, device), longest, shortest);
}

Tensor TextTower::forward(const Tensor& embeddings, const EotPositions& eot, const TextPrompts* prompts,
                          bool truncate) const {
  const Tensor& eot_positions = eot.positions;
  const int64_t ctx = positional_embedding.size(0), w = positional_embedding.size(1);
  CLIPT_CHECK(embeddings.dim() == 3 && embeddings.size(2) == w && embeddings.size(1) <= ctx,
              "text tower: expected embeddings [N, <= {}, {}], got {}", ctx, w, describe(embeddings));
  CLIPT_CHECK(eot_positions.dim() == 1 && eot_positions.size(0) == embeddings.size(0),
              "text tower: EOT positions {} do not match embeddings {}", describe(eot_positions), describe(embeddings));
  profile::ModuleScope scope(module_name());
  const DType dt = text_projection.dtype();
  const int64_t n = embeddings.size(0);
  int64_t len = embeddings.size(1);
  if (truncate && n > 0) {
    // With a causal mask the EOT feature depends only on tokens up to EOT: run the batch at the length
    // of its longest prefix.
    len = eot.longest + 1;
    CLIPT_CHECK(len <= embeddings.size(1), "text tower: EOT position {} beyond sequence length {}", len - 1,
                embeddings.size(1));
  }
  Tensor x = add(embeddings.narrow(1, 0, len).to(dt), positional_embedding.narrow(0, 0, len));
  tokens_encoded += n * len;
  x = transformer->forward(x, /*causal=*/true, deep_prompt_hook(prompts, n, dt));
  return project_eot(x, eot_positions);
}

nn::Transformer::LayerHook TextTower::deep_prompt_hook(const TextPrompts* prompts, int64_t batch, DType dt) const {
  if (!prompts || prompts->deep.empty()) return nullptr;
  return [prompts, batch, dt](int64_t layer, const Tensor& h) {
    if (layer == 0 || layer >= int64_t(prompts->deep.size()) || !prompts->deep[size_t(layer)].defined()) return h;
    Tensor p = batched(prompts->deep[size_t(layer)], batch, dt, "deep text prompts");
    const int64_t k = p.size(1);
    CLIPT_CHECK(1 + k <= h.size(1), "deep text prompts of layer {}: {} tokens do not fit a sequence of {}", layer, k,
                h.size(1));
    return cat({h.narrow(1, 0, 1), p, h.narrow(1, 1 + k, h.size(1) - 1 - k)}, 1);
  };
}

Tensor TextTower::project_eot(const Tensor& x, const Tensor& eot_in_x) const {
  const int64_t n = x.size(0), w = x.size(2);
  // LayerNorm is per token, so taking the EOT rows first gives ln_final(x)[eot] exactly. A gather along the
  // sequence: each sequence gives one row, so the backward writes every gradient row to its own place
  // (scatter without collisions) instead of index_select's index_add, which sorts the indices for repeats.
  Tensor index = eot_in_x.to(DType::I64).reshape({n, 1, 1}).expand({n, 1, w});
  Tensor eot = gather(x, 1, index).reshape({n, w});
  return matmul(ln_final->forward(eot), text_projection);
}

Tensor TextTower::forward_shared_prefix(const Tensor& prefix, const Tensor& suffix, const EotPositions& eot,
                                        const TextPrompts* prompts, bool truncate) const {
  const Tensor& eot_positions = eot.positions;
  const int64_t ctx = positional_embedding.size(0), w = positional_embedding.size(1);
  CLIPT_CHECK(prefix.dim() == 3 && suffix.dim() == 3 && prefix.size(2) == w && suffix.size(2) == w &&
                  prefix.size(0) > 0 && suffix.size(0) % prefix.size(0) == 0 && prefix.size(1) + suffix.size(1) <= ctx,
              "text tower: shared prefix {} does not fit rows {} (width {}, context {})", describe(prefix),
              describe(suffix), w, ctx);
  const int64_t g = prefix.size(0), n = suffix.size(0), members = n / g, p = prefix.size(1);
  auto full = [&] {
    Tensor per_row = prefix.unsqueeze(1).expand({g, members, p, w}).reshape({n, p, w});
    return forward(cat({per_row, suffix.to(prefix.dtype())}, 1), eot, prompts, truncate);
  };
  bool shareable = share_prefix && n > 0 && members > 1 && p > 0;
  if (shareable && prompts)
    for (const Tensor& d : prompts->deep)
      shareable = shareable && (!d.defined() || (d.dim() == 2 && 1 + d.size(0) <= p));
  if (shareable) shareable = eot.shortest >= p;
  if (!shareable) return full();
  profile::ModuleScope scope(module_name());
  CLIPT_CHECK(eot_positions.dim() == 1 && eot_positions.size(0) == n,
              "text tower: EOT positions {} do not match rows {}", describe(eot_positions), describe(suffix));
  const DType dt = text_projection.dtype();
  const int64_t len = truncate ? eot.longest + 1 : p + suffix.size(1);
  CLIPT_CHECK(len <= p + suffix.size(1), "text tower: EOT position {} beyond sequence length {}", len - 1,
              p + suffix.size(1));
  Tensor xp = add(prefix.to(dt), positional_embedding.narrow(0, 0, p));
  Tensor xr = add(suffix.narrow(1, 0, len - p).to(dt), positional_embedding.narrow(0, p, len - p));
  tokens_encoded += g * p + n * (len - p);
  xr = transformer->forward_shared_prefix(xp, xr, /*causal=*/true, deep_prompt_hook(prompts, g, dt));
  return project_eot(xr, sub(eot_positions.to(DType::I64), double(p)));
}

Tensor TextTower::encode_ids(const Tensor& ids, bool truncate) const {
  CLIPT_CHECK(ids.dim() == 2, "text tower: token ids must be [N, L], got {}", describe(ids));
  return forward(embed(ids), argmax(ids, 1), nullptr, truncate);
}

}  // namespace clipt::clip
