// CoOp training step (issue 6's benchmark): ViT-B/16, 500 classes, batch 32, 16 context tokens, fp16 on
// CUDA by default (random weights: speed does not depend on their values). Prints one JSON line with
// ms/step, images/s and the engine's peak memory; `bench/coop_step_torch.py` measures the peer code
// (CoOp's PromptLearner/TextEncoder on transformers' CLIP, eager fp16) on the same machine, and
// `bench/run_coop_step.sh` runs both and prints the ratio.
//   bench_coop_step [--device cuda|cpu] [--dtype fp16|bf16|fp32] [--classes 500] [--batch 32]
//                   [--n-ctx 16] [--steps 20] [--arch b16|s16] [--shared-prefix 1|0] [--cuda-graph 0|1]
// --cuda-graph 1 runs the steps through the trainer's CUDA graph runner (methods/trainer/step_graph.h: warm-up,
// one capture, replays); the figure then says "cuda_graph": true, and gpu_check.py sets it against the eager one.
// "text_tokens_per_step" counts the token positions the text transformer runs per step (the shared prefix
// once); --shared-prefix 0 measures the full encoding of every class prompt.
#include <fmt/core.h>

#include <chrono>

#include "bench/method_step_common.h"
#include "engine/cpu/blas_kernels.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/step_graph.h"

using namespace clipt;
using namespace clipt::bench;

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);  // the GEMMs users get (engine/cpu/blas_kernels.h)
  return run_bench("bench_coop_step", argc, argv, [](const apps::Args& args) {
    const Device device = bench_device(args);
    const DType dtype = device.is_cpu() ? DType::F32 : parse_dtype(args.get_or("dtype", "fp16"));
    const int64_t classes = args.get_int("classes", 500), batch = args.get_int("batch", 32);
    const int64_t steps = args.get_int("steps", 20), n_ctx = args.get_int("n-ctx", 16);
    const std::string vocab =
        args.get_or("vocab", std::string(CLIPT_SOURCE_DIR) + "/../shared/data/bpe_simple_vocab_16e6.txt.gz");
    std::vector<std::string> names;
    for (int64_t i = 0; i < classes; ++i) names.push_back(fmt::format("object number {}", i));
    // CLIP's BPE when its vocabulary is there; otherwise a BPE learned from the prompts (the GPU machines
    // may lack shared/data): the same class prompts, a smaller embedding table, the same step otherwise.
    const bool clip_bpe = std::filesystem::exists(vocab);
    const auto tok = clip_bpe ? clip::Tokenizer::from_bpe_gz(vocab) : prompt_tokenizer(names);
    clip::ClipConfig c;  // ViT-B/16 (or a small variant for CPU runs)
    c.vision = {768, 12, 12, 3072, "quick_gelu", 1e-5};
    c.patch_size = 16;
    if (args.get_or("arch", device.is_cpu() ? "s16" : "b16") == "s16") {
      c.vision = {384, 4, 6, 1536, "quick_gelu", 1e-5};
      c.text = {256, 4, 4, 1024, "quick_gelu", 1e-5};
      c.projection_dim = 256;
    }
    c.vocab_size = tok.vocab_size();
    Generator gen(0);
    clip::ClipModel model(c, gen, dtype);
    model.to(device);
    model.requires_grad_(false);
    model.text->share_prefix = args.get_int("shared-prefix", 1) != 0;
    Config cfg = default_config();
    cfg.set("TRAINER.COOP.N_CTX", n_ctx);
    methods::MethodContext ctx{&model, &tok, &cfg, "imagenet", device, 1, ""};
    auto method = methods::create_method("CoOp");
    method->build(ctx, names);
    const auto sgd = recipe_sgd(*method);
    methods::TrainBatch b;
    b.images = randn({batch, 3, c.image_size, c.image_size}, gen, DType::F32, device);
    b.labels = randint(0, classes, {batch}, gen, device);
    const bool graph = args.get_int("cuda-graph", 0) != 0;
    CLIPT_CHECK(!graph || device.is_cuda(), "--cuda-graph 1 needs a CUDA device (--device cuda), not {}", device.str());
    std::unique_ptr<trainer::StepGraph> runner;
    if (graph) runner = std::make_unique<trainer::StepGraph>(*method, *sgd, device, /*strict=*/true, nullptr);
    auto step = [&] { return runner ? runner->step(b) : method->train_step(b, *sgd); };
    // Text tokens per step from the first (always eager) step: a replayed graph runs no host code to count.
    const int64_t tokens_before = model.text->tokens_encoded;
    step();
    const int64_t tokens_per_step = model.text->tokens_encoded - tokens_before;
    for (int w = 1; w < 3; ++w) step();  // warm-up (with a graph: two eager steps, then the capture)
    backend_for(device).synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < steps; ++s) step();
    backend_for(device).synchronize();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / double(steps);
    fmt::print(
        "{{\"name\": \"coop_step\", \"device\": \"{}\", \"dtype\": \"{}\", \"model\": \"{}\", \"classes\": {}, "
        "\"batch\": {}, \"n_ctx\": {}, \"shared_prefix\": {}, \"text_tokens_per_step\": {}, \"ms_per_step\": {:.3f}, "
        "\"images_per_s\": {:.1f}, \"tokenizer\": \"{}\", \"cuda_graph\": {}}}\n",
        device.str(), dtype_name(dtype), c.summary(), classes, batch, n_ctx, model.text->share_prefix, tokens_per_step,
        ms, 1000.0 * double(batch) / ms, clip_bpe ? "clip_bpe" : "learned_from_prompts", graph);
    return 0;
  });
}
