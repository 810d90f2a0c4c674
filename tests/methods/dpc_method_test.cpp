// DPC's Weighting-Decoupling and stage-2 step on the tiny CLIP fixture: the prompt rules against their
// formulas, ω_n = 0 giving the backbone's new-class logits bit for bit, the released-code semantics
// being SGD on P′ at lr/ω_b² (the figure semantics trained at that rate), the symmetric contrastive
// loss against a hand computation, and what is trained and checkpointed.
#include <cmath>

#include "engine/ops/ops.h"
#include "tests/methods/dpc_test_util.h"

namespace clipt::methods::dpc {
namespace {

using test::dpc::TinyClip;

Tensor images(uint64_t seed, int64_t n) {
  Generator g(seed);
  return randn({n, 3, 32, 32}, g);
}

TEST(DpcWeighting, CodeSemanticsDecodesTheStoredPromptAndMixesNewClasses) {
  const Tensor P = test::dpc::random_prompt(1), M = test::dpc::random_prompt(2);
  const Weighting w{Semantics::Code, 0.2, 0.3};
  const Tensor X = parallel_prompt(M, P, w);
  const auto p = P.to_vector<float>(), m = M.to_vector<float>(), x = X.to_vector<float>();
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(x[i], (m[i] - 0.8 * p[i]) / 0.2, 1e-5) << i;
  EXPECT_TRUE(test::bit_equal(base_prompt(M, P, w), X));
  const auto n = new_prompt(M, P, w).to_vector<float>();
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(n[i], 0.3 * x[i] + 0.7 * p[i], 1e-5) << i;
  // The released load_model: ctx ← ω_n·M + (1−ω_n)·P, then the forward decodes it — the same prompt.
  const Tensor via_load_model = parallel_prompt(add(mul(M, 0.3), mul(P, 0.7)), P, w);
  EXPECT_ALL_CLOSE(new_prompt(M, P, w), via_load_model, 1e-5, 1e-5);
  // SPLE_INIT: M = P decodes to P (up to rounding); without it, to the fresh initialisation.
  EXPECT_ALL_CLOSE(parallel_prompt(initial_parameter(P, Tensor(), true, w), P, w), P, 1e-5, 1e-6);
  const Tensor fresh = test::dpc::random_prompt(3, 0.02);
  EXPECT_ALL_CLOSE(parallel_prompt(initial_parameter(P, fresh, false, w), P, w), fresh, 1e-4, 1e-6);
}

TEST(DpcWeighting, FigureSemanticsTrainsPPrimeAndMixesBaseClasses) {
  const Tensor P = test::dpc::random_prompt(1), Pp = test::dpc::random_prompt(2);
  const Weighting w{Semantics::Figure, 0.2, 0.1};
  EXPECT_TRUE(test::bit_equal(parallel_prompt(Pp, P, w), Pp));
  EXPECT_ALL_CLOSE(base_prompt(Pp, P, w), add(mul(Pp, 0.2), mul(P, 0.8)));
  EXPECT_ALL_CLOSE(new_prompt(Pp, P, w), add(mul(Pp, 0.1), mul(P, 0.9)));
  EXPECT_TRUE(test::bit_equal(initial_parameter(P, Tensor(), true, w), P));
}

TEST(DpcWeighting, OmegaNewZeroIsExactlyTheTunedPrompt) {
  const Tensor P = test::dpc::random_prompt(1), M = test::dpc::random_prompt(2);
  for (Semantics s : {Semantics::Code, Semantics::Figure}) {
    const Tensor n = new_prompt(M, P, {s, 0.2, 0.0});
    EXPECT_TRUE(test::bit_equal(n, P));
  }
}

TEST(DpcWeighting, RulesAndRangeChecks) {
  EXPECT_FALSE(uses_new_class_rule(ClassSplit::Base, "caltech101"));
  EXPECT_TRUE(uses_new_class_rule(ClassSplit::New, "imagenet"));
  EXPECT_TRUE(uses_new_class_rule(ClassSplit::All, "caltech101"));  // released load_model: "all" re-weights...
  EXPECT_FALSE(uses_new_class_rule(ClassSplit::All, "imagenet"));   // ...except on ImageNet
  EXPECT_ERROR_CONTAINS((Weighting{Semantics::Code, 0.0, 0.0}.validate()), "SPLE.STACK.WEIGHT");
  EXPECT_ERROR_CONTAINS((Weighting{Semantics::Code, 0.2, 1.5}.validate()), "SPLE.STACK.WEIGHT_FOR_NEW");
  Weighting{Semantics::Figure, 0.0, 0.0}.validate();  // figure allows ω_b = 0 (base = P)
  EXPECT_ERROR_CONTAINS(parse_semantics("paper"), "DPC.SEMANTICS");
}

TEST(DpcLoss, SymmetricContrastiveLossMatchesAHandComputation) {
  Generator g(5);
  const Tensor F = l2_normalize(randn({4, 6}, g), -1), T = l2_normalize(randn({4, 6}, g), -1);
  const double s = 20.0;
  const auto f = F.to_vector<float>(), t = T.to_vector<float>();
  double logits[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      double d = 0;
      for (int k = 0; k < 6; ++k) d += double(f[size_t(i * 6 + k)]) * double(t[size_t(j * 6 + k)]);
      logits[i][j] = s * d;
    }
  double rows = 0, cols = 0;
  for (int i = 0; i < 4; ++i) {
    double zr = 0, zc = 0;
    for (int j = 0; j < 4; ++j) {
      zr += std::exp(logits[i][j]);
      zc += std::exp(logits[j][i]);
    }
    rows += std::log(zr) - logits[i][i];
    cols += std::log(zc) - logits[i][i];
  }
  const double expected = 0.5 * (rows / 4 + cols / 4);
  EXPECT_NEAR(symmetric_contrastive_loss(F, T, s).item(), expected, 1e-5);
}

// A DPC over CoOp (or KgCoOp) on the six tiny classes with tuned prompt P.
struct Fixture {
  TinyClip tiny;
  Config cfg = test::dpc::dpc_config();
  Tensor P = test::dpc::random_prompt(7);
  Dpc dpc;
  explicit Fixture(const std::string& semantics = "code", const std::string& backbone = "CoOp") {
    cfg.set("DPC.SEMANTICS", semantics);
    const auto ctx = tiny.context(cfg);
    dpc.build_over(ctx, test::dpc::tiny_classes(),
                   test::dpc::backbone_with(backbone, ctx, test::dpc::tiny_classes(), P));
  }
  // A built batch: 4 anchors (labels 0, 3, 5, 1) with fixed negatives.
  BuiltBatch batch() const { return assemble_batch(images(11, 4), {0, 3, 5, 1}, {{2, 4}, {}, {1}, {}}, images(12, 3)); }
  double step(optim::Optimizer& opt) {
    opt.zero_grad();
    LossResult r = dpc.contrastive_loss(batch());
    r.loss.backward();
    opt.step();
    return r.loss.item();
  }
};

TEST(DpcMethod, TrainsOnlyTheParallelPromptAndCheckpointsTheTunedOne) {
  Fixture f;
  const auto params = f.dpc.trainable_parameters();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "dpc.parallel.ctx");
  EXPECT_TRUE(params[0].second.requires_grad());
  EXPECT_FALSE(f.dpc.image_features_use_prompts());  // CoOp's image tower takes no prompts
  for (auto& [n, t] : f.dpc.backbone().trainable_parameters()) EXPECT_FALSE(t.requires_grad()) << n;
  EXPECT_TRUE(test::bit_equal(f.dpc.tuned_prompts()[0], f.P));
  // The clone: P′ starts at P.
  EXPECT_ALL_CLOSE(f.dpc.parallel_prompts()[0], f.P, 1e-5, 1e-6);

