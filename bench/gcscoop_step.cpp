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
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/method_step_common.h"
#include "engine/cpu/blas_kernels.h"
#include "engine/ops/ops.h"
#include "methods/common/gradient_shaping.h"
#include "methods/trainer/config_defaults.h"

using namespace clipt;
using namespace clipt::bench;

namespace {

// Median milliseconds per step of each function, the functions interleaved step by step so that a
// change in machine load affects them alike.
std::vector<double> time_steps(int steps, const std::vector<std::function<void()>>& fns) {
  std::vector<std::vector<double>> ms(fns.size());
  for (int i = 0; i < steps; ++i)
    for (size_t f = 0; f < fns.size(); ++f) {
      const auto t0 = std::chrono::steady_clock::now();
      fns[f]();
      ms[f].push_back(ms_since(t0));
    }
  std::vector<double> medians;
  for (auto& m : ms) medians.push_back(median(m));
  return medians;
}

}  // namespace

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);  // the GEMMs users get (engine/cpu/blas_kernels.h)
  return run_bench("bench_gcscoop_step", argc, argv, [](const apps::Args& args) {
    args.check_known({"size", "device", "batch", "classes", "steps"});
    const Device device = bench_device(args);
    const std::string size = bench_size(args, device);
    const int64_t batch_size = args.get_int("batch", device.is_cuda() ? 128 : 32);
    const int64_t classes = args.get_int("classes", 50);
    const int steps = int(args.get_int("steps", device.is_cuda() ? 20 : 5));

    const std::vector<std::string> names = class_names(classes);
    const clip::Tokenizer tok = prompt_tokenizer(names);
    const clip::ClipConfig mc = model_config(size, tok.vocab_size(), WorldSize::Accepted);
    Generator gen(1);
    clip::ClipModel model(mc, gen, device.is_cuda() ? DType::F16 : DType::F32);
    model.to(device);

    Config cfg = default_config();
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    cfg.set("OPTIM.NAME", "gcsam");
    methods::MethodContext ctx{&model, &tok, &cfg, "bench", device, 1, ""};

    std::vector<int64_t> labels;
    for (int64_t i = 0; i < batch_size; ++i) labels.push_back(i % classes);
    const methods::TrainBatch batch = random_batch(mc, labels, gen, device);

    auto make = [&](const std::string& name) {
      auto m = methods::create_method(name);
      m->build(ctx, names);
      return m;
    };
    auto coop = make("CoOp");
    auto gcscoop = make("GCSCoOp");
    auto naive = make("CoOp");
    auto opt_coop = recipe_sgd(*coop), opt_gcs = recipe_sgd(*gcscoop), opt_naive = recipe_sgd(*naive);
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

    nlohmann::json j = json_header("gcscoop_step", device, mc, size, batch_size, classes, steps);
    j.update({{"coop_step_ms", coop_ms},
              {"gcscoop_step_ms", gcs_ms},
              {"ratio", gcs_ms / coop_ms},
              {"ideal", 2.0},
              {"naive_two_pass_ms", naive_ms},
              {"naive_ratio", naive_ms / coop_ms}});
    std::puts(j.dump().c_str());
    return 0;
  });
}
