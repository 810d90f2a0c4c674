// What the method-step benchmarks (coop_step, deep_prompt_step, dpc_step, gcscoop_step) share: the
// generated CLIP sizes, made-up class names and a tokenizer learned from their prompts, the recipes' SGD,
// a random batch, the device/size defaults, step timing, the common fields of the JSON line, and the
// error handling of main. Header-only: every bench/*.cpp is its own executable.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/args.h"
#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "engine/ops/random.h"
#include "methods/method.h"
#include "methods/pretrain/clip_pretrain.h"
#include "models/clip/clip_model.h"
#include "models/clip/synthetic_prompts.h"
#include "models/clip/tokenizer.h"

namespace clipt::bench {

// Which --size names a benchmark accepts besides base and small.
enum class WorldSize { Rejected, Accepted };

// A generated CLIP: "base" = ViT-B/16, "small" = a quarter of B/16 in width and depth with 96-pixel
// images, "world" (when accepted) = the small CLIP the demo pretrains on the built-in world.
inline clip::ClipConfig model_config(const std::string& size, int64_t vocab, WorldSize world = WorldSize::Rejected) {
  clip::ClipConfig c;  // defaults: ViT-B/32 text and vision widths
  c.vocab_size = vocab;
  if (size == "base") {  // ViT-B/16
    c.text = {512, 12, 8, 2048, "quick_gelu", 1e-5};
    c.vision = {768, 12, 12, 3072, "quick_gelu", 1e-5};
    c.image_size = 224;
    c.patch_size = 16;
    c.projection_dim = 512;
  } else if (size == "small") {  // a quarter of B/16 in width and depth, 96-pixel images
    c.text = {256, 4, 4, 1024, "quick_gelu", 1e-5};
    c.vision = {384, 4, 6, 1536, "quick_gelu", 1e-5};
    c.image_size = 96;
    c.patch_size = 16;
    c.projection_dim = 256;
  } else if (size == "world" && world == WorldSize::Accepted) {
    clip::ClipConfig w = pretrain::default_world_clip_config();
    w.vocab_size = vocab;
    return w;
  } else if (world == WorldSize::Accepted) {
    fail("--size must be base, small or world, got '{}'", size);
  } else {
    fail("--size must be base or small, got '{}'", size);
  }
  return c;
}

// Made-up class names and a tokenizer learned from their prompts (models/clip/synthetic_prompts.h).
inline std::vector<std::string> class_names(int64_t n) { return clip::synthetic_class_names(n); }
inline clip::Tokenizer prompt_tokenizer(const std::vector<std::string>& names) { return clip::prompt_tokenizer(names); }

// The recipes' optimiser (CoOp's configs) over a method's trainable parameters.
inline std::unique_ptr<optim::SGD> recipe_sgd(methods::Method& m) {
  std::vector<Tensor> params;
  for (auto& [n, t] : m.trainable_parameters()) params.push_back(t);
  return std::make_unique<optim::SGD>(params, optim::SgdOptions{.lr = 0.002, .momentum = 0.9, .weight_decay = 5e-4});
}

// Standard-normal images of the model's resolution (drawn on the CPU, so the batch is the same on every
// device) with the given labels.
inline methods::TrainBatch random_batch(const clip::ClipConfig& mc, const std::vector<int64_t>& labels, Generator& gen,
                                        Device device) {
  const int64_t n = int64_t(labels.size());
  methods::TrainBatch batch;
  Tensor images = Tensor::empty({n, 3, mc.image_size, mc.image_size}, DType::F32, Device::cpu());
  normal_(images, 0.0, 1.0, gen);
  batch.images = images.to(device);
  batch.labels = Tensor::from_vector(labels, {n}).to(device);
  return batch;
}

// --device, defaulting to cuda when a device is present.
inline Device bench_device(const apps::Args& args) {
  return parse_device(args.get_or("device", cuda_available() ? "cuda" : "cpu"));
}

// --size, defaulting to base on a GPU and small on the CPU.
inline std::string bench_size(const apps::Args& args, Device device) {
  return args.get_or("size", device.is_cuda() ? "base" : "small");
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The fields every method-step JSON line starts with.
inline nlohmann::json json_header(const std::string& name, Device device, const clip::ClipConfig& mc,
                                  const std::string& size, int64_t batch, int64_t classes, int64_t steps) {
  return {{"name", name},   {"device", device.str()}, {"model", mc.summary()}, {"size", size},
          {"batch", batch}, {"classes", classes},     {"steps", steps}};
}

// Runs a benchmark's body; an error becomes one line "<program>: <message>" on stderr and exit code 1.
template <typename Body> int run_bench(const char* program, int argc, char** argv, Body body) {
  try {
    return body(apps::Args(std::vector<std::string>(argv + 1, argv + argc)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace clipt::bench
