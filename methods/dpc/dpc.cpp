#include "methods/dpc/dpc.h"

#include <algorithm>

#include "data/device_batches.h"
#include "data/sample_rng.h"
#include "engine/dist/dist_ops.h"
#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/dpc/stage1.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/trainer.h"

namespace clipt::methods::dpc {

namespace {

// The Philox stream of DPC's per-step draws (fallback classes, then one image per negative class),
// keyed by (seed, global step) so a resumed run draws exactly what an uninterrupted one would.
constexpr uint64_t kDpcStream = 0xD9C0001;

template <typename... Args> void say(const MethodContext& ctx, fmt::format_string<Args...> f, Args&&... args) {
  if (ctx.log) ctx.log(fmt::format(f, std::forward<Args>(args)...));
}

Tensor index_tensor(const std::vector<int64_t>& v, Device device) {
  return Tensor::from_vector(v, {int64_t(v.size())}, device);
}

}  // namespace

DpcOptions DpcOptions::from_config(const Config& cfg) {
  DpcOptions o;
  o.weighting.semantics = parse_semantics(cfg.get_string("DPC.SEMANTICS"));
  o.weighting.omega_base = cfg.get_float("SPLE.STACK.WEIGHT");
  o.weighting.omega_new = cfg.get_float("SPLE.STACK.WEIGHT_FOR_NEW");
  o.weighting.validate();
  const std::string mode = cfg.get_string("SPLE.STACK.MODE");
  CLIPT_CHECK(mode == "converse" || mode == "loop+converse" || mode == "void",
              "SPLE.STACK.MODE '{}' is not supported: the released code implements 'converse' only ('loop+converse' "
              "and 'void' behave the same)",
              mode);
  o.top_k = cfg.get_int("SPLE.INFER_TOPK");
  CLIPT_CHECK(o.top_k >= 1, "SPLE.INFER_TOPK must be at least 1, got {}", o.top_k);
  o.clone_init = cfg.get_bool("SPLE.SPLE_TRAINER.SPLE_INIT");
  const std::string negatives = cfg.get_string("DPC.NEGATIVES");
  if (negatives == "fewshot") {
    o.negatives = NegativeSource::FewShot;
  } else if (negatives == "library") {
    o.negatives = NegativeSource::Library;
    o.library = cfg.get_string("SPLE.PIC_LIB");
    CLIPT_CHECK(!o.library.empty(), "DPC.NEGATIVES library needs SPLE.PIC_LIB (the DPC image database JSON)");
  } else {
    fail("DPC.NEGATIVES must be 'fewshot' (the few-shot base training images) or 'library' (SPLE.PIC_LIB), got '{}'",
         negatives);
  }
  return o;
}

BuiltBatch assemble_batch(const Tensor& anchor_images, const std::vector<int64_t>& labels,
                          const std::vector<std::vector<int64_t>>& negatives, const Tensor& negative_images) {
  CLIPT_CHECK(anchor_images.size(0) == int64_t(labels.size()) && negatives.size() == labels.size(),
              "DPC: {} anchor images, {} labels and {} negative lists", anchor_images.size(0), labels.size(),
              negatives.size());
  BuiltBatch b;
  b.anchor_images = anchor_images;
  b.negative_images = negative_images;
  const int64_t n_anchor = int64_t(labels.size());
  int64_t next_negative = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    b.labels.push_back(labels[i]);
    b.source.push_back(int64_t(i));
    for (int64_t c : negatives[i]) {
      b.labels.push_back(c);
      b.source.push_back(n_anchor + next_negative++);
    }
  }
  const int64_t have = negative_images.defined() ? negative_images.size(0) : 0;
  CLIPT_CHECK(have == next_negative, "DPC: {} negative classes but {} negative images", next_negative, have);
  return b;
}

Tensor symmetric_contrastive_loss(const Tensor& image_features, const Tensor& text_features, double scale) {
  const Tensor target = Tensor::arange(image_features.size(0), DType::I64, image_features.device());
  Tensor logits = mul(matmul(image_features, text_features.t()), scale);
  return mul(add(cross_entropy(logits, target), cross_entropy(logits.t().contiguous(), target)), 0.5);
}

// ---- building ------------------------------------------------------------------------------------------

