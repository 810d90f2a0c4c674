#include "methods/trainer/trainer.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "data/data_config.h"
#include "data/device_batches.h"
#include "data/domains.h"
#include "data/fewshot.h"
#include "data/image.h"
#include "data/image_check.h"
#include "engine/core/backend.h"
#include "engine/core/shorten.h"
#include "engine/io/atomic_file.h"
#include "engine/io/checkpoint.h"
#include "engine/ops/ops.h"
#include "engine/profile/peaks.h"
#include "engine/runtime/pinned_host.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/progress.h"
#include "methods/trainer/protocol_runs.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/step_graph.h"
#include "methods/trainer/step_window.h"

namespace clipt::trainer {

namespace {

constexpr const char* kParamPrefix = "method.";
constexpr const char* kStatePrefix = "method_state.";
constexpr const char* kOptimPrefix = "optim.";
// The most training steps between two host reads of loss and accuracy (see train()).
constexpr int64_t kMaxStepWindow = 50;

uint64_t run_seed(const Config& cfg) { return uint64_t(std::max<int64_t>(cfg.get_int("SEED"), 0)); }

}  // namespace

std::unique_ptr<optim::Optimizer> make_optimizer(const Config& cfg, std::vector<Tensor> params) {
  const std::string name = cfg.get_string("OPTIM.NAME");
  const double lr = cfg.get_float("OPTIM.LR"), wd = cfg.get_float("OPTIM.WEIGHT_DECAY");
  // SAM-family names (GCSCoOp's "sam"/"gcsam") wrap SGD: the two-pass logic lives in the method.
  if (name == "sgd" || name == "sam" || name == "gcsam") {
    optim::SgdOptions o{lr, cfg.get_float("OPTIM.MOMENTUM"), cfg.get_float("OPTIM.SGD_DAMPNING"), wd,
                        cfg.get_bool("OPTIM.SGD_NESTEROV")};
    return std::make_unique<optim::SGD>(std::move(params), o);
  }
  if (name == "adam" || name == "adamw") {
    optim::AdamWOptions o{
        lr, cfg.get_float("OPTIM.ADAM_BETA1"), cfg.get_float("OPTIM.ADAM_BETA2"), 1e-8, wd, name == "adamw"};
    return std::make_unique<optim::AdamW>(std::move(params), o);
  }
  fail("OPTIM.NAME '{}' is not supported (sgd, adam, adamw; sam/gcsam select SGD for GCSCoOp)", name);
}

namespace {

optim::LrScheduleOptions schedule_options(const Config& cfg) {
  optim::LrScheduleOptions o;
  o.name = cfg.get_string("OPTIM.LR_SCHEDULER");
  o.base_lr = cfg.get_float("OPTIM.LR");
  o.max_steps = cfg.get_int("OPTIM.MAX_EPOCH");
  const auto steps = cfg.get_list_int("OPTIM.STEPSIZE");
  o.step_size = steps.empty() || steps[0] <= 0 ? o.max_steps : steps[0];  // Dassl: stepsize <= 0 → max_epoch
  o.milestones = steps;
  o.gamma = cfg.get_float("OPTIM.GAMMA");
  if (cfg.get_int("OPTIM.WARMUP_EPOCH") > 0) {
    o.warmup_type = cfg.get_string("OPTIM.WARMUP_TYPE");
    o.warmup_steps = cfg.get_int("OPTIM.WARMUP_EPOCH");
    o.warmup_cons_lr = cfg.get_float("OPTIM.WARMUP_CONS_LR");
    o.warmup_min_lr = cfg.get_float("OPTIM.WARMUP_MIN_LR");
    o.warmup_recount = cfg.get_bool("OPTIM.WARMUP_RECOUNT");
  }
  return o;
}

// Where a run's training list came from, for the message when it ends up empty.
struct TrainListSource {
  std::filesystem::path split_file;  // empty for folder readers
  std::filesystem::path dataset_dir;
  size_t listed = 0;  // train images the dataset lists, before few-shot sampling
};

// An empty training list (nothing to train on, and no classes to build prompts for) is named with the file
// it came from, as an empty "test" list is (data/datasets/common.cpp), instead of failing later as a model
// with no classes.
void check_train_list(const std::vector<data::Sample>& train, const TrainListSource& source, const std::string& dataset,
                      int shots) {
  if (!train.empty()) return;
  const std::string from = source.split_file.empty()
                               ? fmt::format("dataset {} ({})", dataset, source.dataset_dir.string())
                               : fmt::format("split file {}", source.split_file.string());
  if (source.listed == 0) fail("{}: the \"train\" list is empty (no images to train on, so no classes)", from);
  fail("{}: none of its {} \"train\" images remain after few-shot sampling ({} shots)", from, source.listed, shots);
}

std::filesystem::path resume_path(const std::filesystem::path& run) {
  return run / "checkpoints" / "resume.safetensors";
}

}  // namespace

nlohmann::json EvalResult::to_json() const {
  return {{"split", split}, {"subsample", subsample}, {"num_classes", num_classes},      {"correct", correct},
          {"total", total}, {"accuracy", accuracy},   {"macro_accuracy", macro_accuracy}};
}

std::filesystem::path Trainer::checkpoint_path(const std::filesystem::path& run, int64_t epoch) {
  return run / "checkpoints" / fmt::format("epoch-{}.safetensors", epoch);
}

int64_t Trainer::latest_checkpoint(const std::filesystem::path& run) {
  int64_t best = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(run / "checkpoints", ec)) {
    const std::string n = e.path().filename().string();
    if (n.starts_with("epoch-") && n.ends_with(".safetensors")) {
      try {
        best = std::max<int64_t>(best, std::stoll(n.substr(6, n.size() - 6 - 12)));
      } catch (const std::exception&) {}
    }
  }
  return best;
}

