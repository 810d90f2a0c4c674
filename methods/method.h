// The prompt-learning method plugin contract. A method owns its trainable parameters, how it builds
// class prompts, its train and test logits over a class set and its loss; it may also take over the
// whole optimisation step (SAM-style two-pass steps, gradient projection, meta-learning inner steps
// with parameter restore) and keep extra state in checkpoints (a second stage's frozen first-stage
// prompt). The trainer owns data, optimizer and schedule, precision, checkpoints, logging, evaluation
// and the base-to-new protocol, and never needs to know which method it runs.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/loader.h"
#include "engine/config/config.h"
#include "engine/dist/communicator.h"
#include "engine/nn/module.h"
#include "engine/optim/optimizer.h"
#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"

namespace clipt::methods {

// Which classes an evaluation covers, so methods that treat base and new classes differently (DPC's
// weighting-decoupling) know which rule applies.
enum class ClassSplit { Base, New, All };
ClassSplit parse_class_split(const std::string& subsample);  // "base" | "new" | "all"
const char* class_split_name(ClassSplit s);

// What a method may use. The CLIP model is frozen and shared; methods that need a trainable copy of
// part of it (pretraining) make their own.
struct MethodContext {
  clip::ClipModel* clip = nullptr;
  const clip::Tokenizer* tokenizer = nullptr;
  const Config* cfg = nullptr;
  std::string dataset;  // registry or Dassl name, for hand-made templates
  Device device;
  uint64_t seed = 1;
  std::string output_dir;  // where the run writes (stage-2 methods look for stage-1 runs nearby)
  // An evaluation-only run (--eval-only --model-dir): the run folder (or checkpoint file) it evaluates,
  // so a stage-2 method builds over the stage 1 that run was trained over.
  std::string eval_model_dir;
  // For methods that train a sub-run inside build() (DPC's stage 1): the run's stop flag (Ctrl-C), a
  // line to the run's log, and whether the run keeps its progress off the console.
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const std::string&)> log;
  bool quiet = false;
  // Data parallelism: the job's communicator (null: one process), and whether the text tower is
  // class-sharded (each rank encodes its share of the class prompts; the features are all-gathered).
  dist::Communicator* comm = nullptr;
  bool shard_text = false;
};

// A method trained on top of another (DPC over its backbone) may report the other's evaluations from
// the same run, so that tables show both rows: its name and accuracy (percent) by subsample.
struct BaselineResult {
  std::string method;
  std::map<std::string, double> accuracy;  // "base", "new", "all"
};

// One training batch, already on the device.
struct TrainBatch {
  Tensor images;                      // f32 [B, 3, H, W]
  Tensor labels;                      // i64 [B]
  Tensor domains;                     // i64 [B]
  const data::Batch* host = nullptr;  // paths, sample indices (e.g. for DPC's hard negatives)
  int64_t epoch = 0;
  int64_t iteration = 0;  // within the epoch
  int64_t global_step = 0;
  // Forward results that do not depend on the trainable parameters (e.g. frozen image features), put
  // here by Method::precompute so that steps running several forwards on one batch (SAM-family, ProGrad)
  // compute them once. Methods read them when present and compute them otherwise.
  std::map<std::string, Tensor> cache;
};

// Method-specific numbers for metrics.jsonl, as 0-d tensors outside the tape: values computed on the
// device stay there (the trainer reads them only when it logs a step, issue 19: every host read waits
// for the stream), numbers the step already has on the host are cpu scalars (host_metric).
using Metrics = std::map<std::string, Tensor>;
Tensor host_metric(double value);  // f64 0-d cpu tensor
// The value of metric `name` (a host read; an error naming the known metrics when it is missing).
double metric_value(const Metrics& metrics, const std::string& name);

// What a training step hands back. Nothing in it has been read to the host: a step queues no device→host
// wait, and the trainer reads loss and accuracy once per print window.
struct StepResult {
  Tensor loss;      // 0-d, detached (the objective the step minimised; f32)
  Tensor logits;    // optional: [B, C] for the training accuracy in the progress line (detached)
  Metrics metrics;  // method-specific numbers for metrics.jsonl
  double metric(const std::string& name) const { return metric_value(metrics, name); }
};