void Dpc::build(const MethodContext& ctx, const std::vector<std::string>& classnames) {
  ctx_ = ctx;
  options_ = DpcOptions::from_config(*ctx.cfg);
  const Stage1Run stage1 = prepare_stage1(ctx, classnames);
  backbone_cfg_ = std::make_unique<Config>(stage1.config);
  MethodContext bctx = ctx;
  bctx.cfg = backbone_cfg_.get();
  bctx.output_dir = stage1.dir.string();
  const DType stage1_dtype =
      trainer::resolve_dtype(*backbone_cfg_, method_config_group(stage1.method) + ".PREC", ctx.device);
  if (stage1_dtype != ctx.clip->dtype())
    say(ctx, "warning: stage 1 ran CLIP in {}, this run in {}: new-class accuracy will not be stage 1's bit for bit",
        dtype_name(stage1_dtype), dtype_name(ctx.clip->dtype()));

  // The backbone (and DPC's mining) work on stage 1's training classes; an evaluation-only run on other
  // classes (--eval-only, SUBSAMPLE_CLASSES new) still builds, but cannot train.
  trains_on_stage1_classes_ = stage1.classnames == classnames;
  auto backbone = create_method(stage1.method);
  backbone->build(bctx, stage1.classnames);
  std::vector<Tensor> fresh;
  for (auto& [name, slot] : backbone->prompt_slots()) fresh.push_back(slot->detach().clone());
  trainer::load_method_weights(*backbone, stage1.checkpoint, ctx.device);
  baseline_ = stage1.baseline;
  if (baseline_) baseline_->method = stage1.method;
  say(ctx, "DPC stage 2 over {} from {}: K {}, omega_b {}, omega_n {}, {} semantics, negatives from {}", stage1.method,
      stage1.checkpoint.string(), options_.top_k, options_.weighting.omega_base, options_.weighting.omega_new,
      options_.weighting.semantics == Semantics::Code ? "released-code" : "paper-figure",
      options_.negatives == NegativeSource::FewShot ? "the few-shot training images" : options_.library);
  const bool trains = trains_on_stage1_classes_;
  build_over(ctx, stage1.classnames, std::move(backbone), fresh);
  trains_on_stage1_classes_ = trains;
}

void Dpc::build_over(const MethodContext& ctx, const std::vector<std::string>& classnames,
                     std::unique_ptr<Method> backbone, const std::vector<Tensor>& fresh) {
  ctx_ = ctx;
  if (!ctx.cfg) fail("DPC: no config");
  if (!backbone_cfg_) options_ = DpcOptions::from_config(*ctx.cfg);
  dataset_ = ctx.dataset;
  classnames_ = classnames;
  n_base_ = int64_t(classnames.size());
  scale_ = ctx.clip->logit_scale_value();
  backbone_ = std::move(backbone);
  slots_ = backbone_->prompt_slots();
  CLIPT_CHECK(!slots_.empty(), "DPC: the backbone declares no prompts (Method::prompt_slots) for DPC to wrap");
  CLIPT_CHECK(fresh.empty() || fresh.size() == slots_.size(), "DPC: {} fresh prompts for {} prompt slots", fresh.size(),
              slots_.size());
  // Stage 2 trains the parallel prompts only: the backbone's own parameters (its prompts, and whatever
  // it does not declare as a slot) are frozen, so backward computes no gradient for them.
  for (auto [name, t] : backbone_->trainable_parameters()) t.requires_grad_(false);
  tuned_.clear();
  stored_.clear();
  for (size_t k = 0; k < slots_.size(); ++k) {
    Tensor p = slots_[k].second->detach().to(DType::F32).clone();
    Tensor m = initial_parameter(p, fresh.empty() ? Tensor() : fresh[k].to(DType::F32), options_.clone_init,
                                 options_.weighting);
    m.requires_grad_(true);
    tuned_.push_back(p);
    stored_.push_back(m);
  }
  bind(tuned_);
  {
    NoGrad ng;  // the frozen stage-1 text features of the base classes: constant, so computed once
    query_text_ = backbone_->text_features();
  }
  {
    // Whether the backbone's image features depend on its prompts (MaPLe, IVLP) or not (CoOp): when
    // not, the anchors' features from the mining are reused in the loss.
    const int64_t s = ctx.clip->config().image_size;
    bind(decoded_on_tape());
    Tensor probe = backbone_->image_features(Tensor::zeros({1, 3, s, s}, DType::F32, ctx.device));
    image_features_use_prompts_ = probe.requires_grad();
    bind(tuned_);
  }
}