std::filesystem::path Trainer::resume_checkpoint(const std::filesystem::path& run) {
  const int64_t last = latest_checkpoint(run);
  std::filesystem::path from;
  if (last > 0) from = checkpoint_path(run, last);
  if (std::filesystem::exists(resume_path(run))) {
    auto meta = io::Checkpoint::open(resume_path(run)).meta();
    if (meta.value("epochs_done", int64_t(0)) >= last) from = resume_path(run);
  }
  return from;
}

void Trainer::check_resumable(const Config& cfg, const std::filesystem::path& checkpoint) {
  const auto meta = io::Checkpoint::open(checkpoint).meta();
  if (!meta.contains("config")) return;  // written before checkpoints carried their config
  Config before = default_config();
  before.merge_from_yaml(meta.value("config", ""), checkpoint.string() + " (its config)");
  // Extending a run (a larger OPTIM.MAX_EPOCH) continues it, as Dassl does; fewer epochs would report
  // weights trained longer than asked, so that stays refused.
  if (cfg.get_int("OPTIM.MAX_EPOCH") > before.get_int("OPTIM.MAX_EPOCH"))
    before.set("OPTIM.MAX_EPOCH", cfg.get("OPTIM.MAX_EPOCH"));
  const std::string key = first_training_difference(cfg, before);
  CLIPT_CHECK(key.empty(),
              "{} was trained with {} = {}, this run uses {}: continuing from it would mix two recipes; delete {} "
              "(or choose another --output-dir) to train again",
              checkpoint.string(), key, shorten(before.get(key).repr()), shorten(cfg.get(key).repr()),
              checkpoint.parent_path().parent_path().string());
}

