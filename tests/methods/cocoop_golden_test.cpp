// CoCoOp training steps against the peers' code (tests/golden/make_cocoop_fixture.py runs CoCoOp's
// PromptLearner with its meta-net, per-image text features and CustomCLIP loss from KaiyangZhou/CoOp
// trainers/cocoop.py on the transformers tiny CLIP): 5 SGD steps from a fixed context and meta-net on
// coop_steps.json's batch; every loss and every parameter after every step must agree in fp32.
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using json = nlohmann::json;

TEST(CocoopGolden, FiveStepsMatchThePeerCode) {
  const json base = test::golden_json("coop_steps.json"), f = test::golden_json("cocoop_steps.json");
  auto clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  auto tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  cfg.set("TRAINER.COCOOP.N_CTX", base["n_ctx"].get<int64_t>());
  methods::MethodContext ctx{clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""};
  auto method = methods::create_method("CoCoOp");
  method->build(ctx, base["classnames"].get<std::vector<std::string>>());

  // clipt names the parameters after the peers' checkpoint keys: "prompt_learner." + the torch name.
  const std::string prefix = "prompt_learner.";
  auto named = method->trainable_parameters();
  ASSERT_EQ(named.size(), f["init"].size());
  std::vector<std::string> names;
  std::vector<Tensor> params, initial;
  for (auto& [name, p] : named) {
    ASSERT_EQ(name.rfind(prefix, 0), 0u) << name;
    const std::string key = name.substr(prefix.size());
    ASSERT_TRUE(f["init"].contains(key)) << key;
    Tensor init = Tensor::from_vector(f["init"][key].get<std::vector<float>>(), p.shape());
    {
      NoGrad ng;
      p.copy_(init);
    }
    names.push_back(key);
    params.push_back(p);
    initial.push_back(init);
  }
  optim::SGD sgd(params, {.lr = f["lr"], .momentum = f["momentum"], .weight_decay = f["weight_decay"]});
  methods::TrainBatch batch;
  batch.images =
      Tensor::from_vector(base["images"]["data"].get<std::vector<float>>(), base["images"]["shape"].get<Shape>());
  batch.labels = Tensor::from_vector(base["labels"].get<std::vector<int64_t>>(), {int64_t(base["labels"].size())});

  for (size_t step = 0; step < f["losses"].size(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const methods::StepResult r = method->train_step(batch, sgd);
    const double loss = f["losses"][step];
    EXPECT_NEAR(r.loss.item(), loss, 1e-4 * std::abs(loss));
    for (size_t i = 0; i < params.size(); ++i) {
      SCOPED_TRACE(names[i]);
      Tensor expected = Tensor::from_vector(f["params"][step][names[i]].get<std::vector<float>>(), params[i].shape());
      EXPECT_ALL_CLOSE(params[i], expected, 1e-4, 1e-6);
      // The parameters move little in 5 steps relative to their size (meta-net weights ~1, updates ~1e-4),
      // so the displacement from the start is compared too: it carries the gradients themselves.
      NoGrad ng;
      EXPECT_ALL_CLOSE(sub(params[i], initial[i]), sub(expected, initial[i]), 1e-3, 1e-6);
    }
  }
}

}  // namespace
}  // namespace clipt