nn::NamedTensors Dpc::trainable_parameters() const {
  nn::NamedTensors out;
  for (size_t k = 0; k < slots_.size(); ++k) out.push_back({"dpc.parallel." + slots_[k].first, stored_[k]});
  return out;
}

nn::NamedTensors Dpc::extra_state() const {
  nn::NamedTensors out;
  for (size_t k = 0; k < slots_.size(); ++k) out.push_back({"dpc.tuned." + slots_[k].first, tuned_[k]});
  return out;
}

void Dpc::load_extra_state(const std::map<std::string, Tensor>& state) {
  for (size_t k = 0; k < slots_.size(); ++k) {
    auto it = state.find("dpc.tuned." + slots_[k].first);
    if (it == state.end()) continue;
    const auto saved = it->second.to_vector<float>(), now = tuned_[k].to_vector<float>();
    CLIPT_CHECK(
        saved == now,
        "DPC: the checkpoint's tuned prompt '{}' differs from the stage-1 prompt this run loaded: the checkpoint "
        "was trained over another stage 1",
        slots_[k].first);
  }
}

// ---- prompts ---------------------------------------------------------------------------------------------

void Dpc::bind(const std::vector<Tensor>& prompts) {
  for (size_t k = 0; k < slots_.size(); ++k) *slots_[k].second = prompts[k];
}

std::vector<Tensor> Dpc::decoded_on_tape() const {
  std::vector<Tensor> out;
  for (size_t k = 0; k < slots_.size(); ++k) out.push_back(parallel_prompt(stored_[k], tuned_[k], options_.weighting));
  return out;
}

std::vector<Tensor> Dpc::parallel_prompts() const {
  NoGrad ng;
  return decoded_on_tape();
}

std::vector<Tensor> Dpc::eval_prompts(bool new_class_rule) const {
  NoGrad ng;
  std::vector<Tensor> out;
  for (size_t k = 0; k < slots_.size(); ++k)
    out.push_back(new_class_rule ? new_prompt(stored_[k], tuned_[k], options_.weighting)
                                 : base_prompt(stored_[k], tuned_[k], options_.weighting));
  return out;
}

// ---- training --------------------------------------------------------------------------------------------

void Dpc::on_epoch_begin(int64_t, data::DataLoader* train_loader) {
  if (train_loader == loader_ && pool_ready_) return;
  loader_ = train_loader;
  CLIPT_CHECK(loader_ && loader_->num_samples() > 0, "DPC: no training images to draw negatives from");
  pool_ = options_.negatives == NegativeSource::FewShot
              ? NegativePool::from_samples(loader_->samples(), n_base_)
              : NegativePool::from_library(options_.library, classnames_, loader_->samples().front().path);
  pool_ready_ = true;
}

Dpc::Mined Dpc::mine(const Tensor& anchor_images, const std::vector<int64_t>& labels, const FallbackDraw& draw) {
  Mined m;
  {
    NoGrad ng;
    bind(tuned_);
    m.anchor_features = backbone_->image_features(anchor_images);
  }
  m.selection = select_negatives(m.anchor_features, labels, draw);
  return m;
}

NegativeSelection Dpc::select_negatives(const Tensor& anchor_features, const std::vector<int64_t>& labels,
                                        const FallbackDraw& draw) const {
  NoGrad ng;
  // Ranking by cosine is the reference's ranking by softmax(100·cos).
  const Tensor sim = matmul(anchor_features, query_text_.t());
  const int64_t k = std::min(options_.top_k, n_base_);
  const std::vector<int64_t> top = topk(sim, k, 1).second.to_vector<int64_t>();
  std::vector<std::vector<int64_t>> candidates;
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<int64_t> row(top.begin() + int64_t(i) * k, top.begin() + int64_t(i + 1) * k);
    candidates.push_back(hard_negative_candidates(row, labels[i]));
  }
  return select_hard_negatives(candidates, labels, n_base_, draw);
}