Trainer::Trainer(const Config& cfg, RunLog& log, const std::atomic<bool>* stop,
                 const std::filesystem::path& eval_model_dir, dist::Communicator* comm)
    : cfg_(cfg), log_(log), stop_(stop), comm_(comm ? comm : &dist::world()) {
  const std::string trainer = cfg_.get_string("TRAINER.NAME");
  CLIPT_CHECK(!trainer.empty(), "no trainer: pass --trainer NAME (one of {})",
              fmt::join(methods::method_names(), ", "));
  method_name_ = methods::canonical_method_name(trainer);
  output_dir_ = cfg_.get_string("OUTPUT_DIR");
  device_ = resolve_device(cfg_);
  const int ranks = comm_->world_size();
  if (ranks > 1) {
    comm_->set_timeout(cfg_.get_float("DIST.TIMEOUT"));
    // One device per rank: the local rank's (NCCL's rule too).
    if (device_.is_cuda()) device_ = Device::cuda(comm_->local_rank() % std::max(1, cuda_device_count()));
    const int64_t batch = cfg_.get_int("DATALOADER.TRAIN_X.BATCH_SIZE");
    CLIPT_CHECK(batch % ranks == 0,
                "DATALOADER.TRAIN_X.BATCH_SIZE {} is the global batch and must be divisible by the {} ranks of this "
                "job (each rank takes an equal share)",
                batch, ranks);
  }
  dtype_ = resolve_dtype(cfg_, methods::method_config_group(method_name_) + ".PREC", device_);
  graph_mode_ = parse_graph_mode(cfg_.get_string("CLIPT.CUDA_GRAPH"));

  const auto model_dir = resolve_model_dir(cfg_);
  clip_ = clip::load_clip(model_dir, dtype_, device_);
  tokenizer_ = std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(model_dir));
  transforms_ = data::transform_config_from(cfg_);
  data::set_max_image_pixels(cfg_.get_int("CLIPT.MAX_IMAGE_PIXELS"));
  CLIPT_CHECK(transforms_.height == clip_->config().image_size && transforms_.width == clip_->config().image_size,
              "INPUT.SIZE ({}, {}) does not match the model's resolution {} ({})", transforms_.height,
              transforms_.width, clip_->config().image_size, model_dir.string());

  const std::string dataset = cfg_.get_string("DATASET.NAME");
  CLIPT_CHECK(!dataset.empty(), "DATASET.NAME is empty: pass --dataset-config-file or DATASET.NAME <name>");
  const uint64_t seed = run_seed(cfg_);
  data::FewShotOptions fewshot;
  fewshot.warn = [this](const std::string& m) { log_.line("warning: " + m); };
  data::DatasetSplits read = data::read_dataset(dataset, std::filesystem::path(cfg_.get_string("DATASET.ROOT")));
  const int shots = int(cfg_.get_int("DATASET.NUM_SHOTS"));
  const TrainListSource train_source{read.split_file, read.dataset_dir, read.train.size()};
  if (read.domains.empty()) {
    splits_ = data::apply_fewshot(std::move(read), shots, seed, fewshot);
  } else {  // domain generalisation: sources → train/val, targets → test, shots per class per source domain
    const data::DomainSelection domains = data::domain_selection_from(cfg_, read);
    splits_ = data::prepare_domains(read, domains, shots, seed, fewshot);
    log_.info("domains of {}: train on {} | test on {}", dataset, fmt::join(domains.sources, ", "),
              fmt::join(domains.targets, ", "));
  }
  check_train_list(splits_.train, train_source, dataset, shots);
  // Every image the run will read exists and its header decodes, checked before training starts (a missing
  // or corrupt test image used to surface only after the last epoch).
  data::check_split_images(splits_, dataset);
  train_subsample_ = data::parse_subsample(cfg_.get_string("DATASET.SUBSAMPLE_CLASSES"));
  data::DatasetSplits train_split = data::subsample_classes(splits_, train_subsample_);
  train_samples_ = train_split.train;
  train_classnames_ = data::class_names(train_samples_);

  ctx_.clip = clip_.get();
  ctx_.tokenizer = tokenizer_.get();
  ctx_.cfg = &cfg_;
  ctx_.dataset = dataset;
  ctx_.device = device_;
  ctx_.seed = seed;
  ctx_.output_dir = output_dir_.string();
  ctx_.eval_model_dir = eval_model_dir.string();
  ctx_.stop = stop_;
  ctx_.log = [this](const std::string& line) { log_.line(line); };
  ctx_.quiet = log_.quiet();
  ctx_.comm = comm_;
  ctx_.shard_text = ranks > 1 && cfg_.get_bool("DIST.SHARD_TEXT");
  method_ = methods::create_method(method_name_);
  CLIPT_CHECK(ranks == 1 || method_->supports_data_parallel(),
              "{} does not run data parallel yet: launch it as one process (this job has {} ranks)", method_name_,
              ranks);
  method_->build(ctx_, train_classnames_);
  build_optimizer();

  int64_t trainable = 0;
  for (auto& [n, t] : method_->trainable_parameters()) trainable += t.numel();
  log_.info("clipt {} on {} ({} classes, {} train images, subsample {}, {} shots, seed {})", method_name_, dataset,
            train_classnames_.size(), train_samples_.size(), data::subsample_name(train_subsample_),
            cfg_.get_int("DATASET.NUM_SHOTS"), seed);
  log_.info("model {} from {} | {} {} | {} trainable parameters", clip_->config().summary(), model_dir.string(),
            device_.str(), dtype_name(dtype_), trainable);
}

Trainer::~Trainer() = default;

void Trainer::build_optimizer() {
  std::vector<Tensor> params;
  for (auto& [n, t] : method_->trainable_parameters()) params.push_back(t);
  if (params.empty()) return;
  optimizer_ = make_optimizer(cfg_, params);
  if (comm_->world_size() > 1) {
    dist::Communicator* comm = comm_;
    optimizer_->set_gradient_reduction(
        [comm](std::vector<Tensor>& grads) { comm->all_reduce(grads, dist::ReduceOp::Mean); });
  }
  schedule_ = std::make_unique<optim::LrSchedule>(schedule_options(cfg_));
}

std::unique_ptr<data::DataLoader> Trainer::make_loader(std::vector<data::Sample> samples, bool train) const {
  data::LoaderOptions o;
  o.batch_size = cfg_.get_int(train ? "DATALOADER.TRAIN_X.BATCH_SIZE" : "DATALOADER.TEST.BATCH_SIZE");
  o.shuffle = train;
  o.drop_last = train;
  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  o.num_workers = int(std::clamp<int64_t>(cfg_.get_int("DATALOADER.NUM_WORKERS"), 0, hw));
  o.seed = ctx_.seed;
  o.shard_rank = comm_->rank();
  o.shard_count = comm_->world_size();
  o.stop_flag = stop_;
  o.warn = [this](const std::string& m) { log_.line("warning: " + m); };
  // uint8 batches (normalised on the device by data::DeviceBatches), staged in pinned, pooled host
  // buffers on a GPU so that their copies run asynchronously.
  o.uint8_images = true;
  if (device_.is_cuda()) o.allocator = [](const Shape& shape, DType dtype) { return pinned_empty(shape, dtype); };
  auto transform = train ? data::ImageTransform::train(transforms_) : data::ImageTransform::test(transforms_);
  return std::make_unique<data::DataLoader>(std::move(samples), std::move(transform), o);
}