  optim::SGD sgd({params[0].second}, {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
  f.step(sgd);
  EXPECT_TRUE(params[0].second.grad().defined());
  EXPECT_FALSE(test::all_close(f.dpc.parallel_prompts()[0], f.P, 1e-4, 1e-4)) << "P' did not move";
  EXPECT_TRUE(test::bit_equal(f.dpc.tuned_prompts()[0], f.P)) << "P must stay frozen";
  EXPECT_TRUE(test::bit_equal(*f.dpc.backbone().prompt_slots()[0].second, f.P)) << "at rest the backbone holds P";

  const auto state = f.dpc.extra_state();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].first, "dpc.tuned.ctx");
  f.dpc.load_extra_state({{"dpc.tuned.ctx", f.P.clone()}});
  EXPECT_ERROR_CONTAINS(f.dpc.load_extra_state({{"dpc.tuned.ctx", add(f.P, 1.0)}}), "another stage 1");
}

TEST(DpcMethod, NewClassesGetTheBackbonesLogitsBitForBitAndBaseClassesThePrompt) {
  Fixture f;
  optim::SGD sgd({f.dpc.trainable_parameters()[0].second}, {.lr = 0.05, .momentum = 0.9});
  for (int i = 0; i < 3; ++i) f.step(sgd);
  const std::vector<std::string> new_classes = {"purple heart", "orange cross", "cat"};
  const Tensor x = images(21, 5);
  const auto ctx = f.tiny.context(f.cfg);

  auto backbone = test::dpc::backbone_with("CoOp", ctx, test::dpc::tiny_classes(), f.P);
  backbone->prepare_eval(new_classes, ClassSplit::New);
  f.dpc.prepare_eval(new_classes, ClassSplit::New);
  EXPECT_TRUE(test::bit_equal(f.dpc.eval_logits(x), backbone->eval_logits(x)));

  // Base classes: the backbone with P′ in place of P.
  auto with_pprime = test::dpc::backbone_with("CoOp", ctx, test::dpc::tiny_classes(), f.dpc.parallel_prompts()[0]);
  with_pprime->prepare_eval(test::dpc::tiny_classes(), ClassSplit::Base);
  f.dpc.prepare_eval(test::dpc::tiny_classes(), ClassSplit::Base);
  const Tensor base = f.dpc.eval_logits(x);
  EXPECT_TRUE(test::bit_equal(base, with_pprime->eval_logits(x)));
  backbone->prepare_eval(test::dpc::tiny_classes(), ClassSplit::Base);
  EXPECT_FALSE(test::all_close(base, backbone->eval_logits(x), 1e-4, 1e-4)) << "base classes must use P'";
}

TEST(DpcMethod, CodeSemanticsIsSgdOnThePromptAtLrOverOmegaSquared) {
  // Released code: SGD on M at lr. Figure semantics: SGD on P′ directly. Without weight decay the decoded
  // P′ of the first equals the second's P′ trained at lr/ω_b² (momentum included).
  Fixture code("code"), figure("figure");
  const double lr = 0.004, w = 0.2;
  optim::SGD a({code.dpc.trainable_parameters()[0].second}, {.lr = lr, .momentum = 0.9});
  optim::SGD b({figure.dpc.trainable_parameters()[0].second}, {.lr = lr / (w * w), .momentum = 0.9});
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    EXPECT_NEAR(code.step(a), figure.step(b), 1e-4);
    EXPECT_ALL_CLOSE(code.dpc.parallel_prompts()[0], figure.dpc.parallel_prompts()[0], 1e-3, 2e-5);
  }
  EXPECT_FALSE(test::all_close(code.dpc.parallel_prompts()[0], code.P, 1e-3, 1e-3)) << "nothing was trained";
}