Tensor Dpc::negative_images(const std::vector<int64_t>& classes, int64_t epoch, int64_t global_step, Generator& gen,
                            std::optional<dist::RowShard> rows) {
  CLIPT_CHECK(loader_ && pool_ready_, "DPC: no training loader for the negatives (on_epoch_begin was not called)");
  // Every class's image is drawn (the generator advances as in one process); `rows` loads a share.
  std::vector<int64_t> picks;
  for (int64_t c : classes) picks.push_back(pool_.pick(c, gen));
  const dist::RowShard load = rows.value_or(dist::RowShard{0, int64_t(picks.size())});
  picks = std::vector<int64_t>(picks.begin() + load.begin, picks.begin() + load.end);
  // A stream of its own per step: the same image drawn in two steps gets two different crops.
  const uint64_t stream = uint64_t(global_step) + 1;
  data::Batch b;
  if (pool_.owns_samples()) {
    std::vector<data::Sample> samples;
    for (int64_t p : picks) samples.push_back(pool_.samples()[size_t(p)]);
    b = loader_->load_samples(samples, epoch, stream, load.begin);  // augmented as at their place in the list
  } else {
    b = loader_->load_samples(picks, epoch, stream);
  }
  CLIPT_CHECK(b.size() == int64_t(picks.size()), "DPC: {} of {} negative images could not be read",
              int64_t(picks.size()) - b.size(), picks.size());
  return data::device_images(b.images, loader_->transform(), ctx_.device);  // uint8 from the trainer's loader
}

LossResult Dpc::loss(const TrainBatch& batch) {
  CLIPT_CHECK(trains_on_stage1_classes_,
              "DPC trains on stage 1's training classes ({} classes); this run's training classes differ",
              classnames_.size());
  if (ctx_.comm && ctx_.comm->world_size() > 1) return data_parallel_loss(batch);
  const std::vector<int64_t> labels = batch.labels.to_vector<int64_t>();
  Generator gen = data::stream_generator(ctx_.seed, uint64_t(batch.global_step), kDpcStream);
  const Mined m = mine(batch.images, labels, generator_draw(gen, n_base_));
  std::vector<int64_t> classes;
  for (const auto& n : m.selection.negatives) classes.insert(classes.end(), n.begin(), n.end());
  const Tensor negatives = classes.empty() ? Tensor() : negative_images(classes, batch.epoch, batch.global_step, gen);
  const BuiltBatch built = assemble_batch(batch.images, labels, m.selection.negatives, negatives);
  LossResult r = contrastive_loss(built, m.anchor_features);
  add_metrics(r, built.size(), int64_t(classes.size()), m.selection);
  return r;
}

void Dpc::add_metrics(LossResult& r, int64_t built, int64_t negatives, const NegativeSelection& s) {
  r.metrics["built_batch"] = host_metric(double(built));
  r.metrics["negatives"] = host_metric(double(negatives));
  r.metrics["fallback_draws"] = host_metric(double(s.fallback_draws));
  r.metrics["short_samples"] = host_metric(double(s.short_samples));
}