void Trainer::save_checkpoint(int64_t epochs_done, int64_t iteration, const std::string& reason,
                              const EpochSums& sums) {
  if (!is_root()) return;  // the ranks hold the same parameters and optimizer state: rank 0 writes
  check_finite_parameters(epochs_done, iteration);
  io::NamedTensors tensors;
  for (auto& [n, t] : method_->trainable_parameters()) tensors.push_back({kParamPrefix + n, t});
  for (auto& [n, t] : method_->extra_state()) tensors.push_back({kStatePrefix + n, t});
  if (optimizer_)
    for (auto& [n, t] : optimizer_->state_tensors()) tensors.push_back({kOptimPrefix + n, t});
  nlohmann::json meta = {{"method", method_name_},
                         {"dataset", cfg_.get_string("DATASET.NAME")},
                         {"classnames", train_classnames_},
                         {"epochs_done", epochs_done},
                         {"iteration", iteration},
                         {"optimizer_steps", optimizer_ ? optimizer_->steps() : 0},
                         {"seed", ctx_.seed},
                         {"reason", reason},
                         {"config", cfg_.dump()}};
  // Mid-epoch: the epoch's running sums so far, so the resumed epoch's record covers the whole epoch.
  if (iteration > 0) meta["epoch_sums"] = {{"loss", sums.loss}, {"correct", sums.correct}, {"seen", sums.seen}};
  const auto path = iteration > 0 ? resume_path(output_dir_) : checkpoint_path(output_dir_, epochs_done);
  std::filesystem::create_directories(path.parent_path());
  io::save_checkpoint(path, tensors, meta);
  if (iteration > 0) return;
  // Keep the newest epoch (and every TRAIN.CHECKPOINT_FREQ-th, as Dassl); drop a stale mid-epoch one.
  std::error_code ec;
  std::filesystem::remove(resume_path(output_dir_), ec);
  const int64_t freq = cfg_.get_int("TRAIN.CHECKPOINT_FREQ");
  const int64_t previous = epochs_done - 1;
  if (previous > 0 && !(freq > 0 && previous % freq == 0))
    std::filesystem::remove(checkpoint_path(output_dir_, previous), ec);
}

// For the messages that stop a diverged run: the newest epoch checkpoint of the run, or that there is none.
std::string Trainer::last_good_checkpoint() const {
  const int64_t good = latest_checkpoint(output_dir_);
  return good > 0 ? checkpoint_path(output_dir_, good).string() : std::string("none (first epoch)");
}

void Trainer::check_finite_parameters(int64_t epochs_done, int64_t iteration) const {
  // A finite loss does not make finite parameters (an overflowing update shows in the next step's loss),
  // so the parameters are checked before they are written: x·0 is 0 for every finite x and NaN otherwise,
  // one host read for all of them.
  NoGrad ng;
  const nn::NamedTensors params = method_->trainable_parameters();
  if (params.empty()) return;
  TensorList probes;
  for (const auto& [n, t] : params) probes.push_back(sum(mul(t.detach().to(DType::F32), 0.0)).reshape({1}));
  const std::vector<double> v = cat(probes, 0).to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isfinite(v[i])) continue;
    const std::string when = iteration > 0 ? fmt::format("at epoch {} iteration {}", epochs_done + 1, iteration)
                                           : fmt::format("after epoch {}", epochs_done);
    fail("parameter '{}' is not finite {}; stopping without writing a checkpoint. The last good checkpoint is {}",
         params[i].first, when, last_good_checkpoint());
  }
}

void Trainer::restore(const std::filesystem::path& file, bool with_optimizer) {
  io::Checkpoint ck = io::Checkpoint::open(file);
  const auto& meta = ck.meta();
  CLIPT_CHECK(meta.value("method", "") == method_name_, "checkpoint {} was written by method '{}', this run is '{}'",
              file.string(), meta.value("method", "?"), method_name_);
  const auto saved_classes = meta.value("classnames", std::vector<std::string>{});
  io::NamedTensors dst;
  for (auto& [n, t] : method_->trainable_parameters()) {
    CLIPT_CHECK(ck.contains(kParamPrefix + n), "checkpoint {} has no parameter '{}'", file.string(), n);
    if (ck.shape(kParamPrefix + n) != t.shape())
      fail(
          "checkpoint {}: parameter '{}' has shape {}, this run expects {} (checkpoint trained on {} classes, this "
          "run has {})",
          file.string(), n, shape_str(ck.shape(kParamPrefix + n)), shape_str(t.shape()), saved_classes.size(),
          train_classnames_.size());
    dst.push_back({kParamPrefix + n, t});
  }
  ck.load_into(dst);
  std::map<std::string, Tensor> extra, optim_state;
  for (const auto& name : ck.names()) {
    if (name.starts_with(kStatePrefix))
      extra[name.substr(std::string(kStatePrefix).size())] = ck.load(name, ck.get(name).dtype(), device_);
    if (name.starts_with(kOptimPrefix)) optim_state[name.substr(std::string(kOptimPrefix).size())] = ck.get(name);
  }
  if (!extra.empty()) method_->load_extra_state(extra);
  if (with_optimizer && optimizer_) {
    optimizer_->load_state_tensors(optim_state);
    optimizer_->set_steps(meta.value("optimizer_steps", int64_t(0)));
  }
  epochs_done_ = meta.value("epochs_done", int64_t(0));
  resume_iteration_ = meta.value("iteration", int64_t(0));
  resume_sums_.reset();
  if (resume_iteration_ > 0 && meta.contains("epoch_sums")) {
    const auto& j = meta["epoch_sums"];
    resume_sums_ = EpochSums{j.value("loss", 0.0), j.value("correct", int64_t(0)), j.value("seen", int64_t(0))};
  }
}

