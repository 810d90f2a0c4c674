// Training-step time and memory peak of the deep vision–language prompt methods: MaPLe (one prompted
// forward/backward through both towers) and MetaPrompt (the in-domain step — prompted image tower, frozen
// image tower, prompted text tower over every class — plus the cross-class meta step: two episodes, each
// an inner step and a held-out gradient through the text tower over half of the classes). CoOp's step
// (text tower only, frozen image features) is timed alongside as the unit.
//
// The CLIP model is generated (random weights): ViT-B/16 by default on a GPU, a small one on the CPU
// (--size base|small), or a converted CLIP folder (--model DIR, e.g. the built-in world's CLIP). Memory is
// the engine's own count of bytes allocated: on the CPU the host counter of engine/core/host_memory.h, on
// a GPU the stream-ordered pool's "used" bytes. "resident_bytes" are live before the timed steps (model
// weights, prompts, optimiser state, the batch), "peak_bytes" is the high-water mark during them and
// "step_peak_bytes" their difference (what a step adds at its peak: activations kept for the backward,
// gradients). Prints one JSON line:
//   {"name": "deep_prompt_step", "device", "model", "batch", "classes",
//    "coop": {"step_ms", "peak_bytes", "resident_bytes", "step_peak_bytes"}, "maple": {...},
//    "metaprompt": {...}, "maple_over_coop", "metaprompt_over_coop", "metaprompt_over_maple"}
//
// Usage: bench_deep_prompt_step [--size base|small | --model DIR] [--device cpu|cuda] [--batch B] [--classes C]
//                               [--steps N]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/args.h"
#include "engine/core/backend.h"
#include "engine/core/host_memory.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "models/clip/bpe_trainer.h"
#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"
#if CLIPT_WITH_CUDA
#include "engine/runtime/memory.h"
#endif

using namespace clipt;

namespace {

clip::ClipConfig model_config(const std::string& size, int64_t vocab) {
  clip::ClipConfig c;
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
  } else {
    fail("--size must be base or small, got '{}'", size);
  }
  return c;
}

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

// Resets the high-water mark to the bytes live now, and returns them.
uint64_t reset_peak(Device device) {
#if CLIPT_WITH_CUDA
  if (device.is_cuda()) {
    cuda_backend().synchronize();
    cuda::reset_pool_peaks(device.index);
    return cuda::pool_stats(device.index).used_current;
  }
#endif
  (void)device;
  reset_host_memory_peak();
  return host_memory_stats().current;
}

uint64_t peak_bytes(Device device) {
#if CLIPT_WITH_CUDA
  if (device.is_cuda()) {
    cuda_backend().synchronize();
    return cuda::pool_stats(device.index).used_high;
  }
#endif
  (void)device;
  return host_memory_stats().peak;
}

struct Measure {
  double step_ms = 0;
  uint64_t resident_bytes = 0;  // live before the timed steps (model weights, method state, the batch)
  uint64_t peak_bytes = 0;      // high-water mark during them
  nlohmann::json to_json() const {
    return {{"step_ms", step_ms},
            {"peak_bytes", peak_bytes},
            {"resident_bytes", resident_bytes},
            {"step_peak_bytes", peak_bytes - resident_bytes}};
  }
};

// Median step time over `steps` timed steps after one warm-up step, and the allocation peak during them.
Measure measure(int steps, Device device, const std::function<void()>& step, const std::function<void()>& sync) {
  step();
  sync();
  const uint64_t resident = reset_peak(device);
  std::vector<double> ms;
  for (int i = 0; i < steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    sync();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], resident, peak_bytes(device)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    apps::Args args(std::vector<std::string>(argv + 1, argv + argc));
    args.check_known({"size", "model", "device", "batch", "classes", "steps"});
    const Device device = parse_device(args.get_or("device", cuda_available() ? "cuda" : "cpu"));
    const std::string size = args.get_or("size", device.is_cuda() ? "base" : "small");
    const int64_t batch_size = args.get_int("batch", device.is_cuda() ? 16 : 8);
    const int64_t classes = args.get_int("classes", 50);
    const int steps = int(args.get_int("steps", device.is_cuda() ? 20 : 3));

    const std::vector<std::string> names = class_names(classes);
    const DType dtype = device.is_cuda() ? DType::F16 : DType::F32;
    std::unique_ptr<clip::Tokenizer> tok;
    std::unique_ptr<clip::ClipModel> model;
    if (const auto dir = args.get("model")) {
      model = clip::load_clip(*dir, dtype, device);
      tok = std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(*dir));
    } else {
      std::vector<std::string> corpus;
      for (const auto& n : names) corpus.push_back("a photo of a " + n + ".");
      tok = std::make_unique<clip::Tokenizer>(clip::train_bpe(corpus, {.vocab_size = 1024}), "bench prompts");
      Generator init(1);
      model = std::make_unique<clip::ClipModel>(model_config(size, tok->vocab_size()), init, dtype);
      model->to(device);
      model->requires_grad_(false);
    }
    const clip::ClipConfig& mc = model->config();
    Generator gen(1);

    // The recipes' prompt shapes: MaPLe 2 tokens to depth 9 (of 12; all-but-a-quarter on the small model),
    // MetaPrompt 2 + 2 tokens in every layer.
    Config cfg = default_config();
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    const int64_t layers = std::min(mc.text.layers, mc.vision.layers);
    cfg.set("TRAINER.MAPLE.PROMPT_DEPTH", layers >= 12 ? int64_t(9) : std::max<int64_t>(1, layers * 3 / 4));
    cfg.set("TRAINER.META.LAYERS", layers);
    methods::MethodContext ctx{model.get(), tok.get(), &cfg, "bench", device, 1, ""};

    methods::TrainBatch batch;
    Tensor images = Tensor::empty({batch_size, 3, mc.image_size, mc.image_size}, DType::F32, Device::cpu());
    normal_(images, 0.0, 1.0, gen);
    batch.images = images.to(device);
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < batch_size; ++i) labels.push_back((i * 7) % classes);
    batch.labels = Tensor::from_vector(labels, {batch_size}).to(device);
    batch.domains = Tensor::zeros({batch_size}, DType::I64, device);

    nlohmann::json out = {{"name", "deep_prompt_step"},
                          {"device", device.str()},
                          {"model", mc.summary()},
                          {"size", args.get_or("model", size)},
                          {"batch", batch_size},
                          {"classes", classes},
                          {"steps", steps}};
    std::map<std::string, Measure> results;
    for (const std::string name : {"CoOp", "MaPLe", "MetaPrompt"}) {
      auto method = methods::create_method(name);
      method->build(ctx, names);
      std::vector<Tensor> params;
      for (auto& [n, t] : method->trainable_parameters()) params.push_back(t);
      optim::SGD sgd(params, {.lr = 0.002, .momentum = 0.9, .weight_decay = 5e-4});
      int64_t step_no = 0;
      auto step = [&] {
        batch.global_step = step_no++;
        method->train_step(batch, sgd);
      };
      auto sync = [&] { (void)params.front().to_vector<float>(); };
      const Measure m = measure(steps, device, step, sync);
      results[name] = m;
      std::string key = name;
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
      out[key] = m.to_json();
    }
    out["maple_over_coop"] = results["MaPLe"].step_ms / results["CoOp"].step_ms;
    out["metaprompt_over_coop"] = results["MetaPrompt"].step_ms / results["CoOp"].step_ms;
    out["metaprompt_over_maple"] = results["MetaPrompt"].step_ms / results["MaPLe"].step_ms;
    std::puts(out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_deep_prompt_step: %s\n", e.what());
    return 1;
  }
}
