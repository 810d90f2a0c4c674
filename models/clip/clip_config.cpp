#include "models/clip/clip_config.h"

#include <fstream>

#include "engine/core/error.h"

namespace clipt::clip {

namespace {

template <typename T> T get_or(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("{}: key '{}' has value {} of the wrong type", where, key, j[key].dump());
  }
}

TowerConfig parse_tower(const nlohmann::json& j, TowerConfig d, const std::string& where) {
  TowerConfig t;
  t.width = get_or<int64_t>(j, "hidden_size", d.width, where);
  t.layers = get_or<int64_t>(j, "num_hidden_layers", d.layers, where);
  t.heads = get_or<int64_t>(j, "num_attention_heads", d.heads, where);
  t.mlp_hidden = get_or<int64_t>(j, "intermediate_size", d.mlp_hidden, where);
  t.activation = get_or<std::string>(j, "hidden_act", d.activation, where);
  t.layer_norm_eps = get_or<double>(j, "layer_norm_eps", d.layer_norm_eps, where);
  CLIPT_CHECK(t.width > 0 && t.layers > 0 && t.heads > 0 && t.mlp_hidden > 0,
              "{}: sizes must be positive (hidden_size {}, num_hidden_layers {}, num_attention_heads {}, "
              "intermediate_size {})",
              where, t.width, t.layers, t.heads, t.mlp_hidden);
  CLIPT_CHECK(t.width % t.heads == 0, "{}: hidden_size {} is not divisible by num_attention_heads {}", where, t.width,
              t.heads);
  return t;
}

nlohmann::json tower_to_json(const TowerConfig& t) {
  return {{"hidden_size", t.width},         {"num_hidden_layers", t.layers},
          {"num_attention_heads", t.heads}, {"intermediate_size", t.mlp_hidden},
          {"hidden_act", t.activation},     {"layer_norm_eps", t.layer_norm_eps}};
}

}  // namespace

std::string ClipConfig::summary() const {
  const char* size = vision.width >= 1024 ? "L" : vision.width >= 768 ? "B" : "S";
  return fmt::format("ViT-{}/{} @{} (text {}x{}, vision {}x{}, embed {})", size, patch_size, image_size, text.layers,
                     text.width, vision.layers, vision.width, projection_dim);
}

ClipConfig parse_clip_config(const nlohmann::json& j, const std::string& source) {
  CLIPT_CHECK(j.is_object(), "{}: expected a JSON object", source);
  ClipConfig c;
  const nlohmann::json empty = nlohmann::json::object();
  const auto& tj = j.contains("text_config") && j["text_config"].is_object() ? j["text_config"] : empty;
  const auto& vj = j.contains("vision_config") && j["vision_config"].is_object() ? j["vision_config"] : empty;
  c.text = parse_tower(tj, c.text, source + " (text_config)");
  c.vocab_size = get_or<int64_t>(tj, "vocab_size", c.vocab_size, source);
  c.context_length = get_or<int64_t>(tj, "max_position_embeddings", c.context_length, source);
  c.vision = parse_tower(vj, c.vision, source + " (vision_config)");
  c.image_size = get_or<int64_t>(vj, "image_size", c.image_size, source);
  c.patch_size = get_or<int64_t>(vj, "patch_size", c.patch_size, source);
  c.projection_dim = get_or<int64_t>(j, "projection_dim", c.projection_dim, source);
  c.logit_scale_init = get_or<double>(j, "logit_scale_init_value", c.logit_scale_init, source);
  CLIPT_CHECK(c.patch_size > 0 && c.image_size % c.patch_size == 0,
              "{}: image_size {} is not a multiple of patch_size {}", source, c.image_size, c.patch_size);
  CLIPT_CHECK(c.vocab_size > 2 && c.context_length > 1 && c.projection_dim > 0,
              "{}: invalid vocab_size {}, max_position_embeddings {} or projection_dim {}", source, c.vocab_size,
              c.context_length, c.projection_dim);
  const int64_t channels = get_or<int64_t>(vj, "num_channels", 3, source);
  CLIPT_CHECK(channels == 3, "{}: num_channels {} is not supported (RGB only)", source, channels);
  return c;
}

ClipConfig load_clip_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  CLIPT_CHECK(in.good(), "cannot open CLIP config {}", path.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) { fail("{}: not valid JSON ({})", path.string(), e.what()); }
  return parse_clip_config(j, path.string());
}

nlohmann::json clip_config_to_json(const ClipConfig& c, const std::string& torch_dtype) {
  nlohmann::json text = tower_to_json(c.text), vision = tower_to_json(c.vision);
  text["vocab_size"] = c.vocab_size;
  text["max_position_embeddings"] = c.context_length;
  text["projection_dim"] = c.projection_dim;
  vision["image_size"] = c.image_size;
  vision["patch_size"] = c.patch_size;
  vision["num_channels"] = 3;
  vision["projection_dim"] = c.projection_dim;
  return {{"architectures", {"CLIPModel"}},
          {"model_type", "clip"},
          {"projection_dim", c.projection_dim},
          {"logit_scale_init_value", c.logit_scale_init},
          {"torch_dtype", torch_dtype},
          {"text_config", text},
          {"vision_config", vision}};
}

ClipConfig clip_preset(const std::string& name) {
  ClipConfig c;  // defaults: ViT-B/32 (text 12×512, vision 12×768, patch 32, 224 pixels, embed 512)
  if (name == "vit_b32") return c;
  if (name == "vit_b16") {
    c.patch_size = 16;
    return c;
  }
  if (name == "vit_l14") {
    c.text = {768, 12, 12, 3072, "quick_gelu", 1e-5};
    c.vision = {1024, 24, 16, 4096, "quick_gelu", 1e-5};
    c.patch_size = 14;
    c.projection_dim = 768;
    return c;
  }
  fail("unknown CLIP architecture '{}' (known: vit_b16, vit_b32, vit_l14)", name);
}

}  // namespace clipt::clip
