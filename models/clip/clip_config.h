// CLIP's architecture, read from (and written to) the Hugging Face `config.json` of a CLIP model
// directory. Any widths/layers/heads/patch size/resolution load, so ViT-B/32, B/16, L/14 and L/14@336
// all come from the same code.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace clipt::clip {

struct TowerConfig {
  int64_t width = 512;                    // hidden_size
  int64_t layers = 12;                    // num_hidden_layers
  int64_t heads = 8;                      // num_attention_heads
  int64_t mlp_hidden = 2048;              // intermediate_size
  std::string activation = "quick_gelu";  // hidden_act
  double layer_norm_eps = 1e-5;
};

struct ClipConfig {
  TowerConfig text;
  int64_t vocab_size = 49408;
  int64_t context_length = 77;  // max_position_embeddings
  TowerConfig vision{768, 12, 12, 3072, "quick_gelu", 1e-5};
  int64_t image_size = 224;
  int64_t patch_size = 32;
  int64_t projection_dim = 512;
  double logit_scale_init = 2.6592;  // ln(1/0.07)

  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
  // A short description such as "ViT-B/16 @224 (text 12×512, vision 12×768, embed 512)".
  std::string summary() const;
};

// Parses an HF CLIPConfig document; missing keys take HF's defaults. Inconsistent values (width not
// divisible by heads, resolution not a multiple of the patch) are errors naming `source` and the key.
ClipConfig parse_clip_config(const nlohmann::json& j, const std::string& source);
ClipConfig load_clip_config(const std::filesystem::path& config_json);
// The shapes of OpenAI's released CLIPs by name: "vit_b16", "vit_b32", "vit_l14" (for random-weight runs
// such as `clipt profile --arch`); an unknown name is an error listing the known ones.
ClipConfig clip_preset(const std::string& name);
nlohmann::json clip_config_to_json(const ClipConfig& c, const std::string& torch_dtype = "float32");

}  // namespace clipt::clip
