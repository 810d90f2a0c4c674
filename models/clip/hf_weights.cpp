#include "models/clip/hf_weights.h"

#include <set>

#include "engine/ops/ops.h"

namespace clipt::clip {

namespace {

enum class Kind { Copy, Transpose, Concat };

struct Rule {
  std::vector<std::string> hf;  // one name, or q/k/v for Concat
  std::string ours;
  Shape hf_shape;  // shape of each hf tensor
  Kind kind = Kind::Copy;
};

void tower_rules(std::vector<Rule>& out, const std::string& hf_prefix, const std::string& our_prefix,
                 const TowerConfig& t) {
  const int64_t w = t.width, h = t.mlp_hidden;
  for (int64_t i = 0; i < t.layers; ++i) {
    const std::string a = hf_prefix + "encoder.layers." + std::to_string(i) + ".";
    const std::string b = our_prefix + "transformer.resblocks." + std::to_string(i) + ".";
    for (const char* kind : {"weight", "bias"}) {
      const std::string k = kind;
      const Shape s = k == "weight" ? Shape{w, w} : Shape{w};
      out.push_back({{a + "self_attn.q_proj." + k, a + "self_attn.k_proj." + k, a + "self_attn.v_proj." + k},
                     b + "attn.in_proj_" + k,
                     s,
                     Kind::Concat});
      out.push_back({{a + "self_attn.out_proj." + k}, b + "attn.out_proj." + k, s});
      out.push_back({{a + "layer_norm1." + k}, b + "ln_1." + k, {w}});
      out.push_back({{a + "layer_norm2." + k}, b + "ln_2." + k, {w}});
      out.push_back({{a + "mlp.fc1." + k}, b + "mlp.c_fc." + k, k == "weight" ? Shape{h, w} : Shape{h}});
      out.push_back({{a + "mlp.fc2." + k}, b + "mlp.c_proj." + k, k == "weight" ? Shape{w, h} : Shape{w}});
    }
  }
}

std::vector<Rule> rules(const ClipConfig& c) {
  const int64_t vw = c.vision.width, tw = c.text.width, d = c.projection_dim, p = c.patch_size;
  std::vector<Rule> r = {
      {{"vision_model.embeddings.patch_embedding.weight"}, "visual.conv1.weight", {vw, 3, p, p}},
      {{"vision_model.embeddings.class_embedding"}, "visual.class_embedding", {vw}},
      {{"vision_model.embeddings.position_embedding.weight"}, "visual.positional_embedding", {1 + c.num_patches(), vw}},
      {{"vision_model.pre_layrnorm.weight"}, "visual.ln_pre.weight", {vw}},
      {{"vision_model.pre_layrnorm.bias"}, "visual.ln_pre.bias", {vw}},
      {{"vision_model.post_layernorm.weight"}, "visual.ln_post.weight", {vw}},
      {{"vision_model.post_layernorm.bias"}, "visual.ln_post.bias", {vw}},
      {{"visual_projection.weight"}, "visual.proj", {d, vw}, Kind::Transpose},
      {{"text_model.embeddings.token_embedding.weight"}, "text.token_embedding.weight", {c.vocab_size, tw}},
      {{"text_model.embeddings.position_embedding.weight"}, "text.positional_embedding", {c.context_length, tw}},
      {{"text_model.final_layer_norm.weight"}, "text.ln_final.weight", {tw}},
      {{"text_model.final_layer_norm.bias"}, "text.ln_final.bias", {tw}},
      {{"text_projection.weight"}, "text.text_projection", {d, tw}, Kind::Transpose},
      {{"logit_scale"}, "logit_scale", {}},
  };
  tower_rules(r, "vision_model.", "visual.", c.vision);
  tower_rules(r, "text_model.", "text.", c.text);
  return r;
}

// Buffers some HF checkpoints carry that hold no weights.
bool ignorable(const std::string& name) { return name.ends_with("position_ids"); }

}  // namespace

std::map<std::string, Tensor> hf_to_clipt(const io::SafetensorsFile& file, const ClipConfig& config) {
  std::map<std::string, Tensor> out;
  std::set<std::string> used;
  for (const Rule& rule : rules(config)) {
    TensorList parts;
    for (const std::string& name : rule.hf) {
      CLIPT_CHECK(file.contains(name), "{}: missing tensor '{}' (expected shape {})", file.source(), name,
                  shape_str(rule.hf_shape));
      const Shape& s = file.shape(name);
      CLIPT_CHECK(s == rule.hf_shape, "{}: tensor '{}' has shape {}, the config ({}) expects {}", file.source(), name,
                  shape_str(s), config.summary(), shape_str(rule.hf_shape));
      parts.push_back(file.get(name));
      used.insert(name);
    }
    NoGrad ng;
    switch (rule.kind) {
      case Kind::Copy: out[rule.ours] = parts[0]; break;
      case Kind::Transpose: out[rule.ours] = parts[0].t().contiguous(); break;
      case Kind::Concat: out[rule.ours] = cat(parts, 0); break;
    }
  }
  for (const std::string& name : file.names())
    CLIPT_CHECK(used.count(name) || ignorable(name), "{}: unexpected tensor '{}' with shape {} for {}", file.source(),
                name, shape_str(file.shape(name)), config.summary());
  return out;
}

io::NamedTensors clipt_to_hf(const std::map<std::string, Tensor>& state, const ClipConfig& config) {
  io::NamedTensors out;
  NoGrad ng;
  for (const Rule& rule : rules(config)) {
    auto it = state.find(rule.ours);
    CLIPT_CHECK(it != state.end(), "save_clip: model has no tensor '{}'", rule.ours);
    const Tensor& t = it->second;
    switch (rule.kind) {
      case Kind::Copy: out.push_back({rule.hf[0], t}); break;
      case Kind::Transpose: out.push_back({rule.hf[0], t.t().contiguous()}); break;
      case Kind::Concat: {
        TensorList parts = chunk(t, 3, 0);
        for (size_t k = 0; k < 3; ++k) out.push_back({rule.hf[k], parts[k].contiguous()});
        break;
      }
    }
  }
  return out;
}

}  // namespace clipt::clip
