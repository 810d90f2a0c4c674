// The gradient algebra of GCSAM and ProGrad on hand-built gradients (values worked out by hand), the
// two-pass step on a quadratic whose tensors land in different regions (against a plain-double
// re-computation of the spec), and the equivalences GCSAM(β1 = β2 = −1) ≡ SAM and GCSAM(ρ = 0) ≡ SGD
// through the method plugins on the tiny CLIP fixture.
#include "methods/common/gradient_shaping.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "methods/coop/coop.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using methods::GcsamRegion;

Tensor vec(std::vector<float> v) { return Tensor::from_vector(v, {int64_t(v.size())}); }
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }

// ------------------------------------------------------------------ GCSAM constraint

TEST(GcsamConstraint, AgreeingGradientsKeepTheSamGradient) {
  const auto c = methods::gcsam_constrain(vec({2, 4, 0}), vec({1, 2, 0}), 0.5, 0.8);
  EXPECT_EQ(c.region, GcsamRegion::Sam);
  EXPECT_NEAR(c.cosine, 1.0, 1e-6);
  EXPECT_ALL_CLOSE(c.grad, vec({2, 4, 0}));
}

TEST(GcsamConstraint, MiddleRegionProjectsOnTheBisector) {
  // g_v = (1, 0), g_s = (0.6, 0.8): c = 0.6. z = (1.6, 0.8), u = z/√3.2, ⟨g_s, u⟩ = 1.6/√3.2, so
  // g = (1.6/3.2)·(1.6, 0.8) = (0.8, 0.4).
  const auto c = methods::gcsam_constrain(vec({0.6f, 0.8f}), vec({1, 0}), 0.5, 0.8);
  EXPECT_EQ(c.region, GcsamRegion::Projected);
  EXPECT_NEAR(c.cosine, 0.6, 1e-6);
  EXPECT_ALL_CLOSE(c.grad, vec({0.8f, 0.4f}), 1e-6, 1e-6);
}

TEST(GcsamConstraint, ConflictingGradientsFallBackToThePlainGradient) {
  // c = 0.3 ≤ β1.
  const auto c = methods::gcsam_constrain(vec({0.3f, std::sqrt(0.91f)}), vec({2, 0}), 0.5, 0.8);
  EXPECT_EQ(c.region, GcsamRegion::Plain);
  EXPECT_NEAR(c.cosine, 0.3, 1e-6);
  EXPECT_ALL_CLOSE(c.grad, vec({2, 0}));
}

TEST(GcsamConstraint, ThresholdsBelongToTheOuterRegions) {
  const Tensor gs = vec({0.6f, 0.8f}), gv = vec({1, 0});
  const double c = methods::gcsam_constrain(gs, gv, 0.5, 0.8).cosine;
  EXPECT_EQ(methods::gcsam_constrain(gs, gv, 0.1, c).region, GcsamRegion::Sam);    // c ≥ β2
  EXPECT_EQ(methods::gcsam_constrain(gs, gv, c, 0.9).region, GcsamRegion::Plain);  // c ≤ β1
}

TEST(GcsamConstraint, OppositeGradientsAreFiniteInEveryRule) {
  const Tensor gv = vec({1, -2, 3}), gs = vec({-1, 2, -3});
  const auto three = methods::gcsam_constrain(gs, gv, 0.5, 0.8);
  EXPECT_EQ(three.region, GcsamRegion::Plain);
  EXPECT_NEAR(three.cosine, -1.0, 1e-6);
  EXPECT_ALL_CLOSE(three.grad, gv);
  // Two-region rule (β1 ≤ 0): c = −1 < β2 projects on u = (g_s + g_v)/(0 + eps) = 0: a zero gradient.
  const auto two = methods::gcsam_constrain(gs, gv, -1, 0.8);
  EXPECT_EQ(two.region, GcsamRegion::Projected);
  EXPECT_ALL_CLOSE(two.grad, vec({0, 0, 0}));
}

