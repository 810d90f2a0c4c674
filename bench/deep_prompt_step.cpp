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
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/method_step_common.h"
#include "engine/core/host_memory.h"
#include "engine/ops/ops.h"
#include "methods/trainer/config_defaults.h"
#if CLIPT_WITH_CUDA
#include "engine/cpu/blas_kernels.h"
#include "engine/runtime/memory.h"
#endif

using namespace clipt;
using namespace clipt::bench;

namespace {

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
    ms.push_back(ms_since(t0));
  }
  return {median(ms), resident, peak_bytes(device)};
}

}  // namespace

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);  // the GEMMs users get (engine/cpu/blas_kernels.h)
  return run_bench("bench_deep_prompt_step", argc, argv, [](const apps::Args& args) {
    args.check_known({"size", "model", "device", "batch", "classes", "steps"});
    const Device device = bench_device(args);
    const std::string size = bench_size(args, device);
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
      tok = std::make_unique<clip::Tokenizer>(prompt_tokenizer(names));
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

    std::vector<int64_t> labels;
    for (int64_t i = 0; i < batch_size; ++i) labels.push_back((i * 7) % classes);
    methods::TrainBatch batch = random_batch(mc, labels, gen, device);
    batch.domains = Tensor::zeros({batch_size}, DType::I64, device);

    nlohmann::json out =
        json_header("deep_prompt_step", device, mc, args.get_or("model", size), batch_size, classes, steps);
    std::map<std::string, Measure> results;
    for (const std::string name : {"CoOp", "MaPLe", "MetaPrompt"}) {
      auto method = methods::create_method(name);
      method->build(ctx, names);
      const auto sgd = recipe_sgd(*method);
      int64_t step_no = 0;
      auto step = [&] {
        batch.global_step = step_no++;
        method->train_step(batch, *sgd);
      };
      const Tensor first = method->trainable_parameters().front().second;
      auto sync = [&] { (void)first.to_vector<float>(); };
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
  });
}