// Data parallel: every rank holds an equal, contiguous share of the global batch's anchors (rank order).
// The mining runs on the gathered anchor features and labels, so every rank selects the negatives (and
// draws their images) that one process would; each rank then loads and encodes its share of the
// negative images, the image features are gathered on the tape and every rank computes the whole built
// batch's loss. The gradient a rank gets through a gather is the sum over ranks (all identical) of its
// rows' gradients, so the trainer's mean over ranks is the full gradient; replicated parts (the text
// features when not class-sharded, or a few negatives) give every rank the full gradient, whose mean is
// itself.
LossResult Dpc::data_parallel_loss(const TrainBatch& batch) {
  dist::Communicator& comm = *ctx_.comm;
  const int world = comm.world_size();
  Tensor local_anchor_features;
  {
    NoGrad ng;
    bind(tuned_);
    local_anchor_features = backbone_->image_features(batch.images);
  }
  const Tensor anchor_features = comm.all_gather(local_anchor_features);
  const std::vector<int64_t> labels = comm.all_gather(batch.labels.to(DType::I64)).to_vector<int64_t>();
  Generator gen = data::stream_generator(ctx_.seed, uint64_t(batch.global_step), kDpcStream);
  const NegativeSelection selection = select_negatives(anchor_features, labels, generator_draw(gen, n_base_));
  std::vector<int64_t> classes;
  for (const auto& n : selection.negatives) classes.insert(classes.end(), n.begin(), n.end());
  const int64_t n_negative = int64_t(classes.size());
  // Fewer negatives than ranks: every rank loads them all (no rank is left without rows to gather).
  const bool shard_negatives = n_negative >= world;
  const std::optional<dist::RowShard> my_negatives =
      shard_negatives ? std::optional(dist::shard_rows(n_negative, comm.rank(), world)) : std::nullopt;
  const Tensor negatives =
      n_negative == 0 ? Tensor() : negative_images(classes, batch.epoch, batch.global_step, gen, my_negatives);

  // The built batch's rows: anchor i (global position), then its negatives (after the B anchors).
  std::vector<int64_t> row_labels, source;
  const int64_t n_anchor = int64_t(labels.size());
  int64_t next_negative = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    row_labels.push_back(labels[i]);
    source.push_back(int64_t(i));
    for (int64_t c : selection.negatives[i]) {
      row_labels.push_back(c);
      source.push_back(n_anchor + next_negative++);
    }
  }
  bind(decoded_on_tape());
  const Tensor text = batch_text_features(row_labels);
  Tensor anchors = image_features_use_prompts_ ? dist::all_gather_rows(comm, backbone_->image_features(batch.images))
                                               : anchor_features;
  Tensor features = anchors;
  if (n_negative > 0) {
    Tensor mine = backbone_->image_features(negatives);
    features = cat({anchors, shard_negatives ? dist::gather_row_shards(comm, mine, n_negative) : mine}, 0);
  }
  const Tensor image = index_select(features, 0, index_tensor(source, ctx_.device));
  LossResult r{symmetric_contrastive_loss(image, text, scale_), Tensor(), {}};
  bind(tuned_);
  add_metrics(r, int64_t(row_labels.size()), n_negative, selection);
  return r;
}

Tensor Dpc::batch_text_features(const std::vector<int64_t>& row_labels) {
  // Text features of the classes in the batch only: the other classes' rows never reach the loss, so
  // the result and its gradient are those of the reference's all-class encoding, at a fraction of the
  // cost on large class sets.
  std::vector<int64_t> classes = row_labels;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  std::vector<int64_t> row_of_label;
  for (int64_t y : row_labels)
    row_of_label.push_back(int64_t(std::lower_bound(classes.begin(), classes.end(), y) - classes.begin()));
  return index_select(backbone_->text_features(classes), 0, index_tensor(row_of_label, ctx_.device));
}

LossResult Dpc::contrastive_loss(const BuiltBatch& batch, const Tensor& anchor_features) {
  const Device device = batch.anchor_images.device();
  bind(decoded_on_tape());
  const Tensor text = batch_text_features(batch.labels);

  Tensor features;
  if (!image_features_use_prompts_ && anchor_features.defined()) {
    features = batch.negative_images.defined()
                   ? cat({anchor_features, backbone_->image_features(batch.negative_images)}, 0)
                   : anchor_features;
  } else {
    features = backbone_->image_features(
        batch.negative_images.defined() ? cat({batch.anchor_images, batch.negative_images}, 0) : batch.anchor_images);
  }
  const Tensor image = index_select(features, 0, index_tensor(batch.source, device));
  Tensor loss = symmetric_contrastive_loss(image, text, scale_);
  bind(tuned_);  // at rest the backbone holds P (the tape keeps what backward needs)
  return {loss, Tensor(), {}};
}

// ---- evaluation ------------------------------------------------------------------------------------------

void Dpc::prepare_eval(const std::vector<std::string>& classnames, ClassSplit split) {
  NoGrad ng;
  // The prompts stay bound until the next step or evaluation: eval_logits may read them too (backbones
  // whose image features depend on their prompts).
  bind(eval_prompts(uses_new_class_rule(split, dataset_)));
  backbone_->prepare_eval(classnames, split);
}

Tensor Dpc::eval_logits(const Tensor& images) { return backbone_->eval_logits(images); }

}  // namespace clipt::methods::dpc

namespace clipt::methods {

void register_dpc() {
  // StackSPLE_CoOp: the released trainer's name, so its configs (configs/trainers/SPLE) run unchanged.
  register_method(
      "DPC", [] { return std::make_unique<dpc::Dpc>(); }, {"StackSPLE_CoOp"}, "TRAINER.COOP");
}

}  // namespace clipt::methods