TEST(GcsamConstraint, ZeroGradientsAreFinite) {
  const Tensor zero = vec({0, 0}), g = vec({3, 4});
  auto c = methods::gcsam_constrain(zero, zero, 0.5, 0.8);
  EXPECT_EQ(c.cosine, 0.0);
  EXPECT_EQ(c.region, GcsamRegion::Plain);
  EXPECT_ALL_CLOSE(c.grad, zero);
  c = methods::gcsam_constrain(zero, g, 0.5, 0.8);  // no SAM gradient: the plain one
  EXPECT_EQ(c.region, GcsamRegion::Plain);
  EXPECT_ALL_CLOSE(c.grad, g);
  c = methods::gcsam_constrain(g, zero, 0.5, 0.8);  // no plain gradient (a minimum): the plain one, zero
  EXPECT_ALL_CLOSE(c.grad, zero);
  c = methods::gcsam_constrain(g, zero, -1, -1);  // SAM-equivalent rule: the SAM gradient
  EXPECT_EQ(c.region, GcsamRegion::Sam);
  EXPECT_ALL_CLOSE(c.grad, g);
  for (float v : values(methods::gcsam_constrain(zero, zero, -1, 0.8).grad)) EXPECT_TRUE(std::isfinite(v));
}

TEST(GcsamConstraint, TwoRegionRuleWhenTheLowBoundIsNotPositive) {
  const Tensor gs = vec({0.3f, std::sqrt(0.91f)}), gv = vec({1, 0});
  EXPECT_EQ(methods::gcsam_constrain(gs, gv, 0.0, 0.8).region, GcsamRegion::Projected);
  EXPECT_EQ(methods::gcsam_constrain(gs, gv, -1.0, 0.2).region, GcsamRegion::Sam);
  EXPECT_EQ(methods::gcsam_constrain(gs, gv, -1.0, -1.0).region, GcsamRegion::Sam);  // β1 = β2 = −1: SAM
}

TEST(GcsamConstraint, ShapeMismatchIsAnError) {
  EXPECT_ERROR_CONTAINS(methods::gcsam_constrain(vec({1, 2}), vec({1, 2, 3}), 0.5, 0.8), "shapes");
}

// ------------------------------------------------------------------ ProGrad projection

TEST(ProgradProjection, ConflictingGradientLosesItsComponentAlongTheKlGradient) {
  // g_ce = (1, 0), g_kl = (−1, 1): ĝ = (−1, 1)/√2, ⟨g_ce, ĝ⟩ = −1/√2, g = (1, 0) − (0.5, −0.5) = (0.5, 0.5).
  const auto p = methods::prograd_project(vec({1, 0}), vec({-1, 1}), 1.0);
  EXPECT_TRUE(p.projected);
  EXPECT_NEAR(p.cosine, -1 / std::sqrt(2.0), 1e-6);
  EXPECT_ALL_CLOSE(p.grad, vec({0.5f, 0.5f}), 1e-6, 1e-6);
  EXPECT_NEAR(optim::dot(p.grad, vec({-1, 1})), 0.0, 1e-6);  // λ = 1: orthogonal to g_kl
  // λ = 0.5 removes half of that component: (1, 0) − 0.5·(0.5, −0.5).
  EXPECT_ALL_CLOSE(methods::prograd_project(vec({1, 0}), vec({-1, 1}), 0.5).grad, vec({0.75f, 0.25f}), 1e-6, 1e-6);
}

TEST(ProgradProjection, AgreeingOrZeroGradientsAreKept) {
  auto p = methods::prograd_project(vec({1, 0}), vec({1, 1}), 1.0);
  EXPECT_FALSE(p.projected);
  EXPECT_ALL_CLOSE(p.grad, vec({1, 0}));
  p = methods::prograd_project(vec({1, 0}), vec({0, 1}), 1.0);  // orthogonal: ⟨·,·⟩ = 0 is not < 0
  EXPECT_FALSE(p.projected);
  p = methods::prograd_project(vec({1, 2}), vec({0, 0}), 1.0);
  EXPECT_FALSE(p.projected);
  EXPECT_ALL_CLOSE(p.grad, vec({1, 2}));
}

// ------------------------------------------------------------------ the two-pass step