TEST(DpcMethod, WrapsKgCoOpThroughItsPromptSlots) {
  Fixture f("code", "KgCoOp");
  EXPECT_EQ(f.dpc.trainable_parameters().size(), 1u);
  optim::SGD sgd({f.dpc.trainable_parameters()[0].second}, {.lr = 0.05, .momentum = 0.9});
  EXPECT_TRUE(std::isfinite(f.step(sgd)));
  const std::vector<std::string> new_classes = {"purple heart", "cat"};
  auto backbone = test::dpc::backbone_with("KgCoOp", f.tiny.context(f.cfg), test::dpc::tiny_classes(), f.P);
  backbone->prepare_eval(new_classes, ClassSplit::New);
  f.dpc.prepare_eval(new_classes, ClassSplit::New);
  const Tensor x = images(3, 2);
  EXPECT_TRUE(test::bit_equal(f.dpc.eval_logits(x), backbone->eval_logits(x)));
}

TEST(DpcMethod, MiningRanksWithTheFrozenStageOneModel) {
  // mine() uses P (not P′) and the cached stage-1 text features: after training, the ranking still comes
  // from the backbone with P.
  Fixture f;
  optim::SGD sgd({f.dpc.trainable_parameters()[0].second}, {.lr = 0.05, .momentum = 0.9});
  for (int i = 0; i < 3; ++i) f.step(sgd);
  const Tensor x = images(31, 3);
  const auto m = f.dpc.mine(x, {0, 1, 2}, [] { return int64_t(1); });
  auto backbone = test::dpc::backbone_with("CoOp", f.tiny.context(f.cfg), test::dpc::tiny_classes(), f.P);
  NoGrad ng;
  const Tensor sim = matmul(backbone->image_features(x), backbone->text_features().t());
  const auto top = topk(sim, 3, 1).second.to_vector<int64_t>();
  std::vector<std::vector<int64_t>> cand;
  for (int64_t i = 0; i < 3; ++i)
    cand.push_back(hard_negative_candidates({top.begin() + i * 3, top.begin() + i * 3 + 3}, i));
  int64_t calls = 0;
  const auto expected = select_hard_negatives(cand, {0, 1, 2}, 6, [&] { return ++calls, int64_t(1); });
  EXPECT_EQ(m.selection.negatives, expected.negatives);
}

