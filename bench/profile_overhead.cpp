// What profiling costs a CoOp training step: the same step timed with the profiler off and on (a session
// recording every op, as `clipt profile` does), interleaved so that load changes hit both alike; prints
// one JSON line with the median ms/step of each and their ratio (the target: on/off < 1.05).
//   bench_profile_overhead [--device cpu|cuda] [--size small|base] [--classes 10] [--batch 4] [--rounds 5]
#include <fmt/core.h>

#include "bench/method_step_common.h"
#include "engine/cpu/blas_kernels.h"
#include "engine/profile/profiler.h"
#include "methods/trainer/config_defaults.h"

using namespace clipt;
using namespace clipt::bench;

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);  // the GEMMs users get (engine/cpu/blas_kernels.h)
  return run_bench("bench_profile_overhead", argc, argv, [](const apps::Args& args) {
    const Device device = bench_device(args);
    const std::string size = bench_size(args, device);
    const int64_t classes = args.get_int("classes", 10), batch = args.get_int("batch", 4);
    const int64_t rounds = args.get_int("rounds", 5);
    const auto names = class_names(classes);
    const auto tok = prompt_tokenizer(names);
    const clip::ClipConfig mc = model_config(size, tok.vocab_size());
    Generator gen(0);
    clip::ClipModel model(mc, gen, DType::F32);
    model.to(device);
    model.requires_grad_(false);
    Config cfg = default_config();
    methods::MethodContext ctx{&model, &tok, &cfg, "imagenet", device, 1, ""};
    auto method = methods::create_method("CoOp");
    method->build(ctx, names);
    const auto sgd = recipe_sgd(*method);
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < batch; ++i) labels.push_back(i % classes);
    const methods::TrainBatch b = random_batch(mc, labels, gen, device);
    auto timed_step = [&] {
      const auto t0 = std::chrono::steady_clock::now();
      method->train_step(b, *sgd);
      backend_for(device).synchronize();
      return ms_since(t0);
    };
    timed_step();  // warm-up
    std::vector<double> off, on;
    size_t ops = 0;
    for (int64_t r = 0; r < rounds; ++r) {
      off.push_back(timed_step());
      profile::Session s(device);
      s.begin_step();
      on.push_back(timed_step());
      s.end_step();
      ops = s.finish().ops.size();
    }
    nlohmann::json j = json_header("profile_overhead", device, mc, size, batch, classes, rounds);
    j["ops_per_step"] = ops;
    j["ms_per_step_off"] = median(off);
    j["ms_per_step_on"] = median(on);
    j["ratio_on_to_off"] = median(on) / median(off);
    fmt::print("{}\n", j.dump());
    return 0;
  });
}