// L(w) = ½ Σ_t Σ_j a_tj·w_tj² over three tensors: g = a ⊙ w, and the SAM gradient g + ρ·a ⊙ g/‖g‖.
// With ρ = 1.5 the first step's cosines are 1 (tensor 0: a = 1), −0.42 (tensor 1) and 0.67 (tensor 2):
// one tensor per region.
TEST(SharpnessAwareStep, GcsamOnAQuadraticMatchesTheSpecPerTensor) {
  const std::vector<std::vector<double>> a{{1, 1}, {1, -5}, {1, -3.5}};
  std::vector<std::vector<double>> w{{0.5, -1}, {1, 1}, {1, 1}};
  const double rho = 1.5, lr = 0.1, momentum = 0.9, wd = 0.01, b1 = 0.5, b2 = 0.8;
  std::vector<Tensor> params;
  std::vector<Tensor> curv;
  for (size_t t = 0; t < 3; ++t) {
    params.push_back(Tensor::from_vector(std::vector<float>(w[t].begin(), w[t].end()), {2}).requires_grad_());
    curv.push_back(Tensor::from_vector(std::vector<float>(a[t].begin(), a[t].end()), {2}));
  }
  optim::SGD sgd(params, {.lr = lr, .momentum = momentum, .weight_decay = wd});
  methods::BatchLoss loss = [&](const methods::TrainBatch&) {
    Tensor total;
    for (size_t t = 0; t < 3; ++t) {
      Tensor l = mul(sum(mul(mul(params[t], params[t]), curv[t])), 0.5);
      total = total.defined() ? add(total, l) : l;
    }
    return methods::LossResult{total, Tensor(), {}};
  };
  const methods::SharpnessOptions o{methods::SharpnessRule::Gcsam, rho, b1, b2};

  // Reference in doubles.
  std::vector<std::vector<double>> buf(3);
  std::vector<int> regions_seen(3, 0);
  for (int step = 0; step < 2; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::vector<std::vector<double>> gv(3), gs(3), g(3);
    double norm = 0;
    for (size_t t = 0; t < 3; ++t)
      for (size_t j = 0; j < 2; ++j) {
        gv[t].push_back(a[t][j] * w[t][j]);
        norm += gv[t][j] * gv[t][j];
      }
    norm = std::sqrt(norm);
    int counts[3] = {0, 0, 0};
    for (size_t t = 0; t < 3; ++t) {
      double ss = 0, vv = 0, sv = 0, zz = 0;
      for (size_t j = 0; j < 2; ++j) {
        gs[t].push_back(a[t][j] * (w[t][j] + rho * gv[t][j] / (norm + 1e-12)));
        ss += gs[t][j] * gs[t][j];
        vv += gv[t][j] * gv[t][j];
        sv += gs[t][j] * gv[t][j];
        zz += (gs[t][j] + gv[t][j]) * (gs[t][j] + gv[t][j]);
      }
      const double c = sv / (std::sqrt(ss) * std::sqrt(vv) + 1e-12);
      ASSERT_GT(std::min(std::abs(c - b1), std::abs(c - b2)), 1e-3) << "tensor " << t << " cosine " << c;
      std::vector<double> gt;
      if (c >= b2) {
        gt = gs[t];
        counts[0]++;
      } else if (c > b1) {
        double su = 0;
        for (size_t j = 0; j < 2; ++j) su += gs[t][j] * (gs[t][j] + gv[t][j]) / std::sqrt(zz);
        for (size_t j = 0; j < 2; ++j) gt.push_back(su * (gs[t][j] + gv[t][j]) / std::sqrt(zz));
        counts[1]++;
      } else {
        gt = gv[t];
        counts[2]++;
      }
      for (size_t j = 0; j < 2; ++j) {
        const double d = gt[j] + wd * w[t][j];
        if (buf[t].size() < 2)
          buf[t].push_back(d);
        else
          buf[t][j] = momentum * buf[t][j] + d;
        w[t][j] -= lr * buf[t][j];
      }
    }
    const methods::StepResult r = methods::sharpness_aware_step(loss, methods::TrainBatch{}, sgd, o);
    EXPECT_EQ(r.metric("gcsam_sam"), counts[0]);
    EXPECT_EQ(r.metric("gcsam_projected"), counts[1]);
    EXPECT_EQ(r.metric("gcsam_plain"), counts[2]);
    for (int k = 0; k < 3; ++k) regions_seen[k] += counts[k];
    for (size_t t = 0; t < 3; ++t)
      EXPECT_ALL_CLOSE(params[t], Tensor::from_vector(std::vector<float>(w[t].begin(), w[t].end()), {2}), 1e-5, 1e-6);
  }
  EXPECT_GT(regions_seen[0], 0);
  EXPECT_GT(regions_seen[1], 0);
  EXPECT_GT(regions_seen[2], 0);
}

