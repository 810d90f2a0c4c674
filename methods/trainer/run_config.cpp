#include "methods/trainer/run_config.h"

#include <cstdlib>

#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "methods/trainer/config_defaults.h"

namespace clipt::trainer {

Config build_run_config(const TrainArgs& a) {
  Config cfg = default_config();
  cfg.merge_from_list(a.protocol_defaults);
  if (!a.dataset_config_file.empty()) {
    cfg.merge_from_file(a.dataset_config_file);
    cfg.set("CLIPT.DATASET_CONFIG_FILE", std::filesystem::absolute(a.dataset_config_file).string());
  }
  if (!a.config_file.empty()) cfg.merge_from_file(a.config_file);
  if (!a.root.empty()) cfg.set("DATASET.ROOT", a.root);
  if (!a.output_dir.empty()) cfg.set("OUTPUT_DIR", a.output_dir);
  if (!a.resume.empty()) cfg.set("RESUME", a.resume);
  if (a.seed) cfg.set("SEED", *a.seed);
  if (!a.source_domains.empty()) cfg.set("DATASET.SOURCE_DOMAINS", ConfigValue::list(a.source_domains));
  if (!a.target_domains.empty()) cfg.set("DATASET.TARGET_DOMAINS", ConfigValue::list(a.target_domains));
  if (!a.transforms.empty()) cfg.set("INPUT.TRANSFORMS", ConfigValue::list(a.transforms));
  if (!a.trainer.empty()) cfg.set("TRAINER.NAME", a.trainer);
  if (!a.backbone.empty()) cfg.set("MODEL.BACKBONE.NAME", a.backbone);
  if (!a.head.empty()) cfg.set("MODEL.HEAD.NAME", a.head);
  if (!a.model.empty()) cfg.set("CLIPT.MODEL_DIR", a.model);
  if (!a.device.empty()) cfg.set("CLIPT.DEVICE", a.device);
  CLIPT_CHECK(a.opts.size() % 2 == 0, "config overrides must be KEY VALUE pairs; '{}' has no value", a.opts.back());
  cfg.merge_from_list(a.opts);
  cfg.freeze();
  return cfg;
}

Device resolve_device(const Config& cfg) {
  const std::string d = cfg.get_string("CLIPT.DEVICE");
  if (d.empty()) return cuda_available() ? Device::cuda(0) : Device::cpu();
  const Device device = parse_device(d);
  if (device.is_cuda())
    CLIPT_CHECK(device.index < cuda_device_count(), "device {} requested but {} CUDA device(s) are visible",
                device.str(), cuda_device_count());
  return device;
}

std::filesystem::path resolve_model_dir(const Config& cfg) {
  const std::string explicit_dir = cfg.get_string("CLIPT.MODEL_DIR");
  if (!explicit_dir.empty()) return explicit_dir;
  std::string name = cfg.get_string("MODEL.BACKBONE.NAME");
  for (char& c : name)
    if (c == '/') c = '-';
  const char* models = std::getenv("CLIPT_MODELS");
  CLIPT_CHECK(models && *models && !name.empty(),
              "no CLIP model: pass --model DIR (a converted CLIP directory) or set CLIPT_MODELS to the folder "
              "holding '{}'",
              name.empty() ? "<MODEL.BACKBONE.NAME>" : name);
  const auto dir = std::filesystem::path(models) / name;
  CLIPT_CHECK(std::filesystem::is_directory(dir),
              "no CLIP model for MODEL.BACKBONE.NAME '{}': {} does not exist (convert one with "
              "models/clip/convert_clip.py, or pass --model DIR)",
              cfg.get_string("MODEL.BACKBONE.NAME"), dir.string());
  return dir;
}

DType resolve_dtype(const Config& cfg, const std::string& prec_key, Device device) {
  const std::string prec = cfg.has(prec_key) ? cfg.get_string(prec_key) : "fp32";
  CLIPT_CHECK(prec == "fp16" || prec == "fp32" || prec == "amp" || prec == "bf16",
              "{} must be fp16, bf16, fp32 or amp, got '{}'", prec_key, prec);
  if (device.is_cpu()) return DType::F32;
  if (prec == "fp32") return DType::F32;
  return prec == "bf16" ? DType::BF16 : DType::F16;
}

}  // namespace clipt::trainer
