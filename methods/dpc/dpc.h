// DPC, Dual-Prompt Collaboration (Li et al., CVPR 2025; specs/dpc.md), as a plug-in second stage over
// any prompt method that declares its prompts (Method::prompt_slots):
//  - stage 1: the backbone (DPC.BACKBONE, default CoOp) trained as usual — inside this run or an
//    existing clipt run (stage1.h);
//  - stage 2: the parallel prompt P′ is cloned from the tuned prompt P (every slot: shallow or deep,
//    text or vision), P stays frozen, and P′ is trained with the Dynamic Hard Negative Optimizer only:
//    per batch, hard negatives mined with the frozen stage-1 model (hard_negatives.h), one image per
//    negative class through the training augmentation and the loader's workers, and a symmetric
//    image–text contrastive loss over the built batch;
//  - evaluation: Weighting-Decoupling (weighting.h) — base classes with P′ (released-code semantics),
//    new classes with ω_n·P′ + (1−ω_n)·P, which is P itself for ω_n = 0.
// The backbone is a real instance of its method built on this run's CLIP; DPC rebinds its prompt slots
// to P, to the decoded P′ (on the tape) or to an evaluation prompt around each use of its
// image_features / text_features / prepare_eval / eval_logits. Nothing CoOp-specific is assumed.
#pragma once
#include <memory>
#include <optional>

#include "engine/dist/dist_ops.h"
#include "methods/dpc/hard_negatives.h"
#include "methods/dpc/weighting.h"
#include "methods/method.h"

namespace clipt::methods::dpc {

enum class NegativeSource { FewShot, Library };

struct DpcOptions {
  Weighting weighting;
  int64_t top_k = 8;       // SPLE.INFER_TOPK
  bool clone_init = true;  // SPLE.SPLE_TRAINER.SPLE_INIT
  NegativeSource negatives = NegativeSource::FewShot;
  std::string library;  // SPLE.PIC_LIB
  static DpcOptions from_config(const Config& cfg);
};

// A batch built by the optimizer: the loader's anchors and the negatives' images, and for every row of
// the built batch its label and where its image is (anchor i → i, negative j → B + j).
struct BuiltBatch {
  Tensor anchor_images;    // [B, 3, H, W]
  Tensor negative_images;  // [n, 3, H, W] (undefined when n = 0)
  std::vector<int64_t> labels;
  std::vector<int64_t> source;
  int64_t size() const { return int64_t(labels.size()); }
};
// Rows in the released order: anchor i, then its negatives.
BuiltBatch assemble_batch(const Tensor& anchor_images, const std::vector<int64_t>& anchor_labels,
                          const std::vector<std::vector<int64_t>>& negatives, const Tensor& negative_images);

// ½·[CE(s·F·Tᵀ, arange N) + CE((s·F·Tᵀ)ᵀ, arange N)] for normalised F, T [N, D] (row i of each is pair i).
Tensor symmetric_contrastive_loss(const Tensor& image_features, const Tensor& text_features, double scale);

class Dpc final : public Method {
 public:
  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override;
  // What build() does once stage 1 is loaded: wraps `backbone`, built on `classnames` with its prompts
  // holding the tuned P. `fresh` are its prompts before P was loaded (SPLE_INIT False starts from them).
  void build_over(const MethodContext& ctx, const std::vector<std::string>& classnames,
                  std::unique_ptr<Method> backbone, const std::vector<Tensor>& fresh = {});

  nn::NamedTensors trainable_parameters() const override;
  // Mines hard negatives for the batch, builds the batch and returns its contrastive loss. Data parallel
  // (several ranks): the mining and the loss cover the whole global batch (data_parallel_loss).
  LossResult loss(const TrainBatch& batch) override;
  void prepare_eval(const std::vector<std::string>& classnames, ClassSplit split) override;
  Tensor eval_logits(const Tensor& images) override;
  nn::NamedTensors extra_state() const override;
  void load_extra_state(const std::map<std::string, Tensor>& state) override;
  void on_epoch_begin(int64_t epoch, data::DataLoader* train_loader) override;
  std::optional<BaselineResult> baseline() const override { return baseline_; }

  // ---- The steps of loss(), public for tests and the benchmark ----
  struct Mined {
    NegativeSelection selection;
    Tensor anchor_features;  // frozen stage-1 features of the anchors [B, D]
  };
  // Steps 1–4 of the mining with the frozen stage-1 model; `draw` gives the fallback's class ids.
  Mined mine(const Tensor& anchor_images, const std::vector<int64_t>& labels, const FallbackDraw& draw);
  // The contrastive loss of a built batch under the current P′. `anchor_features` (from mine()) are
  // reused when the backbone's image features do not depend on its prompts.
  LossResult contrastive_loss(const BuiltBatch& batch, const Tensor& anchor_features = {});

  Method& backbone() { return *backbone_; }
  const DpcOptions& options() const { return options_; }
  const std::vector<Tensor>& tuned_prompts() const { return tuned_; }  // P, per slot
  const std::vector<Tensor>& parameters() const { return stored_; }    // M (code) or P′ (figure)
  // P′ per slot as CLIP sees it in training, and the evaluation prompts of each rule (no tape).
  std::vector<Tensor> parallel_prompts() const;
  std::vector<Tensor> eval_prompts(bool new_class_rule) const;
  bool image_features_use_prompts() const { return image_features_use_prompts_; }

 private:
  void bind(const std::vector<Tensor>& prompts);
  std::vector<Tensor> decoded_on_tape() const;
  // Loads one image per negative class through the training loader's workers (`rows`: only those of
  // the list, every class's image still drawn so that the generator advances as for the whole list).
  Tensor negative_images(const std::vector<int64_t>& classes, int64_t epoch, int64_t global_step, Generator& gen,
                         std::optional<dist::RowShard> rows = std::nullopt);
  // Steps 1–4 of the mining from the anchors' frozen stage-1 features.
  NegativeSelection select_negatives(const Tensor& anchor_features, const std::vector<int64_t>& labels,
                                     const FallbackDraw& draw) const;
  LossResult data_parallel_loss(const TrainBatch& batch);
  // The text features of each row's class under the bound prompts (each class encoded once).
  Tensor batch_text_features(const std::vector<int64_t>& row_labels);
  static void add_metrics(LossResult& r, int64_t built, int64_t negatives, const NegativeSelection& s);

  MethodContext ctx_;
  DpcOptions options_;
  std::string dataset_;
  std::vector<std::string> classnames_;   // the training (base) classes
  std::unique_ptr<Config> backbone_cfg_;  // the stage-1 config the backbone reads (outlives it)
  std::unique_ptr<Method> backbone_;
  std::vector<std::pair<std::string, Tensor*>> slots_;
  std::vector<Tensor> tuned_;   // P per slot (frozen)
  std::vector<Tensor> stored_;  // the trainable parameter per slot (f32 leaves)
  int64_t n_base_ = 0;
  double scale_ = 100.0;
  Tensor query_text_;  // frozen stage-1 text features of the base classes, computed once
  bool image_features_use_prompts_ = true;
  std::optional<BaselineResult> baseline_;
  data::DataLoader* loader_ = nullptr;
  NegativePool pool_;
  bool pool_ready_ = false;
  bool trains_on_stage1_classes_ = true;
};

}  // namespace clipt::methods::dpc