// ---- deep backbones: DPC over MaPLe / IVLP is one config line (DPC.BACKBONE) ----

struct DeepCase {
  std::string trainer;
  std::vector<std::pair<std::string, ConfigValue>> keys;
};

class DpcOverDeepBackbones : public ::testing::TestWithParam<DeepCase> {};

TEST_P(DpcOverDeepBackbones, WrapsEveryPromptSlotAndKeepsNewClassesExact) {
  TinyClip tiny;
  Config cfg = test::dpc::dpc_config();
  for (auto& [k, v] : GetParam().keys) cfg.set(k, v);
  const auto ctx = tiny.context(cfg);
  const auto& classes = test::dpc::tiny_classes();
  auto reference = create_method(GetParam().trainer);  // the same seed: the same prompts
  reference->build(ctx, classes);
  auto backbone = create_method(GetParam().trainer);
  backbone->build(ctx, classes);
  Dpc dpc;
  dpc.build_over(ctx, classes, std::move(backbone));
  const auto slots = reference->prompt_slots();
  ASSERT_EQ(dpc.trainable_parameters().size(), slots.size());
  EXPECT_TRUE(dpc.image_features_use_prompts()) << "its image tower reads its prompts";

  std::vector<Tensor> params;
  for (auto& [n, t] : dpc.trainable_parameters()) params.push_back(t);
  optim::SGD sgd(params, {.lr = 0.05, .momentum = 0.9});
  sgd.zero_grad();
  LossResult r = dpc.contrastive_loss(assemble_batch(images(11, 3), {0, 3, 5}, {{2, 4}, {}, {1}}, images(12, 3)));
  r.loss.backward();
  sgd.step();
  EXPECT_TRUE(std::isfinite(r.loss.item()));
  EXPECT_TRUE(params[0].grad().defined());
  for (size_t k = 0; k < slots.size(); ++k)
    EXPECT_TRUE(test::bit_equal(dpc.tuned_prompts()[k], *slots[k].second)) << slots[k].first;

  const std::vector<std::string> new_classes = {"purple heart", "cat"};
  const Tensor x = images(3, 2);
  reference->prepare_eval(new_classes, ClassSplit::New);
  dpc.prepare_eval(new_classes, ClassSplit::New);
  EXPECT_TRUE(test::bit_equal(dpc.eval_logits(x), reference->eval_logits(x)));
  reference->prepare_eval(classes, ClassSplit::Base);
  dpc.prepare_eval(classes, ClassSplit::Base);
  EXPECT_FALSE(test::all_close(dpc.eval_logits(x), reference->eval_logits(x), 1e-5, 1e-5)) << "base uses P'";
}

INSTANTIATE_TEST_SUITE_P(Backbones, DpcOverDeepBackbones,
                         ::testing::Values(DeepCase{"MaPLe", {{"TRAINER.MAPLE.PROMPT_DEPTH", 2}}},
                                           DeepCase{"IVLP",
                                                    {{"TRAINER.IVLP.PROMPT_DEPTH_TEXT", 2},
                                                     {"TRAINER.IVLP.PROMPT_DEPTH_VISION", 2}}}),
                         [](const auto& info) { return info.param.trainer; });

}  // namespace
}  // namespace clipt::methods::dpc