TEST(SharpnessAwareStep, ParametersAreRestoredWhenTheSecondPassFails) {
  Tensor p = Tensor::from_vector(std::vector<float>{1, 2}, {2}).requires_grad_();
  const Tensor before = p.clone();
  optim::SGD sgd({p}, {.lr = 0.1});
  int calls = 0;
  methods::BatchLoss loss = [&](const methods::TrainBatch&) {
    if (++calls == 2) fail("second pass failed");
    return methods::LossResult{sum(mul(p, p)), Tensor(), {}};
  };
  EXPECT_ERROR_CONTAINS(methods::sharpness_aware_step(loss, {}, sgd, {methods::SharpnessRule::Sam, 0.5}),
                        "second pass");
  EXPECT_TRUE(test::bit_equal(p.detach(), before));
}

// ------------------------------------------------------------------ equivalences through the plugins

struct TinyRun {
  std::unique_ptr<clip::ClipModel> clip;
  std::unique_ptr<clip::Tokenizer> tok;
  nlohmann::json f;
  methods::TrainBatch batch;
  TinyRun() {
    std::ifstream in(test::golden_dir() / "coop_steps.json");
    f = nlohmann::json::parse(in);
    clip = clip::load_clip(test::golden_dir() / "clip_tiny");
    tok = std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny"));
    batch.images =
        Tensor::from_vector(f["images"]["data"].get<std::vector<float>>(), f["images"]["shape"].get<Shape>());
    batch.labels = Tensor::from_vector(f["labels"].get<std::vector<int64_t>>(), {int64_t(f["labels"].size())});
  }
  // Trains `trainer` for `steps` SGD steps from the fixture's context under `overrides`; the context after.
  Tensor train(const std::string& trainer, const std::vector<std::string>& overrides, int steps,
               std::vector<methods::StepResult>* results = nullptr) {
    Config cfg = default_config();
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    cfg.merge_from_list(overrides);
    methods::MethodContext ctx{clip.get(), tok.get(), &cfg, "", Device::cpu(), 1, ""};
    auto method = methods::create_method(trainer);
    method->build(ctx, f["classnames"].get<std::vector<std::string>>());
    Tensor p = method->trainable_parameters().at(0).second;
    {
      NoGrad ng;
      p.copy_(Tensor::from_vector(f["ctx_init"].get<std::vector<float>>(), p.shape()));
    }
    optim::SGD sgd({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4});
    for (int s = 0; s < steps; ++s) {
      methods::StepResult r = method->train_step(batch, sgd);
      if (results) results->push_back(r);
    }
    return p.detach().clone();
  }
};

TEST(GcsamEquivalence, BoundsOfMinusOneAreSam) {
  TinyRun run;
  const Tensor gcsam = run.train(
      "GCSCoOp", {"OPTIM.NAME", "gcsam", "OPTIM.RHO", "0.13", "OPTIM.LOWBOUND", "-1", "OPTIM.UPBOUND", "-1"}, 3);
  const Tensor sam = run.train("SCoOp", {"OPTIM.NAME", "sam", "OPTIM.RHO", "0.13"}, 3);
  const Tensor sam_alias = run.train("SharpCoOp", {"OPTIM.NAME", "sam", "OPTIM.RHO", "0.13"}, 3);
  EXPECT_TRUE(test::bit_equal(gcsam, sam));
  EXPECT_TRUE(test::bit_equal(sam_alias, sam));
  const Tensor coop = run.train("CoOp", {}, 3);
  EXPECT_FALSE(test::all_close(sam, coop, 1e-4, 1e-6));  // ρ = 0.13 does change the trajectory
}

