// DPC's stage-2 step (specs/dpc.md §3, §8): per batch of B anchors, the frozen stage-1 query forward,
// hard-negative mining, one negative image per mined class decoded and augmented by the loader's
// workers, the image tower over the built batch (N ≤ B·K rows; the anchors' features are reused for
// CoOp), the text tower forward and backward over the batch's classes, and the SGD step. Timed whole
// (`step_ms`, with the negatives' loading on the critical path) and without the loading (`compute_ms`,
// negatives already in memory); CoOp's own step on the same anchors over all classes for reference.
//
// The CLIP model is generated (random weights): ViT-B/16-sized by default on a GPU, a small one on the
// CPU (--size base|small); the images are random PNGs written to a temporary folder at the model's
// resolution (16 per class). Prints one JSON line:
//   {"name": "dpc_step", "step_ms", "step_cpu_ms", "compute_ms", "negatives_load_ms", "built_batch",
//    "images_per_s", "coop_step_ms", ...}
// (step_cpu_ms: the process's CPU time over all threads, to read wall times taken on a busy machine.)
//
// Usage: bench_dpc_step [--size base|small] [--device cpu|cuda] [--batch B] [--top-k K] [--classes C]
//                       [--steps N] [--workers W]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/method_step_common.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/sample_rng.h"
#include "engine/cpu/blas_kernels.h"
#include "engine/ops/ops.h"
#include "methods/dpc/dpc.h"
#include "methods/trainer/config_defaults.h"

using namespace clipt;
using namespace clipt::bench;

