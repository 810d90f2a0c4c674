#include "methods/pretrain/clip_pretrain.h"

#include <omp.h>

#include <atomic>
#include <cmath>

#include "data/transforms.h"
#include "data/world/pretrain_stream.h"
#include "engine/ops/ops.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "methods/trainer/progress.h"
#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"

namespace clipt::pretrain {

clip::ClipConfig default_world_clip_config() {
  clip::ClipConfig c;
  c.text = {128, 4, 4, 512, "quick_gelu", 1e-5};
  c.vision = {128, 4, 4, 512, "quick_gelu", 1e-5};
  c.context_length = 32;
  c.image_size = 64;
  c.patch_size = 16;  // 16 tokens: 2.5× the images/s of patch 8, and more accurate at equal pretraining time
  c.projection_dim = 128;
  c.logit_scale_init = std::log(1 / 0.07);
  return c;
}

namespace {

struct Batch {
  Tensor images;  // f32 [B, 3, R, R]
  Tensor ids;     // i64 [B, ctx]
};

// Renders samples [first, first + n) of the stream in parallel; identical for any thread count.
Batch make_batch(const world::PretrainStream& stream, const clip::Tokenizer& tok, uint64_t first, int64_t n,
                 int64_t context, Device device) {
  const int r = stream.spec().image_size;
  const data::Normalizer norm(data::kClipMean, data::kClipStd);
  Tensor images = Tensor::empty({n, 3, r, r});
  std::vector<std::string> captions(size_t(n), "");
  float* out = images.data<float>();
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < n; ++i) {
    data::Image img;
    img.width = r;
    img.height = r;
    img.pixels.resize(size_t(r) * size_t(r) * 3);
    captions[size_t(i)] = stream.render_at(first + uint64_t(i), img.pixels.data());
    norm.to_chw(img, false, out + i * 3 * r * r);
  }
  return {images.to(device), tok.tokenize_batch(captions, context, clip::Truncate::kKeepEndToken).to(device)};
}

}  // namespace

double pretrain_world_clip(const PretrainOptions& o, const std::function<void(const std::string&)>& log) {
  const auto tok = clip::Tokenizer::from_hf_dir(o.tokenizer_dir);
  clip::ClipConfig cfg = o.model;
  cfg.vocab_size = tok.vocab_size();
  Generator gen(o.seed * 1000003 + 11);
  clip::ClipModel master(cfg, gen, DType::F32);
  master.to(o.device);
  master.requires_grad_(true);
  // Mixed precision on the GPU: a bf16 shadow copy runs forward/backward; gradients land on its
  // parameters and the f32 master takes the optimizer step.
  const bool mixed = o.device.is_cuda();
  std::unique_ptr<clip::ClipModel> shadow;
  if (mixed) {
    shadow = std::make_unique<clip::ClipModel>(cfg, gen, DType::BF16);
    shadow->to(o.device);
    shadow->requires_grad_(true);
  }
  clip::ClipModel& compute = mixed ? *shadow : master;

  std::vector<Tensor> decay, no_decay;
  for (auto& [name, p] : master.named_parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  optim::AdamW opt_decay(decay, {.lr = o.lr, .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-6, .weight_decay = o.weight_decay});
  optim::AdamW opt_plain(no_decay, {.lr = o.lr, .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-6, .weight_decay = 0.0});
  optim::LrSchedule schedule({.name = "cosine",
                              .base_lr = o.lr,
                              .max_steps = std::max<int64_t>(o.steps - o.warmup_steps, 1),
                              .warmup_type = o.warmup_steps > 0 ? "linear" : "",
                              .warmup_steps = o.warmup_steps,
                              .warmup_min_lr = o.lr / double(std::max<int64_t>(o.warmup_steps, 1))});

  world::PretrainSpec spec;
  spec.seed = o.seed;
  spec.image_size = int(cfg.image_size);
  spec.colour_group = o.colour_group;
  const world::PretrainStream stream(spec);
  // One line every log_every steps with the ETA (the same progress code as training and evaluation).
  trainer::Progress progress("pretrain step", o.steps, {}, o.log_every, nullptr);
  double window_loss = 0, last_window = NAN;
  int64_t window = 0;
  const Tensor targets = Tensor::arange(o.batch, DType::I64, o.device);
  for (int64_t step = 0; step < o.steps; ++step) {
    const double lr = schedule.lr_at(step);
    opt_decay.set_lr(lr);
    opt_plain.set_lr(lr);
    if (mixed) {
      NoGrad ng;
      auto m = master.named_parameters(), s = compute.named_parameters();
      for (size_t i = 0; i < m.size(); ++i) s[i].second.copy_(m[i].second);
    }
    Batch b = make_batch(stream, tok, uint64_t(step) * uint64_t(o.batch), o.batch, cfg.context_length, o.device);
    Tensor img = l2_normalize(compute.encode_image(b.images).to(DType::F32), -1);
    Tensor txt = l2_normalize(compute.encode_text(b.ids).to(DType::F32), -1);
    Tensor logits = mul(matmul(img, txt.t()), exp(compute.logit_scale.to(DType::F32)));
    Tensor loss = mul(add(cross_entropy(logits, targets), cross_entropy(logits.t(), targets)), 0.5);
    const double lv = loss.item();
    CLIPT_CHECK(std::isfinite(lv), "pretraining loss is {} at step {}", lv, step + 1);
    opt_decay.zero_grad();
    opt_plain.zero_grad();
    if (mixed)
      for (auto& [n, p] : compute.named_parameters()) Tensor(p).zero_grad();
    loss.backward();
    if (mixed) {
      auto m = master.named_parameters(), s = compute.named_parameters();
      for (size_t i = 0; i < m.size(); ++i)
        m[i].second.set_grad(s[i].second.grad().defined() ? s[i].second.grad().to(DType::F32) : Tensor());
    }
    opt_decay.step();
    opt_plain.step();
    {
      NoGrad ng;  // CLIP clamps the temperature at 100
      master.logit_scale.copy_(clamp(master.logit_scale, std::nullopt, std::log(100.0)));
    }
    window_loss += lv;
    ++window;
    progress.advance();
    if ((step + 1) % o.log_every == 0 || step + 1 == o.steps) {
      last_window = window_loss / double(window);
      log(fmt::format("{} | loss {:.4f} lr {:.2e} scale {:.1f} | {:.0f} images/s", progress.status(), last_window, lr,
                      std::exp(master.logit_scale.item()), double((step + 1) * o.batch) / progress.elapsed()));
      window_loss = 0;
      window = 0;
    }
    if (o.stop && o.stop->load()) throw Interrupted(fmt::format("pretraining interrupted at step {}", step + 1));
  }
  master.requires_grad_(false);
  clip::save_clip(master, o.out_dir);
  tok.write_hf_files(o.out_dir);
  return last_window;
}

}  // namespace clipt::pretrain