nlohmann::json load_method_weights(methods::Method& method, const std::filesystem::path& file, Device device) {
  io::Checkpoint ck = io::Checkpoint::open(file);
  io::NamedTensors dst;
  for (auto& [n, t] : method.trainable_parameters()) dst.push_back({kParamPrefix + n, t});
  ck.load_into(dst);  // names and shapes are all checked first; the error lists every mismatch
  std::map<std::string, Tensor> extra;
  for (const auto& name : ck.names())
    if (name.starts_with(kStatePrefix)) {
      Tensor t = ck.get(name);
      extra[name.substr(std::string(kStatePrefix).size())] = ck.load(name, t.dtype(), device);
    }
  if (!extra.empty()) method.load_extra_state(extra);
  return ck.meta();
}

void Trainer::load(const std::filesystem::path& run_or_file, int64_t epoch) {
  std::filesystem::path file = run_or_file;
  if (std::filesystem::is_directory(run_or_file)) {
    const int64_t e = epoch >= 0 ? epoch : latest_checkpoint(run_or_file);
    CLIPT_CHECK(e > 0, "no checkpoint in {} (expected {})", run_or_file.string(),
                checkpoint_path(run_or_file, 1).parent_path().string());
    file = checkpoint_path(run_or_file, e);
  }
  CLIPT_CHECK(std::filesystem::exists(file), "checkpoint {} does not exist", file.string());
  restore(file, false);
  resume_iteration_ = 0;
  log_.info("loaded {} (epoch {})", file.string(), epochs_done_);
}

