// MetaPrompt beyond the golden trajectories: the meta step's bookkeeping (class halves, group-local
// labels, skipped splits, leave-one-domain-out over the domains present, a batch that lacks a domain),
// the class order as a pure function of (seed, step), what METAPROMPT.LEGACY_RESTORE changes (exactly
// the two effects of specs/metaprompt.md §1.6: the aliased restore and the drift of the frozen
// modality), and prediction by z = (z_V + z_T)/2 with W0 cached per class set.
#include "methods/metaprompt/metaprompt.h"

#include "data/templates.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/common/clip_features.h"
#include "methods/metaprompt/meta_splits.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using methods::meta::Episode;
using V = std::vector<int64_t>;

TEST(MetaSplits, ClassHalvesRelabelWithinTheShuffledGroups) {
  // Order 3,0,4 | 1,2: group 0 = {3, 0, 4} (local 0, 1, 2), group 1 = {1, 2} (local 0, 1).
  const auto e = methods::meta::class_half_episodes({3, 0, 4, 1, 2}, {0, 1, 2, 3, 4, 4, 1});
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].held_out, 0);
  EXPECT_EQ(e[0].query_classes, (V{3, 0, 4}));
  EXPECT_EQ(e[0].support_classes, (V{1, 2}));
  EXPECT_EQ(e[0].query_samples, (V{0, 3, 4, 5}));
  EXPECT_EQ(e[0].query_labels, (V{1, 0, 2, 2}));
  EXPECT_EQ(e[0].support_samples, (V{1, 2, 6}));
  EXPECT_EQ(e[0].support_labels, (V{0, 1, 0}));
  EXPECT_EQ(e[1].query_classes, (V{1, 2}));
  EXPECT_EQ(e[1].query_samples, e[0].support_samples);
  EXPECT_EQ(e[1].query_labels, e[0].support_labels);
  EXPECT_EQ(e[1].support_labels, e[0].query_labels);
}

TEST(MetaSplits, SplitsWithoutSamplesOrWithASingleQueryClassAreSkipped) {
  // Three classes: groups of 2 and 1; the one-class query group is skipped.
  auto e = methods::meta::class_half_episodes({2, 0, 1}, {0, 1, 2});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].held_out, 0);
  // No sample of group 1 in the batch: neither split has both a support and a query set.
  EXPECT_TRUE(methods::meta::class_half_episodes({0, 1, 2, 3}, {0, 1, 1}).empty());
  EXPECT_ERROR_CONTAINS(methods::meta::class_half_episodes({0, 1, 1}, {0}), "permutation");
  EXPECT_ERROR_CONTAINS(methods::meta::class_half_episodes({0, 1}, {2}), "label 2");
}

TEST(MetaSplits, LeaveOneDomainOutOverTheDomainsPresent) {
  const V labels{5, 6, 7, 8, 9, 10};
  auto e = methods::meta::domain_episodes({0, 1, 2, 0, 1, 2}, labels);
  ASSERT_EQ(e.size(), 3u);
  for (int64_t d = 0; d < 3; ++d) {
    EXPECT_EQ(e[size_t(d)].held_out, d);
    EXPECT_EQ(e[size_t(d)].query_samples, (V{d, d + 3}));
    EXPECT_EQ(e[size_t(d)].query_labels, (V{labels[size_t(d)], labels[size_t(d) + 3]}));  // global labels
    EXPECT_EQ(e[size_t(d)].support_samples.size(), 4u);
    EXPECT_TRUE(e[size_t(d)].support_classes.empty());  // all classes
  }
}

TEST(MetaSplits, ABatchThatLacksADomainIsSplitByTheDomainsItHas) {
  // Domain 1 is missing: the splits hold out domains 0 and 2 (the released code would pair split index 1
  // with domain label 1, which has no sample, and never hold out domain 2).
  auto e = methods::meta::domain_episodes({2, 0, 2, 2, 0}, {1, 2, 3, 4, 5});
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].held_out, 0);
  EXPECT_EQ(e[0].query_samples, (V{1, 4}));
  EXPECT_EQ(e[0].support_samples, (V{0, 2, 3}));
  EXPECT_EQ(e[1].held_out, 2);
  EXPECT_EQ(e[1].query_samples, (V{0, 2, 3}));
  EXPECT_EQ(e[1].support_samples, (V{1, 4}));
  // One domain only: nothing to hold out against.
  EXPECT_TRUE(methods::meta::domain_episodes({3, 3, 3}, {0, 1, 2}).empty());
}