TEST(GcsamEquivalence, ZeroRadiusIsPlainSgd) {
  TinyRun run;
  const Tensor coop = run.train("CoOp", {}, 3);
  EXPECT_TRUE(test::bit_equal(run.train("GCSCoOp", {"OPTIM.NAME", "gcsam", "OPTIM.RHO", "0"}, 3), coop));
  EXPECT_TRUE(test::bit_equal(run.train("SCoOp", {"OPTIM.RHO", "0"}, 3), coop));
  // Any base method: GCSCoOp over KgCoOp with ρ = 0 is KgCoOp.
  const Tensor kg = run.train("KgCoOp", {}, 3);
  EXPECT_TRUE(test::bit_equal(
      run.train("GCSCoOp", {"OPTIM.NAME", "gcsam", "OPTIM.RHO", "0", "TRAINER.GCSCOOP.BASE_TRAINER", "KgCoOp"}, 3),
      kg));
  EXPECT_FALSE(test::all_close(kg, coop, 1e-4, 1e-6));
}

// A CoOp that counts its frozen image-tower forwards.
int g_image_forwards = 0;
class CountingCoOp final : public methods::CoOp {
 public:
  Tensor image_features(const Tensor& images) override {
    ++g_image_forwards;
    return CoOp::image_features(images);
  }
};

TEST(GcsamStep, TheFrozenImageTowerRunsOncePerStep) {
  static bool registered = false;
  if (!registered) {
    methods::register_method("CountingCoOp", [] { return std::make_unique<CountingCoOp>(); });
    registered = true;
  }
  TinyRun run;
  std::vector<methods::StepResult> results;
  g_image_forwards = 0;
  run.train("GCSCoOp", {"OPTIM.NAME", "gcsam", "TRAINER.GCSCOOP.BASE_TRAINER", "CountingCoOp"}, 2, &results);
  EXPECT_EQ(g_image_forwards, 2);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].metrics.count("loss_perturbed"));
  EXPECT_TRUE(results[0].logits.defined());
  g_image_forwards = 0;  // the plain step, for comparison: also once per step
  run.train("CountingCoOp", {}, 2);
  EXPECT_EQ(g_image_forwards, 2);
}

TEST(GcsamConfig, BadSettingsAreErrorsNamingTheKey) {
  TinyRun run;
  EXPECT_ERROR_CONTAINS(run.train("GCSCoOp", {"OPTIM.NAME", "sgd"}, 1), "OPTIM.NAME");
  EXPECT_ERROR_CONTAINS(run.train("SCoOp", {"OPTIM.NAME", "gcsam"}, 1), "OPTIM.NAME");
  EXPECT_ERROR_CONTAINS(run.train("GCSCoOp", {"OPTIM.NAME", "gcsam", "OPTIM.RHO", "-0.1"}, 1), "OPTIM.RHO");
  EXPECT_ERROR_CONTAINS(run.train("GCSCoOp", {"OPTIM.NAME", "gcsam", "OPTIM.LOWBOUND", "0.9"}, 1), "OPTIM.LOWBOUND");
  EXPECT_ERROR_CONTAINS(run.train("GCSCoOp", {"OPTIM.NAME", "gcsam", "TRAINER.GCSCOOP.BASE_TRAINER", "SCoOp"}, 1),
                        "BASE_TRAINER");
  EXPECT_ERROR_CONTAINS(run.train("GCSCoOp", {"OPTIM.NAME", "gcsam", "TRAINER.GCSCOOP.BASE_TRAINER", "CoOpp"}, 1),
                        "CoOpp");
  EXPECT_ERROR_CONTAINS(run.train("ProGrad", {"LOSS.NAME", "kd"}, 1), "LOSS.NAME");
}

}  // namespace
}  // namespace clipt
