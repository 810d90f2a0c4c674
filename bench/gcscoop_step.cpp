// GCSCoOp's training step relative to CoOp's on the same batch. A GCSAM step runs the prompt-dependent
// forward/backward (the text tower over every class prompt) twice, so the ideal ratio is about 2×; the
// frozen image tower runs once per step (Method::precompute), which brings it below 2× when image
// features are a large part of a CoOp step. Also timed: a naive two-pass step that recomputes the image
// features in the second pass, to show what the cache saves.
//
// The CLIP model is generated (random weights): ViT-B/16-sized by default on a GPU, a small one on the
// CPU (--size base|small|world). The tokenizer is learned from the class prompts. Prints one JSON line:
//   {"name": "gcscoop_step", "coop_step_ms", "gcscoop_step_ms", "ratio", "ideal": 2, "naive_two_pass_ms",
//    "naive_ratio", ...}
//
// Usage: bench_gcscoop_step [--size base|small|world] [--device cpu|cuda] [--batch B] [--classes C] [--steps N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/args.h"
#include "engine/core/backend.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/common/gradient_shaping.h"
#include "methods/method.h"
#include "methods/pretrain/clip_pretrain.h"
#include "methods/trainer/config_defaults.h"
#include "models/clip/bpe_trainer.h"
#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"

using namespace clipt;

namespace {

clip::ClipConfig model_config(const std::string& size, int64_t vocab) {
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
  } else if (size == "world") {  // the small CLIP the demo pretrains on the built-in world
    clip::ClipConfig w = pretrain::default_world_clip_config();
    w.vocab_size = vocab;
    return w;
  } else {
    fail("--size must be base, small or world, got '{}'", size);
  }
  return c;
}

// Made-up class names of two or three syllables (so prompts have realistic token counts).
std::vector<std::string> class_names(int64_t n) {
  const char* syllables[] = {"ka", "lo", "mi", "ter", "su", "ban", "vor", "ne", "pri", "dal", "go", "rin"};
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) {
    std::string name = std::string(syllables[i % 12]) + syllables[(i / 12 + 3) % 12];
    if (i >= 144) name += std::string(" ") + syllables[(i / 144) % 12];
    out.push_back(name);
  }
  return out;
}

// Median milliseconds per step of each function, the functions interleaved step by step so that a
// change in machine load affects them alike.
std::vector<double> time_steps(int steps, const std::vector<std::function<void()>>& fns) {
  std::vector<std::vector<double>> ms(fns.size());
  for (int i = 0; i < steps; ++i)
    for (size_t f = 0; f < fns.size(); ++f) {
      const auto t0 = std::chrono::steady_clock::now();
      fns[f]();
      ms[f].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  std::vector<double> medians;
  for (auto& m : ms) {
    std::sort(m.begin(), m.end());
    medians.push_back(m[m.size() / 2]);
  }
  return medians;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    apps::Args args(std::vector<std::string>(argv + 1, argv + argc));
    args.check_known({"size", "device", "batch", "classes", "steps"});
    const Device device = parse_device(args.get_or("device", cuda_available() ? "cuda" : "cpu"));
    const std::string size = args.get_or("size", device.is_cuda() ? "base" : "small");
    const int64_t batch_size = args.get_int("batch", device.is_cuda() ? 128 : 32);
    const int64_t classes = args.get_int("classes", 50);
    const int steps = int(args.get_int("steps", device.is_cuda() ? 20 : 5));

    const std::vector<std::string> names = class_names(classes);
    std::vector<std::string> corpus;
    for (const auto& n : names) corpus.push_back("a photo of a " + n + ".");
    const clip::Tokenizer tok(clip::train_bpe(corpus, {.vocab_size = 1024}), "bench prompts");
    const clip::ClipConfig mc = model_config(size, tok.vocab_size());
    Generator gen(1);
    clip::ClipModel model(mc, gen, device.is_cuda() ? DType::F16 : DType::F32);
    model.to(device);

    Config cfg = default_config();
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    cfg.set("OPTIM.NAME", "gcsam");
    methods::MethodContext ctx{&model, &tok, &cfg, "bench", device, 1, ""};

    methods::TrainBatch batch;
    Tensor images = Tensor::empty({batch_size, 3, mc.image_size, mc.image_size}, DType::F32, Device::cpu());
    normal_(images, 0.0, 1.0, gen);
    batch.images = images.to(device);
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < batch_size; ++i) labels.push_back(i % classes);
    batch.labels = Tensor::from_vector(labels, {batch_size}).to(device);

    auto make = [&](const std::string& name) {
      auto m = methods::create_method(name);
      m->build(ctx, names);
      return m;
    };
    auto coop = make("CoOp");
    auto gcscoop = make("GCSCoOp");
    auto naive = make("CoOp");
    auto sgd = [&](methods::Method& m) {
      std::vector<Tensor> params;
      for (auto& [n, t] : m.trainable_parameters()) params.push_back(t);
      return std::make_unique<optim::SGD>(params, optim::SgdOptions{.lr = 0.002, .momentum = 0.9, .weight_decay = 5e-4});
    };
    auto opt_coop = sgd(*coop), opt_gcs = sgd(*gcscoop), opt_naive = sgd(*naive);
    const methods::SharpnessOptions naive_options = methods::sharpness_options(cfg, methods::SharpnessRule::Gcsam);

    auto coop_step = [&] { coop->train_step(batch, *opt_coop); };
    auto gcs_step = [&] { gcscoop->train_step(batch, *opt_gcs); };
    auto naive_step = [&] {  // no precompute: CoOp::loss runs the image tower in both passes
      methods::sharpness_aware_step([&](const methods::TrainBatch& b) { return naive->loss(b); }, batch, *opt_naive,
                                    naive_options);
    };
    coop_step();  // warm-up (allocations, caches)
    gcs_step();
    naive_step();
    const std::vector<double> ms = time_steps(steps, {coop_step, gcs_step, naive_step});
    const double coop_ms = ms[0], gcs_ms = ms[1], naive_ms = ms[2];
    (void)gcscoop->trainable_parameters().at(0).second.to_vector<float>();  // device sync

    nlohmann::json j = {{"name", "gcscoop_step"},
                        {"device", device.str()},
                        {"model", mc.summary()},
                        {"size", size},
                        {"batch", batch_size},
                        {"classes", classes},
                        {"steps", steps},
                        {"coop_step_ms", coop_ms},
                        {"gcscoop_step_ms", gcs_ms},
                        {"ratio", gcs_ms / coop_ms},
                        {"ideal", 2.0},
                        {"naive_two_pass_ms", naive_ms},
                        {"naive_ratio", naive_ms / coop_ms}};
    std::puts(j.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gcscoop_step: %s\n", e.what());
    return 1;
  }
}