TEST(MetaSplits, ClassOrderIsAPureFunctionOfSeedAndStep) {
  const V a = methods::meta::class_order(1, 17, 10);
  V sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (V{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(methods::meta::class_order(1, 17, 10), a);  // a resumed run draws the same halves
  int differ_step = 0, differ_seed = 0;
  for (int64_t s = 0; s < 20; ++s) {
    differ_step += methods::meta::class_order(1, s, 10) != methods::meta::class_order(1, s + 1, 10);
    differ_seed += methods::meta::class_order(1, s, 10) != methods::meta::class_order(2, s, 10);
  }
  EXPECT_GE(differ_step, 19);  // reshuffled every batch
  EXPECT_GE(differ_seed, 19);
}

// ---- the method on the tiny CLIP ----

class MetaPromptMethod : public ::testing::Test {
 protected:
  void SetUp() override {
    clip = clip::load_clip(test::golden_dir() / "clip_tiny");
    tok = std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny"));
    Generator gen(8);
    batch.images = randn({8, 3, 32, 32}, gen);
    batch.labels = Tensor::from_vector(V{0, 1, 2, 3, 4, 5, 1, 3}, {8});
    batch.domains = Tensor::from_vector(V{0, 1, 2, 0, 1, 2, 0, 1}, {8});
  }

  struct Run {
    std::unique_ptr<methods::Method> method;
    std::unique_ptr<optim::SGD> sgd;
    Config cfg;
    methods::StepResult result;
    Tensor text() { return method->trainable_parameters()[0].second; }
    Tensor vision() { return method->trainable_parameters()[1].second; }
  };

  // One training step of MetaPrompt (or MetaPrompt_DG) with the given restore semantics.
  std::unique_ptr<Run> step(const std::string& trainer, bool legacy, double momentum = 0.9, double wd = 5e-4) {
    auto r = std::make_unique<Run>();
    r->cfg = default_config();
    r->cfg.set("TRAINER.META.LAYERS", 2);
    r->cfg.set("METAPROMPT.LEGACY_RESTORE", legacy);
    methods::MethodContext ctx{clip.get(), tok.get(), &r->cfg, "", Device::cpu(), 1, ""};
    r->method = methods::create_method(trainer);
    r->method->build(ctx, classnames);
    dynamic_cast<methods::MetaPrompt&>(*r->method).set_class_order_for_testing([](int64_t, int64_t) {
      return V{4, 1, 3, 0, 5, 2};
    });
    std::vector<Tensor> params;
    for (auto& [n, p] : r->method->trainable_parameters()) params.push_back(p);
    r->sgd =
        std::make_unique<optim::SGD>(params, optim::SgdOptions{.lr = 0.05, .momentum = momentum, .weight_decay = wd});
    r->result = r->method->train_step(batch, *r->sgd);
    return r;
  }

  // `times` SGD steps of a parameter whose gradient is zero: buf ← μ·buf + wd·p, p ← p − lr·buf.
  // Returns the parameter and its momentum buffer.
  static std::pair<Tensor, Tensor> drift(Tensor p, Tensor buf, int times, double lr = 0.05, double mu = 0.9,
                                         double wd = 5e-4) {
    for (int k = 0; k < times; ++k) {
      buf = add(mul(buf, mu), mul(p, wd));
      p = sub(p, mul(buf, lr));
    }
    return {p, buf};
  }

  std::unique_ptr<clip::ClipModel> clip;
  std::unique_ptr<clip::Tokenizer> tok;
  methods::TrainBatch batch;
  const std::vector<std::string> classnames{"red circle", "blue square", "green triangle", "small star", "dog", "cat"};
};

TEST_F(MetaPromptMethod, LegacyRestoreKeepsTheInnerStepOnGroupZeroAndDriftsTheFrozenVisionPrompts) {
  auto clean = step("MetaPrompt", false), legacy = step("MetaPrompt", true);
  ASSERT_EQ(clean->result.metric("meta_episodes"), 2.0);
  ASSERT_EQ(legacy->result.metric("meta_episodes"), 2.0);
  EXPECT_EQ(clean->result.loss.item(), legacy->result.loss.item());  // the in-domain step is the same
  // Both runs take the same inner steps from the same points (the first restore works in both), so the
  // text prompts' momentum buffers agree, and the last inner step — the second split, whose support is
  // group 0 — moved the text prompts by −lr·buffer. Legacy keeps that move (§1.6 item 1):
  //   legacy = θ + Δ(inner step on group 0) − 0.2·lr·(g0 + g1) = clean − lr·buffer.
  const Tensor buffer = clean->sgd->momentum_buffer(0);
  EXPECT_TRUE(test::bit_equal(legacy->sgd->momentum_buffer(0), buffer));
  EXPECT_ALL_CLOSE(legacy->text(), sub(clean->text(), mul(buffer, 0.05)), 1e-5, 1e-8);
  EXPECT_FALSE(test::all_close(legacy->text(), clean->text(), 1e-3, 1e-6));
  // Clean: the vision prompts and their buffer stay as the in-domain step left them. Legacy: the two
  // inner steps apply momentum and weight decay to them (§1.6 item 2).
  const auto [drifted, drifted_buffer] = drift(clean->vision(), clean->sgd->momentum_buffer(1), 2);
  EXPECT_ALL_CLOSE(legacy->vision(), drifted, 1e-6, 1e-9);
  EXPECT_ALL_CLOSE(legacy->sgd->momentum_buffer(1), drifted_buffer, 1e-6, 1e-9);
  EXPECT_FALSE(test::all_close(legacy->vision(), clean->vision(), 1e-7, 0.0));
}

TEST_F(MetaPromptMethod, WithoutMomentumAndDecayTheFrozenModalityDoesNotDrift) {
  auto clean = step("MetaPrompt", false, 0.0, 0.0), legacy = step("MetaPrompt", true, 0.0, 0.0);
  EXPECT_TRUE(test::bit_equal(legacy->vision(), clean->vision()));
  EXPECT_FALSE(test::all_close(legacy->text(), clean->text(), 1e-3, 1e-6));  // the aliasing remains
}

TEST_F(MetaPromptMethod, DomainGeneralisationMetaLearnsTheVisionPromptsOnly) {
  auto clean = step("MetaPrompt_DG", false), legacy = step("Meta_DG", true);
  ASSERT_EQ(clean->result.metric("meta_episodes"), 3.0);
  // The text prompts are frozen in the DG meta step: untouched (clean), or drifted by the three inner
  // steps (legacy), which never depend on them otherwise.
  EXPECT_ALL_CLOSE(legacy->text(), drift(clean->text(), clean->sgd->momentum_buffer(0), 3).first, 1e-6, 1e-9);
  EXPECT_FALSE(test::all_close(legacy->vision(), clean->vision(), 1e-3, 1e-6));
}

TEST_F(MetaPromptMethod, DomainGeneralisationNeedsDomainLabels) {
  methods::TrainBatch b = batch;
  b.domains = Tensor();
  Config cfg = default_config();
  cfg.set("TRAINER.META.LAYERS", 2);
  methods::MethodContext ctx{clip.get(), tok.get(), &cfg, "", Device::cpu(), 1, ""};
  auto m = methods::create_method("MetaPrompt_DG");
  m->build(ctx, classnames);
  std::vector<Tensor> params;
  for (auto& [n, p] : m->trainable_parameters()) params.push_back(p);
  optim::SGD sgd(params, {.lr = 0.01});
  EXPECT_ERROR_CONTAINS(m->train_step(b, sgd), "domain labels");
}

TEST_F(MetaPromptMethod, PredictsByTheMeanOfTheTwoAsymmetricLogits) {
  Config cfg = default_config();
  cfg.set("TRAINER.META.LAYERS", 2);
  methods::MethodContext ctx{clip.get(), tok.get(), &cfg, "oxford_pets", Device::cpu(), 1, ""};
  auto m = methods::create_method("MetaPrompt");
  m->build(ctx, classnames);
  const std::vector<std::string> new_classes{"cat", "dog", "blue circle"};
  m->prepare_eval(new_classes, methods::ClassSplit::New);
  Tensor z = m->eval_logits(batch.images);
  ASSERT_EQ(z.shape(), (Shape{8, 3}));
  // Reference from the pieces: W0 from the dataset's MetaPrompt template, the prompted towers through the
  // method's hooks (the prompted text of the new classes via a second build on them).
  NoGrad ng;
  const double s = clip->logit_scale_value();
  Tensor w0 = methods::hand_made_text_features(ctx, new_classes, data::metaprompt_templates("oxford_pets"));
  auto on_new = methods::create_method("MetaPrompt");
  on_new->build(ctx, new_classes);  // same seed: the same prompts
  Tensor z_v = mul(matmul(on_new->image_features(batch.images), w0.t()), s);
  Tensor z_t = mul(matmul(methods::frozen_image_features(ctx, batch.images), on_new->text_features().t()), s);
  EXPECT_ALL_CLOSE(z, mul(add(z_v, z_t), 0.5), 1e-5, 1e-5);
  // Evaluating the base classes again, then the new ones, gives the same logits (W0 cached per set).
  m->prepare_eval(classnames, methods::ClassSplit::Base);
  m->prepare_eval(new_classes, methods::ClassSplit::New);
  EXPECT_TRUE(test::bit_equal(m->eval_logits(batch.images), z));
}

}  // namespace
}  // namespace clipt
