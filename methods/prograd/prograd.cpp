// ProGrad (Zhu et al., ICCV 2023; BeierZhu/Prompt-align trainers/prograd.py): CoOp's prompt trained
// with two losses on one forward — the cross-entropy, and the distillation to zero-shot CLIP
// T²·mean_i Σ_k p0_ik·(−log softmax(z_i/T)_k) with p0 = softmax(z0/T) (the gradient of KL(p0‖p)) — and
// a step on the cross-entropy gradient with its component against the distillation gradient removed
// (per parameter tensor, λ = LOSS.LAMBDA): methods/common/gradient_shaping.h.
// z0 are frozen CLIP's logits with ProGrad's own per-dataset template (data::prograd_template: "a type of
// pet, a photo of a {}." for OxfordPets, "a texture of {}." for DTD, ...; "a photo of a {}." by default),
// whose text features are computed once at build; the image features are shared by both logits.
// The context, as the released PromptLearner: TRAINER.COOP.N_CTX vectors (16 by default and in ProGrad's
// scripts); with CTX_INIT True, zeros then the embeddings of the template's words (the template without
// " {}.") in the last rows, the prompt reading "X … X <template words> <class>." (PromptLearnerOptions::
// init_words_at_end). The released trainer reads any true CTX_INIT as "the dataset's template words";
// clipt does so for True (the peers' configs) and initialises from a CTX_INIT string's own words, so a
// string still means what it says.
// LOSS.NAME "prograd" (the peers' recipe) or empty; T = LOSS.T (1), λ = LOSS.LAMBDA (1).
// loss() is the cross-entropy (the objective the projection protects), plus the KL as a metric.
#include "data/templates.h"
#include "engine/ops/ops.h"
#include "methods/builtin.h"
#include "methods/common/clip_features.h"
#include "methods/common/gradient_shaping.h"
#include "methods/coop/coop.h"

namespace clipt::methods {

namespace {

class ProGrad final : public CoOp {
 public:
  void build(const MethodContext& ctx, const std::vector<std::string>& classnames) override {
    const Config& cfg = *ctx.cfg;
    const std::string loss_name = cfg.get_string("LOSS.NAME");
    CLIPT_CHECK(loss_name.empty() || loss_name == "prograd",
                "ProGrad: LOSS.NAME '{}' is not supported (expected 'prograd')", loss_name);
    temperature_ = cfg.get_float("LOSS.T");
    lambda_ = cfg.get_float("LOSS.LAMBDA");
    CLIPT_CHECK(temperature_ > 0, "ProGrad: LOSS.T must be positive, got {}", temperature_);
    CoOp::build(ctx, classnames);
    zeroshot_text_ = hand_made_text_features(ctx, classnames, {data::prograd_template(ctx.dataset)});
  }

  // The released template words of the dataset: its ProGrad template without " {}.".
  static std::string template_words(const std::string& dataset) {
    std::string words = data::prograd_template(dataset);
    const auto at = words.find(" {}.");
    if (at != std::string::npos) words.erase(at, 4);
    return words;
  }

 protected:
  PromptLearnerOptions learner_options(const Config& cfg) const override {
    PromptLearnerOptions o = CoOp::learner_options(cfg);
    const ConfigValue& init = cfg.get("TRAINER.COOP.CTX_INIT");
    // ctx_ is set before CoOp::build asks for the options; its dataset is the run's DATASET.NAME.
    if (init.kind() == ConfigValue::Kind::Bool && init.as_bool()) o.ctx_init = template_words(ctx_.dataset);
    o.init_words_at_end = true;
    return o;
  }

 public:
  LossResult loss(const TrainBatch& batch) override {
    Losses l = losses(batch);
    return {l.ce, l.logits.detach(), {{"kl", l.kl.detach()}}};
  }

  // The projection is chosen on the host from the gradients' dot product: not replayable from a graph.
  bool graph_capturable() const override { return false; }

  StepResult train_step(const TrainBatch& batch, optim::Optimizer& optimizer) override {
    TrainBatch cached = batch;
    precompute(cached);
    Losses l = losses(cached);
    LossResult reported{l.ce, l.logits.detach(), {{"kl", l.kl.detach()}}};
    return projected_gradient_step(l.ce, l.kl, lambda_, optimizer, reported);
  }

 private:
  struct Losses {
    Tensor ce, kl, logits;
  };

  Losses losses(const TrainBatch& batch) {
    const Tensor image = batch_image_features(batch);
    Losses l;
    l.logits = cosine_logits(image, text_features(), scale_);
    l.ce = cross_entropy(l.logits, batch.labels);
    Tensor teacher;
    {
      NoGrad ng;
      teacher = softmax(div(cosine_logits(image, zeroshot_text_, scale_), temperature_), 1);
    }
    l.kl = mul(cross_entropy_soft(div(l.logits, temperature_), teacher), temperature_ * temperature_);
    return l;
  }

  double temperature_ = 1.0, lambda_ = 1.0;
  Tensor zeroshot_text_;
};

}  // namespace

void register_prograd() {
  register_method("ProGrad", [] { return std::make_unique<ProGrad>(); });
}

}  // namespace clipt::methods