struct LossResult {
  Tensor loss;    // 0-d, f32 (on the tape)
  Tensor logits;  // optional, see StepResult
  Metrics metrics;
  double metric(const std::string& name) const { return metric_value(metrics, name); }
};

class Method {
 public:
  virtual ~Method() = default;

  // Builds prompts and parameters for training on `classnames` (the base classes in base-to-new).
  virtual void build(const MethodContext& ctx, const std::vector<std::string>& classnames) = 0;
  // The trainable parameters (f32 leaves) with their checkpoint names. Empty: nothing to train.
  virtual nn::NamedTensors trainable_parameters() const = 0;

  // The training objective of one batch (used by the default train_step).
  virtual LossResult loss(const TrainBatch& batch) = 0;
  // Fills batch.cache with what loss() needs that does not depend on the trainable parameters (CoOp:
  // the frozen image features), so two-pass steps reuse it. Default: nothing to cache.
  virtual void precompute(TrainBatch& batch) {}
  // One optimisation step. Default: zero_grad → loss → backward → optimizer.step().
  virtual StepResult train_step(const TrainBatch& batch, optim::Optimizer& optimizer);

  // Evaluation: called once per class set (methods cache their text features here), then per batch.
  virtual void prepare_eval(const std::vector<std::string>& classnames, ClassSplit split) = 0;
  virtual Tensor eval_logits(const Tensor& images) = 0;  // f32 [B, C]

  // ---- Hooks for methods that wrap another method (DPC's second stage) ----
  // The method's prompt tensors as rebindable slots: a wrapper may point a slot at another tensor (a
  // frozen copy, or a decoded prompt on the tape) for the duration of a forward, then restore it. The
  // method must read its prompts through these slots at every forward. Empty: no prompts to wrap.
  virtual std::vector<std::pair<std::string, Tensor*>> prompt_slots() { return {}; }
  // L2-normalised f32 features under the current prompts (on the tape where prompts take part): the
  // image features of a batch, and the text features of the training classes (all, or `rows`).
  virtual Tensor image_features(const Tensor& images);
  virtual Tensor text_features(const std::vector<int64_t>& rows = {});

  // State beyond the trainable parameters that a checkpoint must carry (names must not collide).
  virtual nn::NamedTensors extra_state() const { return {}; }
  virtual void load_extra_state(const std::map<std::string, Tensor>& state) {}
  // Called by the trainer at the start of every epoch, with the training loader (methods that load
  // extra images, like DPC's hard negatives, keep the pointer for the epoch).
  virtual void on_epoch_begin(int64_t epoch, data::DataLoader* train_loader) {}
  // Whether train_step is exact under data parallelism (every rank a share of the batch, gradients
  // averaged where the step uses them). Methods whose loss couples the samples of a batch in ways the
  // averaging does not reproduce say no, and a run of several ranks refuses them.
  virtual bool supports_data_parallel() const { return true; }
  // Whether train_step may be captured once into a CUDA graph and replayed (CLIPT.CUDA_GRAPH, see
  // methods/trainer/step_graph.h): the same kernels on the same shapes every step (drop_last batches), no
  // host read, upload or random draw inside the step, no host state that changes between steps, and its
  // loss, logits and metrics device tensors of fixed shapes. Default: no.
  virtual bool graph_capturable() const { return false; }
  // The wrapped method's own results (see BaselineResult); none by default.
  virtual std::optional<BaselineResult> baseline() const { return std::nullopt; }
};

using MethodFactory = std::function<std::unique_ptr<Method>()>;

// Registers a method under its trainer name (as in the peers' --trainer) and optional aliases.
// `config_group` is the peers' key group holding its options, whose PREC key sets the precision.
void register_method(const std::string& name, MethodFactory factory, std::vector<std::string> aliases = {},
                     std::string config_group = "TRAINER.COOP");
// The config group of a method ("TRAINER.COOP", "TRAINER.COCOOP", ...).
std::string method_config_group(const std::string& name);
// Creates a method by name; an unknown name is an error listing the known ones and the closest.
std::unique_ptr<Method> create_method(const std::string& name);
std::vector<std::string> method_names();
// The canonical name for a name or alias.
std::string canonical_method_name(const std::string& name);

}  // namespace clipt::methods