namespace {

// 16 random images per class, as a few-shot training set.
std::vector<data::Sample> write_images(const std::filesystem::path& dir, const std::vector<std::string>& names,
                                       int64_t size) {
  std::vector<data::Sample> samples;
  Generator g(3);
  for (size_t c = 0; c < names.size(); ++c)
    for (int k = 0; k < 16; ++k) {
      data::Image img{int(size), int(size)};
      for (auto& v : img.pixels) v = uint8_t(g.next_u32() & 0xFF);
      const auto path = dir / fmt::format("c{}_{}.png", c, k);
      data::write_png(path, img);
      samples.push_back({path.string(), int64_t(c), names[c], 0});
    }
  return samples;
}

// Process CPU time (all threads), so a figure taken on a shared machine can be read next to wall time.
double cpu_ms() { return 1000.0 * double(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);  // the GEMMs users get (engine/cpu/blas_kernels.h)
  return run_bench("bench_dpc_step", argc, argv, [](const apps::Args& args) {
    args.check_known({"size", "device", "batch", "top-k", "classes", "steps", "workers"});
    const Device device = bench_device(args);
    const std::string size = bench_size(args, device);
    const int64_t batch_size = args.get_int("batch", 4);
    const int64_t top_k = args.get_int("top-k", 8);
    const int64_t classes = args.get_int("classes", 50);
    const int steps = int(args.get_int("steps", device.is_cuda() ? 30 : 8));
    const int workers = int(args.get_int("workers", std::max(1u, std::thread::hardware_concurrency())));

    const std::vector<std::string> names = class_names(classes);
    const clip::Tokenizer tok = prompt_tokenizer(names);
    const clip::ClipConfig mc = model_config(size, tok.vocab_size());
    Generator gen(1);
    clip::ClipModel model(mc, gen, device.is_cuda() ? DType::F16 : DType::F32);
    model.to(device);

    const auto dir = std::filesystem::temp_directory_path() / fmt::format("clipt_bench_dpc_{}", ::getpid());
    std::filesystem::create_directories(dir);
    const auto samples = write_images(dir, names, mc.image_size);
    data::TransformConfig tc;
    tc.height = tc.width = int(mc.image_size);
    tc.transforms = {"random_resized_crop", "random_flip", "normalize"};
    data::LoaderOptions lo;
    lo.batch_size = batch_size;
    lo.shuffle = true;
    lo.drop_last = true;
    lo.num_workers = workers;
    lo.seed = 1;
    data::DataLoader loader(samples, data::ImageTransform::train(tc), lo);

    Config cfg = default_config();
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    cfg.set("SPLE.STACK.WEIGHT", 0.2);
    cfg.set("SPLE.STACK.WEIGHT_FOR_NEW", 0.0);
    cfg.set("SPLE.INFER_TOPK", top_k);
    methods::MethodContext ctx;
    ctx.clip = &model;
    ctx.tokenizer = &tok;
    ctx.cfg = &cfg;
    ctx.dataset = "bench";
    ctx.device = device;
    auto backbone = methods::create_method("CoOp");
    backbone->build(ctx, names);
    auto coop = methods::create_method("CoOp");
    coop->build(ctx, names);
    methods::dpc::Dpc dpc;
    dpc.build_over(ctx, names, std::move(backbone));
    dpc.on_epoch_begin(0, &loader);
    auto opt_dpc = recipe_sgd(dpc), opt_coop = recipe_sgd(*coop);

    loader.start_epoch(0);
    std::vector<double> step_ms, step_cpu_ms, compute_ms, coop_ms, built;
    int64_t global_step = 0;
    for (int i = 0; i < steps + 1; ++i) {  // the first step warms up (allocations, caches)
      data::Batch b;
      if (!loader.next(b)) {
        loader.start_epoch(global_step);
        loader.next(b);
      }
      methods::TrainBatch tb;
      tb.images = b.images.to(device);
      tb.labels = b.labels.to(device);
      tb.global_step = global_step++;
      // Whole step: mining, negatives through the loader, loss, backward, SGD.
      auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu_ms();
      const methods::StepResult r = dpc.train_step(tb, *opt_dpc);
      (void)dpc.parameters()[0].to_vector<float>();  // device sync
      const double whole = ms_since(t0), whole_cpu = cpu_ms() - c0;
      // The same step's compute alone: mining + the loss on a built batch whose negatives are in memory.
      const auto labels = b.labels.to_vector<int64_t>();
      Generator g = data::stream_generator(1, uint64_t(tb.global_step), 99);
      const auto mined = dpc.mine(tb.images, labels, methods::dpc::generator_draw(g, classes));
      int64_t n_neg = 0;
      for (const auto& n : mined.selection.negatives) n_neg += int64_t(n.size());
      Tensor neg = n_neg ? randn({n_neg, 3, mc.image_size, mc.image_size}, g).to(device) : Tensor();
      const auto batch = methods::dpc::assemble_batch(tb.images, labels, mined.selection.negatives, neg);
      t0 = std::chrono::steady_clock::now();
      const auto again = dpc.mine(tb.images, labels, methods::dpc::generator_draw(g, classes));
      opt_dpc->zero_grad();
      methods::LossResult lr = dpc.contrastive_loss(batch, again.anchor_features);
      lr.loss.backward();
      opt_dpc->step();
      (void)dpc.parameters()[0].to_vector<float>();
      const double compute = ms_since(t0);
      t0 = std::chrono::steady_clock::now();
      coop->train_step(tb, *opt_coop);
      (void)coop->trainable_parameters()[0].second.to_vector<float>();
      const double coop_step = ms_since(t0);
      if (i == 0) continue;
      step_ms.push_back(whole);
      step_cpu_ms.push_back(whole_cpu);
      compute_ms.push_back(compute);
      coop_ms.push_back(coop_step);
      built.push_back(r.metric("built_batch"));
    }
    std::filesystem::remove_all(dir);
    double mean_built = 0;
    for (double v : built) mean_built += v / double(built.size());
    const double step = median(step_ms), compute = median(compute_ms);
    nlohmann::json j = json_header("dpc_step", device, mc, size, batch_size, classes, steps);
    j.update({{"top_k", top_k},
              {"workers", workers},
              {"built_batch", mean_built},
              {"step_ms", step},
              {"step_cpu_ms", median(step_cpu_ms)},  // process CPU time of a whole step
              {"compute_ms", compute},
              {"negatives_load_ms", std::max(0.0, step - compute)},
              {"images_per_s", mean_built / step * 1000.0},
              {"anchors_per_s", double(batch_size) / step * 1000.0},
              {"coop_step_ms", median(coop_ms)},
              {"coop_images_per_s", double(batch_size) / median(coop_ms) * 1000.0}});
    std::puts(j.dump().c_str());
    return 0;
  });
}
