// Shared pieces of the DPC tests: the tiny CLIP fixture as a method context, a CoOp backbone holding a
// given tuned prompt, and a stage-1 run folder written the way the trainer writes one.
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/io/checkpoint.h"
#include "engine/ops/random.h"
#include "methods/dpc/dpc.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/trainer.h"
#include "tests/common/test_util.h"

namespace clipt::test::dpc {

struct TinyClip {
  std::unique_ptr<clip::ClipModel> clip = clip::load_clip(golden_dir() / "clip_tiny");
  clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(golden_dir() / "clip_tiny");
  methods::MethodContext context(const Config& cfg) {
    methods::MethodContext ctx;
    ctx.clip = clip.get();
    ctx.tokenizer = &tok;
    ctx.cfg = &cfg;
    ctx.device = Device::cpu();
    ctx.seed = 1;
    return ctx;
  }
};

inline const std::vector<std::string>& tiny_classes() {
  static const std::vector<std::string> c = {"red circle", "blue square", "green triangle",
                                             "small star", "dog",         "yellow moon"};
  return c;
}

// A config with the DPC keys at the paper defaults and a 4-token CoOp context.
inline Config dpc_config() {
  Config cfg = default_config();
  cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
  cfg.set("SPLE.STACK.WEIGHT", 0.2);
  cfg.set("SPLE.STACK.WEIGHT_FOR_NEW", 0.0);
  cfg.set("SPLE.INFER_TOPK", int64_t(3));
  return cfg;
}

// A random "tuned" prompt [4, W] of the fixture's text width.
inline Tensor random_prompt(uint64_t seed, double std = 0.3) {
  Generator g(seed);
  return randn({4, 32}, g) * std;
}

// `method` (CoOp, KgCoOp...) built on `classes`, its prompt slot holding `prompt`.
inline std::unique_ptr<methods::Method> backbone_with(const std::string& method, const methods::MethodContext& ctx,
                                                      const std::vector<std::string>& classes, const Tensor& prompt) {
  auto m = methods::create_method(method);
  m->build(ctx, classes);
  NoGrad ng;
  m->prompt_slots().at(0).second->copy_(prompt);
  return m;
}

// A finished stage-1 run of `method` at `dir` (checkpoints/epoch-1.safetensors) whose prompt is `prompt`.
inline void write_stage1_run(const std::filesystem::path& dir, const std::string& method, const Config& cfg,
                             const std::vector<std::string>& classes, const Tensor& prompt, uint64_t seed = 1) {
  nlohmann::json meta = {{"method", method},      {"dataset", cfg.get_string("DATASET.NAME")},
                         {"classnames", classes}, {"epochs_done", 1},
                         {"iteration", 0},        {"seed", seed},
                         {"config", cfg.dump()}};
  std::filesystem::create_directories(trainer::Trainer::checkpoint_path(dir, 1).parent_path());
  io::save_checkpoint(trainer::Trainer::checkpoint_path(dir, 1), {{"method.prompt_learner.ctx", prompt}}, meta);
}

}  // namespace clipt::test::dpc
