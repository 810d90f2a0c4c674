#include "models/clip/clip_model.h"

#include <cmath>

#include "engine/ops/ops.h"

namespace clipt::clip {

ClipModel::ClipModel(const ClipConfig& config, Generator& gen, DType dtype) : config_(config) {
  register_module("visual", &visual, std::make_unique<VisionTower>(config, gen, dtype));
  register_module("text", &text, std::make_unique<TextTower>(config, gen, dtype));
  register_parameter("logit_scale", &logit_scale, Tensor::scalar(config.logit_scale_init, DType::F32));
}

double ClipModel::logit_scale_value() const { return std::exp(logit_scale.item()); }

Tensor ClipModel::logits(const Tensor& image_features, const Tensor& text_features) const {
  Tensor img = l2_normalize(image_features.to(DType::F32), -1);
  Tensor txt = l2_normalize(text_features.to(DType::F32), -1);
  return mul(matmul(img, txt.t()), exp(logit_scale.to(DType::F32)));
}

}  // namespace clipt::clip

#include <fstream>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "models/clip/hf_weights.h"

namespace clipt::clip {

std::unique_ptr<ClipModel> load_clip(const std::filesystem::path& dir, DType dtype, Device device) {
  CLIPT_CHECK(std::filesystem::is_directory(dir), "CLIP model directory {} does not exist", dir.string());
  const ClipConfig config = load_clip_config(dir / "config.json");
  const auto weights_path = dir / "model.safetensors";
  CLIPT_CHECK(std::filesystem::exists(weights_path), "CLIP model directory {} has no model.safetensors", dir.string());
  io::SafetensorsFile file(weights_path);
  std::map<std::string, Tensor> state = hf_to_clipt(file, config);
  // Build on the CPU in the target dtype (initialisation is overwritten), then load and move.
  Generator gen(0);
  auto model = std::make_unique<ClipModel>(config, gen, dtype);
  model->load_state_dict(state);
  model->to(device);
  model->requires_grad_(false);  // CLIP is frozen unless a method (or pretraining) says otherwise
  return model;
}

void save_clip(const ClipModel& model, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : model.state_dict()) state[name] = t;
  io::save_safetensors(dir / "model.safetensors", clipt_to_hf(state, model.config()), {{"format", "pt"}});
  const std::string dtype = model.dtype() == DType::F16    ? "float16"
                            : model.dtype() == DType::BF16 ? "bfloat16"
                                                           : "float32";
  io::write_file_atomic(dir / "config.json", clip_config_to_json(model.config(), dtype).dump(2) + "\n");
}

}  // namespace clipt::clip
