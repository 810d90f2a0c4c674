#include "methods/metaprompt/metaprompt.h"

#include "data/templates.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/builtin.h"
#include "methods/common/clip_features.h"
#include "methods/common/deep_prompts.h"
#include "methods/metaprompt/meta_splits.h"

namespace clipt::methods {

namespace {

constexpr const char* kFrozenImageFeatures = "metaprompt.frozen_image_features";

Tensor index_tensor(const std::vector<int64_t>& v, Device device) {
  return Tensor::from_vector(v, {int64_t(v.size())}, device);
}

// W0: the dataset's MetaPrompt template(s) filled with the raw class names — the released CustomCLIP
// calls template.format(classname) on Dassl's names, underscores kept (only its prompted text replaces
// them) — ensembled and renormalised.
Tensor frozen_classifier(const MethodContext& ctx, const std::vector<std::string>& classnames) {
  return hand_made_text_features(ctx, classnames, data::metaprompt_templates(ctx.dataset), data::ClassNameForm::Raw);
}

// Layer 0's prompts and the deep ones of a [layers, n, W] prompt tensor.
Tensor layer0(const Tensor& p) { return p.select(0, 0); }
Tensor deeper(const Tensor& p) { return p.size(0) > 1 ? p.narrow(0, 1, p.size(0) - 1) : Tensor(); }

}  // namespace

void MetaPrompt::build(const MethodContext& ctx, const std::vector<std::string>& classnames) {
  const Config& cfg = *ctx.cfg;
  const auto& c = ctx.clip->config();
  ctx_ = ctx;
  scale_ = ctx.clip->logit_scale_value();
  n_ctx_ = cfg.get_int("TRAINER.META.N_CTX");
  const int64_t n_pro = cfg.get_int("TRAINER.META.N_PRO"), layers = cfg.get_int("TRAINER.META.LAYERS");
  meta_step_size_ = cfg.get_float("TRAINER.META.META_STEP");
  legacy_ = cfg.get_bool("METAPROMPT.LEGACY_RESTORE");
  CLIPT_CHECK(n_ctx_ > 0, "TRAINER.META.N_CTX must be positive, got {}", n_ctx_);
  CLIPT_CHECK(n_pro > 0, "TRAINER.META.N_PRO must be positive, got {}", n_pro);
  check_prompt_depth("TRAINER.META.LAYERS", layers, 1, std::min(c.text.layers, c.vision.layers),
                     c.text.layers <= c.vision.layers ? "text" : "image");

  Generator text_gen(ctx.seed * 7919 + 404), vision_gen(ctx.seed * 7919 + 505);
  text_prompts_ = normal_prompts({layers, n_ctx_, c.text.width}, text_gen, ctx.device).requires_grad_();
  vision_prompts_ = normal_prompts({layers, n_pro, c.vision.width}, vision_gen, ctx.device).requires_grad_();
  train_classnames_ = classnames;
  train_prompts_ = ClassPrompts(ctx, classnames, placeholder_prefix(n_ctx_), n_ctx_);
  w0_train_ = frozen_classifier(ctx, classnames);
}

nn::NamedTensors MetaPrompt::trainable_parameters() const {
  return {{"prompt_learner.text_prompts", text_prompts_}, {"prompt_learner.vision_prompts", vision_prompts_}};
}

std::vector<std::pair<std::string, Tensor*>> MetaPrompt::prompt_slots() {
  return {{"text_prompts", &text_prompts_}, {"vision_prompts", &vision_prompts_}};
}

Tensor MetaPrompt::image_features(const Tensor& images) {
  return deep_image_features(ctx_, images, layer0(vision_prompts_), deeper(vision_prompts_));
}

Tensor MetaPrompt::text_features_of(const ClassPrompts& prompts, const std::vector<int64_t>& rows) const {
  return deep_text_features(ctx_, prompts, layer0(text_prompts_), deeper(text_prompts_), rows);
}

Tensor MetaPrompt::text_features(const std::vector<int64_t>& rows) { return text_features_of(train_prompts_, rows); }

MetaPrompt::Logits MetaPrompt::logits(const Tensor& prompted_image, const Tensor& frozen_image, const Tensor& w0,
                                      const Tensor& prompted_text) const {
  Logits l;
  l.z_v = cosine_logits(prompted_image, w0, scale_);           // pair V: prompted image, frozen text
  l.z_t = cosine_logits(frozen_image, prompted_text, scale_);  // pair T: frozen image, prompted text
  l.z = mul(add(l.z_v, l.z_t), 0.5);
  return l;
}

LossResult MetaPrompt::in_domain_loss(const TrainBatch& batch, const Tensor& frozen_image) {
  const Logits l = logits(image_features(batch.images), frozen_image, w0_train_, text_features());
  Tensor ce = cross_entropy(l.z, batch.labels), ce_v = cross_entropy(l.z_v, batch.labels),
         ce_t = cross_entropy(l.z_t, batch.labels);
  return {
      add(add(ce, ce_v), ce_t), l.z.detach(), {{"ce", ce.detach()}, {"ce_v", ce_v.detach()}, {"ce_t", ce_t.detach()}}};
}

void MetaPrompt::precompute(TrainBatch& batch) {
  if (!batch.cache.count(kFrozenImageFeatures))
    batch.cache[kFrozenImageFeatures] = frozen_image_features(ctx_, batch.images);
}

Tensor MetaPrompt::frozen_features(const TrainBatch& batch) const {
  auto it = batch.cache.find(kFrozenImageFeatures);
  return it != batch.cache.end() ? it->second : frozen_image_features(ctx_, batch.images);
}

LossResult MetaPrompt::loss(const TrainBatch& batch) { return in_domain_loss(batch, frozen_features(batch)); }

StepResult MetaPrompt::train_step(const TrainBatch& batch, optim::Optimizer& optimizer) {
  // f_0 once per step: the in-domain z_T and the cross-class episodes share it.
  const Tensor frozen_image = frozen_features(batch);
  optimizer.zero_grad();
  LossResult r = in_domain_loss(batch, frozen_image);
  r.loss.backward();
  optimizer.reduce_grads();  // data parallel: the in-domain gradient of the whole global batch
  optimizer.step();
  const auto [episodes, held_out] = meta_step(batch, frozen_image, optimizer);
  r.metrics["meta_episodes"] = host_metric(double(episodes));
  if (episodes > 0) r.metrics["meta_held_out"] = held_out;
  return {r.loss.detach(), r.logits, r.metrics};
}

std::pair<int64_t, Tensor> MetaPrompt::meta_step(const TrainBatch& batch, const Tensor& frozen_image,
                                                 optim::Optimizer& opt) {
  const bool cross_class = mode_ == Mode::CrossClass;
  // Data parallel: the episodes are drawn over the whole global batch (every rank gathers its labels
  // and domains, so every rank runs the same episodes as one process would), and each rank's losses
  // cover its share of an episode's samples (meta::LocalShare).
  const meta::LocalShare share = meta::local_share(ctx_.comm, batch.labels.numel());
  const std::vector<int64_t> labels = share.gather(ctx_.comm, batch.labels);
  std::vector<meta::Episode> episodes;
  if (cross_class) {
    const int64_t c = int64_t(train_classnames_.size());
    const auto order =
        class_order_fn_ ? class_order_fn_(batch.global_step, c) : meta::class_order(ctx_.seed, batch.global_step, c);
    episodes = meta::class_half_episodes(order, labels);
  } else {
    CLIPT_CHECK(batch.domains.defined() && batch.domains.numel() == batch.labels.numel(),
                "MetaPrompt_DG: the batch carries no domain labels (a multi-domain dataset is needed)");
    episodes = meta::domain_episodes(share.gather(ctx_.comm, batch.domains), labels);
  }
  if (episodes.empty()) return {0, Tensor()};

  // B2N meta-learns the text prompts, DG the vision prompts; the other modality is frozen meanwhile.
  Tensor& learned = cross_class ? text_prompts_ : vision_prompts_;
  Tensor& frozen = cross_class ? vision_prompts_ : text_prompts_;
  const Device dev = ctx_.device;
  Tensor snapshot;
  {
    NoGrad ng;
    snapshot = learned.clone();
  }
  // The loss of a set of samples (positions in the global batch) at the current prompts: z_T over the
  // group's classes (B2N), or z_V over all classes (DG). Of this rank's share of them, weighted so that
  // the mean over ranks of its gradient is the gradient of the whole set's mean; undefined when the
  // share is empty and nothing else needs the tape (DG). B2N encodes the group's classes on every rank
  // (the class-sharded text tower's collectives run on all ranks) and returns a zero loss on them.
  auto episode_loss = [&](const std::vector<int64_t>& samples, const std::vector<int64_t>& set_labels,
                          const std::vector<int64_t>& classes) -> Tensor {
    const meta::LocalSamples mine = share.select(samples, set_labels);
    Tensor loss;
    if (cross_class) {
      const Tensor text = text_features(classes);
      if (mine.positions.empty()) return mul(sum(text), 0.0);
      loss =
          cross_entropy(cosine_logits(index_select(frozen_image, 0, index_tensor(mine.positions, dev)), text, scale_),
                        index_tensor(mine.labels, dev));
    } else {
      if (mine.positions.empty()) return Tensor();
      loss =
          cross_entropy(cosine_logits(image_features(index_select(batch.images, 0, index_tensor(mine.positions, dev))),
                                      w0_train_, scale_),
                        index_tensor(mine.labels, dev));
    }
    return share.world == 1 ? loss : mul(loss, share.weight(mine, samples.size()));
  };

  Tensor grad_sum;
  // The held-out losses summed in f64 on the device (the value a host sum of item()s gave, without a
  // wait per episode); read only when the trainer logs the step.
  Tensor held_out_sum = Tensor::scalar(0.0, DType::F64, dev);
  bool restored = false;
  for (const meta::Episode& e : episodes) {
    // Inner step on the support set with the shared optimiser (its lr, momentum buffer, weight decay).
    opt.zero_grad();
    if (Tensor support = episode_loss(e.support_samples, e.support_labels, e.support_classes); support.defined())
      support.backward();
    else
      learned.set_grad(zeros_like(learned));  // this rank holds none of the support set
    // Released code: zero_grad() zeroes rather than drops, so the frozen modality still takes the
    // momentum and weight-decay part of the update.
    if (legacy_) frozen.set_grad(zeros_like(frozen));
    opt.reduce_grads();  // data parallel: the support set's gradient over the whole global batch
    opt.step();
    // Held-out gradient at the inner point (first order); summed over episodes here, over ranks below.
    Tensor held_out = episode_loss(e.query_samples, e.query_labels, e.query_classes);
    Tensor g;
    if (held_out.defined()) {
      held_out_sum = add(held_out_sum, held_out.detach().to(DType::F64));
      g = grad_of(held_out, {learned})[0];
    } else {
      g = zeros_like(learned);
    }
    grad_sum = grad_sum.defined() ? add(grad_sum, g) : g;
    // Restore. Released code: `ctx.data = snapshot` makes the parameter share the snapshot's storage,
    // so later inner steps write into the snapshot and only the first restore takes effect.
    if (!legacy_ || !restored) {
      NoGrad ng;
      learned.copy_(snapshot);
    }
    restored = true;
  }
  opt.zero_grad();
  std::vector<Tensor> meta_grad{grad_sum};
  opt.reduce(meta_grad);
  if (share.world > 1) {
    ctx_.comm->all_reduce(held_out_sum, dist::ReduceOp::Sum);
    held_out_sum = div(held_out_sum, double(share.world));
  }
  {
    NoGrad ng;
    learned.copy_(sub(learned, mul(meta_grad[0].to(learned.dtype()), opt.lr() * meta_step_size_)));
  }
  return {int64_t(episodes.size()), div(held_out_sum, double(episodes.size()))};
}

void MetaPrompt::prepare_eval(const std::vector<std::string>& classnames, ClassSplit) {
  NoGrad ng;
  if (classnames == train_classnames_) {
    w0_eval_ = w0_train_;
    eval_prompts_ = train_prompts_;
  } else {
    // W0 and the tokenised prompts depend on the class set only: built once per set.
    if (classnames != cached_classnames_) {
      w0_cached_ = frozen_classifier(ctx_, classnames);
      prompts_cached_ = ClassPrompts(ctx_, classnames, placeholder_prefix(n_ctx_), n_ctx_);
      cached_classnames_ = classnames;
    }
    w0_eval_ = w0_cached_;
    eval_prompts_ = prompts_cached_;
  }
  eval_text_ = text_features_of(eval_prompts_);
}

Tensor MetaPrompt::eval_logits(const Tensor& images) {
  CLIPT_CHECK(eval_text_.defined(), "MetaPrompt: eval_logits before prepare_eval");
  NoGrad ng;
  return logits(image_features(images), frozen_image_features(ctx_, images), w0_eval_, eval_text_).z;
}

void register_metaprompt() {
  register_method(
      "MetaPrompt", [] { return std::make_unique<MetaPrompt>(MetaPrompt::Mode::CrossClass); }, {"Meta_B2N"},
      "TRAINER.META");
  register_method(
      "MetaPrompt_DG", [] { return std::make_unique<MetaPrompt>(MetaPrompt::Mode::CrossDomain); }, {"Meta_DG"},
      "TRAINER.META");
}

}  // namespace clipt::methods
