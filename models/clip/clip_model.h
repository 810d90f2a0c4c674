// A CLIP model: image tower, text tower and the learned logit scale, loaded from a Hugging Face CLIP
// directory (config.json, model.safetensors, vocab.json, merges.txt) into any dtype and device.
#pragma once
#include <filesystem>
#include <memory>

#include "models/clip/towers.h"

namespace clipt::clip {

class ClipModel : public nn::Module {
 public:
  ClipModel(const ClipConfig& config, Generator& gen, DType dtype = DType::F32);

  const ClipConfig& config() const { return config_; }
  DType dtype() const { return text->text_projection.dtype(); }
  Device device() const { return text->text_projection.device(); }

  Tensor encode_image(const Tensor& images, const VisionPrompts* prompts = nullptr) const {
    return visual->forward(images, prompts);
  }
  Tensor encode_text(const Tensor& ids, bool truncate = true) const { return text->encode_ids(ids, truncate); }
  // exp(logit_scale), as a plain number (the scale used at inference).
  double logit_scale_value() const;
  // exp(logit_scale) · cos(image_i, text_j) in f32: [B, C].
  Tensor logits(const Tensor& image_features, const Tensor& text_features) const;

  std::unique_ptr<VisionTower> visual;
  std::unique_ptr<TextTower> text;
  Tensor logit_scale;  // 0-d, f32

 private:
  ClipConfig config_;
};

// Loads a CLIP directory. Q/K/V projections are fused at load; a missing, extra or mis-shaped tensor
// is an error naming the tensor, the expected and the actual shape.
std::unique_ptr<ClipModel> load_clip(const std::filesystem::path& dir, DType dtype = DType::F32,
                                     Device device = Device::cpu());
// Writes the model's weights in the HF layout (model.safetensors + config.json) into `dir`.
void save_clip(const ClipModel& model, const std::filesystem::path& dir);

}  // namespace clipt::clip