void Trainer::train() {
  if (!optimizer_) {
    log_.info("{} has no trainable parameters: nothing to train", method_name_);
    return;
  }
  const int64_t max_epoch = cfg_.get_int("OPTIM.MAX_EPOCH");
  // Resume: this run's own newest checkpoint, else (Dassl's --resume DIR) the newest one in RESUME.
  std::filesystem::path from = resume_checkpoint(output_dir_);
  const std::string resume_dir = cfg_.get_string("RESUME");
  if (from.empty() && !resume_dir.empty()) {
    from = resume_checkpoint(resume_dir);
    CLIPT_CHECK(!from.empty(), "--resume {}: no checkpoint there (expected {})", resume_dir,
                checkpoint_path(resume_dir, 1).parent_path().string());
  }
  if (!from.empty()) {
    check_resumable(cfg_, from);
    restore(from, true);
    log_.info("resuming from {} (epoch {}, iteration {})", from.string(), epochs_done_, resume_iteration_);
  }
  if (epochs_done_ >= max_epoch) {
    log_.info("training already finished ({} epochs)", epochs_done_);
    return;
  }
  if (comm_->world_size() > 1) {
    // Every rank starts from rank 0's parameters (and optimizer state, after a resume).
    std::vector<Tensor> state;
    for (auto& [n, t] : method_->trainable_parameters()) state.push_back(t);
    for (auto& [n, t] : optimizer_->state_tensors()) state.push_back(t);
    comm_->broadcast(state, 0);
    log_.info("data parallel: {} ranks ({}), global batch {} = {} per rank, text tower {}", comm_->world_size(),
              comm_->backend(), cfg_.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"),
              cfg_.get_int("DATALOADER.TRAIN_X.BATCH_SIZE") / comm_->world_size(),
              ctx_.shard_text ? "class-sharded" : "replicated");
  }
  auto loader = make_loader(train_samples_, true);
  const int64_t batches = loader->batches_per_epoch();
  const int64_t print_freq = std::max<int64_t>(cfg_.get_int("TRAIN.PRINT_FREQ"), 1);
  // Loss and accuracy stay on the device between host reads (issue 19): a read at every print, before every
  // checkpoint and at a stop, and at least every kMaxStepWindow steps, which bounds the window's buffer and,
  // data parallel, how many steps a stop request waits for the ranks to agree on it.
  StepWindow window(std::min(print_freq, kMaxStepWindow), device_);
  // The run's steps left (after a resume: from the resume point), for the ETA of the progress lines.
  Progress run_progress("training", (max_epoch - epochs_done_) * batches - resume_iteration_, {}, 1, nullptr);
  std::unique_ptr<profile::StepProfiler> profiler;
  if (profile_steps_ > 0) profiler = std::make_unique<profile::StepProfiler>(device_, profile_steps_, 1);
  const std::unique_ptr<StepGraph> step_graph = make_step_graph(profiler != nullptr);
  for (int64_t epoch = epochs_done_; epoch < max_epoch; ++epoch) {
    const double lr = schedule_->lr_at(epoch);
    optimizer_->set_lr(lr);
    method_->on_epoch_begin(epoch, loader.get());
    loader->start_epoch(epoch);
    // The epoch's running sums; resuming inside the epoch, they continue from the checkpoint's (an older
    // checkpoint without them: from the batches trained after the resume).
    EpochSums sums;
    int64_t sums_from = 0;
    if (resume_iteration_ > 0) {
      if (resume_sums_)
        sums = *resume_sums_;
      else
        sums_from = resume_iteration_;
    }
    int64_t images = 0, iteration = 0;
    auto window_start = std::chrono::steady_clock::now();
    data::Batch batch;
    // Reads the window's steps to the host, agrees their values and the stop flag over the ranks (data
    // parallel, when `agree`: every rank reads at the same iterations, so the collectives pair up), stops
    // the run at the first non-finite loss (before any checkpoint can hold its parameters) and adds the
    // steps to the epoch's sums. Returns the read and whether the run is to stop after this step.
    auto settle = [&](bool with_metrics, bool agree) {
      StepWindow::Read read = window.read(with_metrics);
      bool stop_now = stop_ && stop_->load();
      const size_t n = read.steps.size();
      if (agree && comm_->world_size() > 1) {
        // One small collective per window: the steps' losses (the mean of the ranks' shares is the global
        // batch's mean), their accuracy counts, and whether any rank was asked to stop.
        std::vector<double> v;
        for (const auto& s : read.steps) v.push_back(s.loss);
        for (const auto& s : read.steps) v.push_back(double(s.correct));
        for (const auto& s : read.steps) v.push_back(double(s.seen));
        v.push_back(stop_now ? 1.0 : 0.0);
        const std::vector<double> totals = comm_->all_reduce(v, dist::ReduceOp::Sum);
        for (size_t k = 0; k < n; ++k) {
          read.steps[k].loss = totals[k] / double(comm_->world_size());
          read.steps[k].correct = int64_t(totals[n + k]);
          read.steps[k].seen = int64_t(totals[2 * n + k]);
        }
        stop_now = totals[3 * n] > 0;
      }
      for (const auto& s : read.steps) {
        if (!std::isfinite(s.loss)) {
          fail("loss is {} at epoch {} iteration {} (step {}); stopping. The last good checkpoint is {}", s.loss,
               epoch + 1, s.iteration + 1, s.global_step + 1, last_good_checkpoint());
        }
        sums.loss += s.loss;
        sums.correct += s.correct;
        sums.seen += s.seen;
      }
      return std::make_pair(std::move(read), stop_now);
    };
    data::DeviceBatches uploads(*loader, device_);  // batch k+1's copy overlaps batch k's step
    // Ctrl-C (or a stop request) lands either between steps or inside the loader; both checkpoint here.
    auto interrupted = [&](const char* where) {
      // From inside the loader the window may hold steps: read them first (they go into the checkpoint's
      // sums, and a non-finite loss stops before the save). Data parallel this read is the rank's own, with
      // no collective: the other ranks are not at the same point.
      if (window.size() > 0) settle(false, false);
      if (iteration > 0) save_checkpoint(epoch, iteration, "interrupted", sums);
      const auto saved = iteration > 0 ? resume_path(output_dir_) : checkpoint_path(output_dir_, epoch);
      throw Interrupted(fmt::format(
          "interrupted {} at epoch {} iteration {}; {}; run the same command again to "
          "resume",
          where, epoch + 1, iteration,
          iteration > 0 || epoch > 0 ? "checkpoint saved to " + saved.string() : std::string("nothing trained yet")));
    };
    for (;;) {
      if (profiler && iteration >= resume_iteration_) profiler->begin_step();
      try {
        profile::PhaseScope data_phase(profile::Phase::Data);
        if (!uploads.next(batch)) {
          if (profiler) profiler->abandon_step();
          break;
        }
      } catch (const Interrupted&) { interrupted("while loading data"); }
      if (iteration < resume_iteration_) {  // resuming inside this epoch: these batches were trained
        ++iteration;
        continue;
      }
      methods::TrainBatch tb;
      {
        profile::PhaseScope data_phase(profile::Phase::Data);
        data::DeviceBatch d = uploads.upload();
        tb.images = std::move(d.images);
        tb.labels = std::move(d.labels);
        tb.domains = std::move(d.domains);
      }
      tb.host = &batch;
      tb.epoch = epoch;
      tb.iteration = iteration;
      tb.global_step = epoch * batches + iteration;
      const methods::StepResult r = step_graph ? step_graph->step(tb) : method_->train_step(tb, *optimizer_);
      window.add(r, tb.labels, iteration, tb.global_step);
      if (profiler && profiler->end_step() && is_root()) write_profile(*profiler);
      images += batch.size() * comm_->world_size();
      ++iteration;
      run_progress.advance();
      const bool print = iteration % print_freq == 0 || iteration == batches;
      // One process stops after any step (its flag is local, reading it waits for nothing); data parallel,
      // the ranks agree on stopping where they read, so that all of them stop after the same step.
      bool stop_now = comm_->world_size() == 1 && stop_ && stop_->load();
      if (print || window.full() || stop_now) {
        auto [read, stop] = settle(print, true);
        stop_now = stop;
        if (print) {
          const auto now = std::chrono::steady_clock::now();
          const double window_s = std::chrono::duration<double>(now - window_start).count();
          const double ips = double(images) / std::max(window_s, 1e-9);
          const double acc = sums.seen ? 100.0 * double(sums.correct) / double(sums.seen) : NAN;
          log_.info("epoch [{}/{}] batch [{}/{}] loss {:.4f} acc {:.2f} lr {:.4e} images/s {:.1f} eta {}", epoch + 1,
                    max_epoch, iteration, batches, sums.loss / double(iteration - sums_from), acc, lr, ips,
                    format_duration(run_progress.eta()));
          // The record's loss is the print step's own (as before the reads were batched).
          nlohmann::json rec = {{"type", "step"},
                                {"epoch", epoch + 1},
                                {"iteration", iteration},
                                {"step", tb.global_step + 1},
                                {"loss", read.steps.back().loss},
                                {"lr", lr},
                                {"images_per_s", ips}};
          for (auto& [k, v] : read.metrics) rec[k] = v;
          log_.record(rec);
          images = 0;
          window_start = now;
        }
      }
      if (after_step_) after_step_(tb.global_step);
      if (stop_now) interrupted("after a step");
    }
    if (window.size() > 0) settle(false, true);  // the loader ended short of `batches` (not expected)
    const int64_t summed = iteration - sums_from;
    resume_iteration_ = 0;
    resume_sums_.reset();
    epochs_done_ = epoch + 1;
    save_checkpoint(epochs_done_, 0, "epoch");
    log_.record({{"type", "epoch"},
                 {"epoch", epoch + 1},
                 {"loss", summed ? sums.loss / double(summed) : NAN},
                 {"train_accuracy", sums.seen ? 100.0 * double(sums.correct) / double(sums.seen) : NAN},
                 {"lr", lr}});
  }
  if (profiler && !profiler->done() && is_root()) write_profile(*profiler);
}

