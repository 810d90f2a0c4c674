// The trainer: Dassl's TrainerX loop around a method plugin. It owns the data (dataset reader,
// few-shot protocol, base/new subsampling, loaders), the optimizer and its Dassl schedule, precision,
// checkpoints (every epoch, atomic; resume continues bit-identically), logging (progress line,
// log.txt, metrics.jsonl), evaluation (text features once per class set) and results.json.
#pragma once
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/subsample.h"
#include "data/transforms.h"
#include "engine/optim/lr_schedule.h"
#include "engine/profile/step_profiler.h"
#include "methods/method.h"
#include "methods/trainer/run_log.h"
#include "methods/trainer/step_graph.h"

namespace clipt::trainer {

struct EvalResult {
  std::string split;      // test | val
  std::string subsample;  // all | base | new
  int64_t num_classes = 0;
  int64_t correct = 0, total = 0;
  double accuracy = 0;        // percent
  double macro_accuracy = 0;  // mean per-class accuracy, percent
  nlohmann::json to_json() const;
};

// An epoch's running sums while training (loss over its steps, correct / seen training predictions);
// a mid-epoch checkpoint carries them so the resumed epoch's record covers the whole epoch.
struct EpochSums {
  double loss = 0;
  int64_t correct = 0, seen = 0;
};

// The optimizer OPTIM.NAME names over `params` (SGD for sgd/sam/gcsam, AdamW or Adam).
std::unique_ptr<optim::Optimizer> make_optimizer(const Config& cfg, std::vector<Tensor> params);

class Trainer {
 public:
  // Reads everything `cfg` names (model, dataset, method). `stop` is polled between steps (Ctrl-C).
  // `eval_model_dir`: the run an evaluation-only trainer will load (see MethodContext::eval_model_dir).
  // Data parallel when the process was launched with several ranks (`comm` defaults to dist::world()):
  // each rank takes its share of every global batch, gradients are averaged, evaluation is sharded and
  // only rank 0 writes checkpoints and results (the caller gives the other ranks a silent RunLog).
  Trainer(const Config& cfg, RunLog& log, const std::atomic<bool>* stop = nullptr,
          const std::filesystem::path& eval_model_dir = {}, dist::Communicator* comm = nullptr);
  ~Trainer();

  // Trains for OPTIM.MAX_EPOCH epochs, resuming from the newest checkpoint in OUTPUT_DIR if there is
  // one. Checkpoints after every epoch. Throws Interrupted after saving a checkpoint when stopped.
  void train();
  // Evaluates the current state on `split` of the classes of `subsample`.
  EvalResult evaluate(data::Subsample subsample, const std::string& split = "test");
  // Loads a checkpoint (a file, or a run folder + epoch; epoch < 0 = the newest).
  void load(const std::filesystem::path& run_or_file, int64_t epoch = -1);
  // Writes results.json (atomic) with the evaluations and the run's identity.
  void write_results(const std::vector<EvalResult>& results, const std::filesystem::path& path) const;

  // Profiles `steps` training steps after one warm-up step (`clipt train --profile N`): the tables go to
  // the log and OUTPUT_DIR/profile/ gets report.md, profile.json, trace.json and roofline.svg.
  void set_profile_steps(int64_t steps) { profile_steps_ = steps; }

  // Called after every optimisation step with the global step index (progress hooks, tests).
  void set_after_step(std::function<void(int64_t global_step)> f) { after_step_ = std::move(f); }

  methods::Method& method() { return *method_; }
  const methods::MethodContext& context() const { return ctx_; }
  const Config& config() const { return cfg_; }
  const std::filesystem::path& output_dir() const { return output_dir_; }
  int64_t epochs_done() const { return epochs_done_; }
  // Class names of the training split.
  const std::vector<std::string>& train_classnames() const { return train_classnames_; }
  const data::DatasetSplits& splits() const { return splits_; }

  // The checkpoint file of epoch `epoch` (1-based count of finished epochs) in a run folder.
  static std::filesystem::path checkpoint_path(const std::filesystem::path& run, int64_t epoch);
  // Newest checkpoint epoch in a run folder, or 0.
  static int64_t latest_checkpoint(const std::filesystem::path& run);
  // The checkpoint training in `run` continues from: the newest epoch checkpoint, or a later mid-epoch
  // one (after Ctrl-C); empty when there is none.
  static std::filesystem::path resume_checkpoint(const std::filesystem::path& run);
  // Refuses to continue from `checkpoint` when it was trained under another recipe (a key that decides
  // the weights differs from `cfg`): an Error naming the first such key and both values. A larger
  // OPTIM.MAX_EPOCH extends the run and is accepted.
  static void check_resumable(const Config& cfg, const std::filesystem::path& checkpoint);

 private:
  void build_optimizer();
  void save_checkpoint(int64_t epochs_done, int64_t iteration, const std::string& reason, const EpochSums& sums = {});
  void restore(const std::filesystem::path& file, bool with_optimizer);
  // The newest epoch checkpoint of the run, or "none (first epoch)": for the messages that stop a diverged run.
  std::string last_good_checkpoint() const;
  // Fails (naming the parameter, epoch and last good checkpoint) when a trainable parameter holds a NaN or
  // an Inf, so that no checkpoint is written from a diverged run.
  void check_finite_parameters(int64_t epochs_done, int64_t iteration) const;
  // The CUDA graph runner of this run's steps (CLIPT.CUDA_GRAPH), or null for eager steps.
  std::unique_ptr<StepGraph> make_step_graph(bool profiling);
  std::unique_ptr<data::DataLoader> make_loader(std::vector<data::Sample> samples, bool train) const;
  bool is_root() const { return comm_->rank() == 0; }

  Config cfg_;
  RunLog& log_;
  const std::atomic<bool>* stop_;
  dist::Communicator* comm_;
  std::filesystem::path output_dir_;
  Device device_;
  DType dtype_;
  GraphMode graph_mode_ = GraphMode::Off;
  std::string method_name_;
  std::unique_ptr<clip::ClipModel> clip_;
  std::unique_ptr<clip::Tokenizer> tokenizer_;
  methods::MethodContext ctx_;
  std::unique_ptr<methods::Method> method_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<optim::LrSchedule> schedule_;
  data::DatasetSplits splits_;  // after the few-shot protocol, before base/new subsampling
  data::Subsample train_subsample_ = data::Subsample::All;
  std::vector<data::Sample> train_samples_;
  std::vector<std::string> train_classnames_;
  data::TransformConfig transforms_;
  int64_t epochs_done_ = 0;
  int64_t resume_iteration_ = 0;          // > 0 when resuming inside an epoch (after Ctrl-C)
  std::optional<EpochSums> resume_sums_;  // that epoch's sums up to resume_iteration_
  std::function<void(int64_t)> after_step_;
  int64_t profile_steps_ = 0;
  void write_profile(profile::StepProfiler& profiler);
};

// Loads a checkpoint's method parameters and extra state (not the optimizer) into `method`, which must
// have been built for the same classes; returns the checkpoint's metadata. For methods that reuse
// another run (DPC loading its stage-1 backbone).
nlohmann::json load_method_weights(methods::Method& method, const std::filesystem::path& file, Device device);

}  // namespace clipt::trainer
