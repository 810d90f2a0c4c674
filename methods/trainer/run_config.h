// Dassl's setup_cfg for clipt: defaults, then the dataset config file, then the method config file,
// then the command-line arguments of the peers' train.py, then trailing KEY VALUE overrides — so the
// peers' scripts work with `python train.py` replaced by `clipt train`. A protocol may put its own
// defaults (b2n: DATASET.NUM_SHOTS 16) between Dassl's defaults and the files, so files and overrides
// still win.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/core/device.h"
#include "engine/core/dtype.h"

namespace clipt::trainer {

struct TrainArgs {
  std::string root, trainer, config_file, dataset_config_file, output_dir, backbone, head;
  std::optional<int64_t> seed;
  std::string resume;  // --resume DIR (RESUME): a run folder to continue from when OUTPUT_DIR has no checkpoint
  std::vector<std::string> source_domains, target_domains, transforms;
  std::string model;              // --model: a converted CLIP directory (CLIPT.MODEL_DIR)
  std::string device;             // --device (CLIPT.DEVICE)
  std::vector<std::string> opts;  // trailing KEY VALUE pairs
  // KEY VALUE pairs merged right after Dassl's defaults, before the config files: a protocol's defaults.
  std::vector<std::string> protocol_defaults;
};

Config build_run_config(const TrainArgs& args);

// CLIPT.DEVICE: "" → cuda:0 when a GPU is present, else cpu.
Device resolve_device(const Config& cfg);
// CLIPT.MODEL_DIR, else $CLIPT_MODELS/<MODEL.BACKBONE.NAME with '/' → '-'> (ViT-B/16 → ViT-B-16).
std::filesystem::path resolve_model_dir(const Config& cfg);
// The compute precision from the method's PREC key: fp16/amp → f16 and bf16 → bf16 on CUDA; on the
// CPU (the reference backend) everything computes in f32.
DType resolve_dtype(const Config& cfg, const std::string& prec_key, Device device);

}  // namespace clipt::trainer
