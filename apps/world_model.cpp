#include "apps/world_model.h"

#include <fmt/core.h>

#include <cstdio>

#include "methods/pretrain/clip_pretrain.h"

namespace clipt::apps {

std::filesystem::path world_model(const std::filesystem::path& world_root, const std::filesystem::path& tokenizer_dir,
                                  Device device, const std::atomic<bool>* stop) {
  const auto committed = std::filesystem::path(CLIPT_SOURCE_DIR) / "assets" / "world-clip";
  if (std::filesystem::exists(committed / "model.safetensors")) return committed;
  const auto cached = world_root / "clip";
  if (std::filesystem::exists(cached / "model.safetensors")) return cached;
  fmt::print("no pretrained world CLIP found: pretraining one now (cached in {})\n", cached.string());
  pretrain::PretrainOptions o;
  o.model = pretrain::default_world_clip_config();
  o.tokenizer_dir = tokenizer_dir;
  o.out_dir = cached;
  o.device = device;
  o.stop = stop;
  pretrain::pretrain_world_clip(o, [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  });
  return cached;
}

}  // namespace clipt::apps
