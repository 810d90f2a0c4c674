// Contrastive CLIP pretraining from scratch on the built-in world's endless (image, caption) stream:
// both towers trainable, symmetric InfoNCE with a learnable logit scale (clamped at ln 100, as CLIP),
// AdamW with linear warm-up and cosine decay per step, weight decay on matrices only. On a GPU the
// forward and backward run in bf16 on a shadow copy of the f32 master weights (no loss scaling needed).
#pragma once
#include <filesystem>
#include <functional>
#include <string>

#include "engine/core/device.h"
#include "models/clip/clip_config.h"

namespace clipt::pretrain {

struct PretrainOptions {
  clip::ClipConfig model;  // vocab_size is taken from the tokenizer
  std::filesystem::path tokenizer_dir;
  std::filesystem::path out_dir;
  int64_t steps = 2500;
  int64_t batch = 128;
  double lr = 1e-3, weight_decay = 0.05;
  int64_t warmup_steps = 100;
  int colour_group = 16;  // world::PretrainSpec::colour_group: shape-hard negatives in every batch
  uint64_t seed = 0;
  Device device = Device::cpu();
  int64_t log_every = 50;
  const std::atomic<bool>* stop = nullptr;
};

// The default small world CLIP: 64×64 images, patch 16, 4+4 layers of width 128.
clip::ClipConfig default_world_clip_config();

// Trains and writes a CLIP model directory (config.json, model.safetensors, vocab.json, merges.txt).
// `log` receives progress lines. Returns the final training loss (mean of the last logged window).
double pretrain_world_clip(const PretrainOptions& options, const std::function<void(const std::string&)>& log);

}  // namespace clipt::pretrain