std::unique_ptr<StepGraph> Trainer::make_step_graph(bool profiling) {
  GraphFacts f;
  f.method = method_name_;
  f.method_capturable = method_->graph_capturable();
  f.device = device_;
  f.graphs_available = device_graphs_available(device_);
  f.sgd_f32 = dynamic_cast<optim::SGD*>(optimizer_.get()) != nullptr;
  for (const Tensor& p : optimizer_->params()) f.sgd_f32 = f.sgd_f32 && p.dtype() == DType::F32;
  f.world_size = comm_->world_size();
  f.profiling = profiling;
  const GraphDecision d = decide_step_graph(graph_mode_, f);
  if (!d.use) {
    if (graph_mode_ != GraphMode::Off && device_.is_cuda()) log_.info("CUDA graphs: not used, {}", d.reason);
    return nullptr;
  }
  log_.info("CUDA graphs: the training step is captured after {} eager steps and replayed", StepGraph::kWarmupSteps);
  return std::make_unique<StepGraph>(*method_, *optimizer_, device_, graph_mode_ == GraphMode::On,
                                     [this](const std::string& line) { log_.info("{}", line); });
}

void Trainer::write_profile(profile::StepProfiler& profiler) {
  const int64_t n = profiler.profiled_steps();
  const profile::Profile recorded = profiler.finish();
  if (n == 0) {
    log_.info("profile: no step was profiled (the run ended before the warm-up step was over)");
    return;
  }
  const profile::Peaks peaks = profile::device_peaks(device_);
  const std::string title =
      fmt::format("{} training step, {}, {} {}, batch {}", method_name_, clip_->config().summary(), device_.str(),
                  dtype_name(dtype_), cfg_.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"));
  const auto dir = output_dir_ / "profile";
  log_.line(profile::write_profile_files(recorded, profile::summarize(recorded, peaks, title), dir));
  log_.info("profile of {} step(s) written to {} (report.md, profile.json, trace.json, roofline.svg)", n, dir.string());
}

EvalResult Trainer::evaluate(data::Subsample subsample, const std::string& split) {
  CLIPT_CHECK(split == "test" || split == "val", "TEST.SPLIT must be test or val, got '{}'", split);
  data::DatasetSplits s = data::subsample_classes(splits_, subsample);
  std::vector<data::Sample> samples = split == "test" || s.val.empty() ? s.test : s.val;
  const std::vector<std::string> classnames = data::class_names(s.train.empty() ? samples : s.train);
  const auto class_split = methods::parse_class_split(data::subsample_name(subsample));
  method_->prepare_eval(classnames, class_split);
  auto loader = make_loader(samples, false);
  loader->start_epoch(0);
  EvalResult r;
  r.split = split;
  r.subsample = data::subsample_name(subsample);
  r.num_classes = int64_t(classnames.size());
  std::vector<int64_t> per_class_total(classnames.size()), per_class_correct(classnames.size());
  data::Batch batch;
  // Progress: redrawn on a terminal, else one log line per TRAIN.PRINT_FREQ batches.
  Progress progress(
      fmt::format("evaluating {} ({}, {} images)", split, r.subsample, samples.size()), loader->batches_per_epoch(),
      [this](const std::string& l) { log_.file_line(l); }, std::max<int64_t>(cfg_.get_int("TRAIN.PRINT_FREQ"), 1),
      log_.quiet() ? nullptr : Progress::terminal(stdout));
  data::DeviceBatches uploads(*loader, device_);
  while (uploads.next(batch)) {
    if (batch.size() == 0) continue;  // data parallel: a short last batch may leave this rank nothing
    Tensor logits = method_->eval_logits(uploads.upload().images);
    for (float v : logits.to(DType::F32).to_vector<float>())
      CLIPT_CHECK(std::isfinite(v),
                  "{} over CLIP {} gave a non-finite logit ({}) on {} ({}): its weights or inputs are broken (NaN or "
                  "Inf), so no accuracy is reported",
                  method_name_, resolve_model_dir(cfg_).string(), v, cfg_.get_string("DATASET.NAME"),
                  batch.paths.empty() ? std::string("a test batch") : "a batch starting with " + batch.paths.front());
    const auto pred = argmax(logits, 1).to_vector<int64_t>();
    const auto labels = batch.labels.to_vector<int64_t>();
    for (size_t k = 0; k < pred.size(); ++k) {
      const bool ok = pred[k] == labels[k];
      r.correct += ok;
      per_class_total[size_t(labels[k])] += 1;
      per_class_correct[size_t(labels[k])] += ok;
    }
    r.total += int64_t(pred.size());
    progress.advance();
    if (stop_ && stop_->load()) throw Interrupted("interrupted during evaluation");
  }
  if (comm_->world_size() > 1) {  // each rank evaluated its share of every batch: add the counts up
    std::vector<double> counts{double(r.correct), double(r.total)};
    for (size_t c = 0; c < classnames.size(); ++c) {
      counts.push_back(double(per_class_total[c]));
      counts.push_back(double(per_class_correct[c]));
    }
    counts = comm_->all_reduce(counts, dist::ReduceOp::Sum);
    r.correct = int64_t(counts[0]);
    r.total = int64_t(counts[1]);
    for (size_t c = 0; c < classnames.size(); ++c) {
      per_class_total[c] = int64_t(counts[2 + 2 * c]);
      per_class_correct[c] = int64_t(counts[3 + 2 * c]);
    }
  }
  r.accuracy = r.total ? 100.0 * double(r.correct) / double(r.total) : 0.0;
  double macro = 0;
  int64_t present = 0;
  for (size_t c = 0; c < classnames.size(); ++c)
    if (per_class_total[c]) {
      macro += double(per_class_correct[c]) / double(per_class_total[c]);
      ++present;
    }
  r.macro_accuracy = present ? 100.0 * macro / double(present) : 0.0;
  log_.info("=> {} on {} ({} classes, {}): {} images, {} correct, accuracy {:.2f}%, macro accuracy {:.2f}%", split,
            cfg_.get_string("DATASET.NAME"), r.num_classes, r.subsample, r.total, r.correct, r.accuracy,
            r.macro_accuracy);
  log_.record({{"type", "eval"}, {"result", r.to_json()}});
  return r;
}

void Trainer::write_results(const std::vector<EvalResult>& results, const std::filesystem::path& path) const {
  if (!is_root()) return;
  nlohmann::json evals = nlohmann::json::array();
  for (const auto& r : results) evals.push_back(r.to_json());
  nlohmann::json j = {{"method", method_name_},
                      {"dataset", cfg_.get_string("DATASET.NAME")},
                      {"seed", ctx_.seed},
                      {"shots", cfg_.get_int("DATASET.NUM_SHOTS")},
                      {"train_subsample", data::subsample_name(train_subsample_)},
                      {"epochs", epochs_done_},
                      {"device", device_.str()},
                      {"dtype", dtype_name(dtype_)},
                      {"evaluations", evals},
                      {"config", cfg_.dump()}};
  if (!results.empty()) {
    j["accuracy"] = results.front().accuracy;
    j["split"] = results.front().split;
    j["subsample"] = results.front().subsample;
  }
  io::write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace clipt::trainer
