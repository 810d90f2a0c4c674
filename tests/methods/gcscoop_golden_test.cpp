// GCSCoOp, SCoOp (SAM) and ProGrad training steps against PyTorch re-implementations of the spec
// (tests/golden/make_gcscoop_fixture.py, on CoOp's PromptLearner/TextEncoder over the transformers tiny
// CLIP): 5 SGD steps from a fixed context on a fixed batch; every loss, the loss at the ascent point,
// the GCSAM region (or ProGrad's projection) of every step and the context after it must agree.
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using json = nlohmann::json;

struct Case {
  std::string trainer;  // registry name
  std::string key;      // section of gcscoop_steps.json
};

class GradientShapingGolden : public ::testing::TestWithParam<Case> {};

TEST_P(GradientShapingGolden, FiveStepsMatchTheReference) {
  const json base = test::golden_json("coop_steps.json"), f = test::golden_json("gcscoop_steps.json");
  const json& ref = f[GetParam().key];
  auto clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  auto tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  cfg.set("TRAINER.COOP.N_CTX", base["n_ctx"].get<int64_t>());
  if (GetParam().key == "gcscoop") {
    cfg.set("OPTIM.NAME", "gcsam");
    cfg.set("OPTIM.LOWBOUND", ref["low_bound"].get<double>());
    cfg.set("OPTIM.UPBOUND", ref["up_bound"].get<double>());
  } else if (GetParam().key == "scoop") {
    cfg.set("OPTIM.NAME", "sam");
  } else {
    cfg.set("LOSS.NAME", "prograd");
    cfg.set("LOSS.T", ref["T"].get<double>());
    cfg.set("LOSS.LAMBDA", ref["lam"].get<double>());
  }
  if (ref.contains("rho")) cfg.set("OPTIM.RHO", ref["rho"].get<double>());
  methods::MethodContext ctx{clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""};
  auto method = methods::create_method(GetParam().trainer);
  method->build(ctx, base["classnames"].get<std::vector<std::string>>());
  auto params = method->trainable_parameters();
  ASSERT_EQ(params.size(), 1u);
  Tensor p = params[0].second;
  {
    NoGrad ng;
    p.copy_(Tensor::from_vector(base["ctx_init"].get<std::vector<float>>(), p.shape()));
  }
  optim::SGD sgd({p}, {.lr = f["lr"], .momentum = f["momentum"], .weight_decay = f["weight_decay"]});
  methods::TrainBatch batch;
  batch.images =
      Tensor::from_vector(base["images"]["data"].get<std::vector<float>>(), base["images"]["shape"].get<Shape>());
  const json& labels = ref.contains("labels") ? ref["labels"] : f["labels"];
  batch.labels = Tensor::from_vector(labels.get<std::vector<int64_t>>(), {int64_t(labels.size())});

  for (size_t step = 0; step < ref["losses"].size(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const methods::StepResult r = method->train_step(batch, sgd);
    const double loss = ref["losses"][step];
    EXPECT_NEAR(r.loss.item(), loss, 1e-4 * std::abs(loss));
    if (ref.contains("perturbed_losses")) {
      const double perturbed = ref["perturbed_losses"][step];
      EXPECT_NEAR(r.metric("loss_perturbed"), perturbed, 1e-4 * std::abs(perturbed));
    }
    if (GetParam().key == "gcscoop") {
      const std::string region = ref["regions"][step];
      std::printf("GCSCoOp step %zu: cos %.4f (reference %.4f), region %s\n", step, r.metric("gcsam_cos"),
                  ref["cosines"][step].get<double>(), region.c_str());
      EXPECT_NEAR(r.metric("gcsam_cos"), ref["cosines"][step].get<double>(), 1e-4);
      EXPECT_EQ(r.metric("gcsam_" + region), 1.0) << "the reference used region " << region;
    }
    if (GetParam().key == "prograd") {
      EXPECT_NEAR(r.metric("kl"), ref["kl_losses"][step].get<double>(), 1e-4);
      EXPECT_NEAR(r.metric("prograd_cos"), ref["cosines"][step].get<double>(), 1e-4);
      EXPECT_EQ(r.metric("prograd_projected"), ref["projected"][step].get<bool>() ? 1.0 : 0.0);
    }
    EXPECT_ALL_CLOSE(p, Tensor::from_vector(ref["contexts"][step].get<std::vector<float>>(), p.shape()), 1e-4, 1e-6);
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, GradientShapingGolden,
                         ::testing::Values(Case{"GCSCoOp", "gcscoop"}, Case{"SCoOp", "scoop"},
                                           Case{"ProGrad", "prograd"}),
                         [](const auto& info) { return info.param.trainer; });

}  // namespace
}  // namespace clipt
