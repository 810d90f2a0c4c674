// CoOp and KgCoOp training steps against the peers' code (tests/golden/make_coop_fixture.py runs
// CoOp's PromptLearner/TextEncoder and KgCoOp's loss on the transformers tiny CLIP): 5 SGD steps from a
// fixed context on a fixed batch; every loss and context must agree in fp32.
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using json = nlohmann::json;

class CoopGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(CoopGolden, FiveStepsMatchThePeerCode) {
  std::ifstream in(test::golden_dir() / "coop_steps.json");
  const json f = json::parse(in);
  auto clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  auto tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  cfg.set("TRAINER.COOP.N_CTX", f["n_ctx"].get<int64_t>());
  cfg.set("TRAINER.COOP.W", f["kg_lambda"].get<double>());
  methods::MethodContext ctx{clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""};
  auto method = methods::create_method(GetParam());
  method->build(ctx, f["classnames"].get<std::vector<std::string>>());
  auto params = method->trainable_parameters();
  ASSERT_EQ(params.size(), 1u);
  Tensor p = params[0].second;
  {
    NoGrad ng;
    p.copy_(Tensor::from_vector(f["ctx_init"].get<std::vector<float>>(), p.shape()));
  }
  optim::SGD sgd({p}, {.lr = f["lr"], .momentum = f["momentum"], .weight_decay = f["weight_decay"]});
  methods::TrainBatch batch;
  batch.images = Tensor::from_vector(f["images"]["data"].get<std::vector<float>>(), f["images"]["shape"].get<Shape>());
  batch.labels = Tensor::from_vector(f["labels"].get<std::vector<int64_t>>(), {int64_t(f["labels"].size())});
  const json& ref = f[GetParam() == "CoOp" ? "coop" : "kgcoop"];
  for (size_t step = 0; step < ref["losses"].size(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    methods::StepResult r = method->train_step(batch, sgd);
    EXPECT_NEAR(r.loss.item(), ref["losses"][step].get<double>(), 1e-4 * std::abs(ref["losses"][step].get<double>()));
    EXPECT_ALL_CLOSE(p, Tensor::from_vector(ref["contexts"][step].get<std::vector<float>>(), p.shape()), 1e-4, 1e-6);
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, CoopGolden, ::testing::Values("CoOp", "KgCoOp"));

}  // namespace
}  // namespace clipt
