// IVLP, MaPLe, MetaPrompt and MetaPrompt-DG training steps against the peers' algorithms re-implemented
// in PyTorch on the transformers tiny CLIP (tests/golden/make_deep_prompt_fixture.py): 3 SGD steps from
// fixed prompts on three fixed batches (the last DG batch lacks a domain); the B2N class halves come in
// through the method's test hook. Every loss and every prompt tensor after every step must agree in fp32,
// for the clean meta step and for the released code's semantics (METAPROMPT.LEGACY_RESTORE).
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "methods/metaprompt/metaprompt.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using json = nlohmann::json;

struct Fixture {
  json meta;
  io::SafetensorsFile tensors;
  std::unique_ptr<clip::ClipModel> clip;
  std::unique_ptr<clip::Tokenizer> tok;
  Fixture()
      : meta(json::parse(std::ifstream(test::golden_dir() / "deep_prompt_steps.json"))),
        tensors(test::golden_dir() / "deep_prompt_steps.safetensors"),
        clip(clip::load_clip(test::golden_dir() / "clip_tiny")),
        tok(std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny"))) {}

  methods::TrainBatch batch(size_t step) const {
    const json& b = meta["batches"][step];
    const auto idx = b["indices"].get<std::vector<int64_t>>();
    methods::TrainBatch tb;
    tb.images = index_select(tensors.get("images"), 0, Tensor::from_vector(idx, {int64_t(idx.size())}));
    tb.labels = Tensor::from_vector(b["labels"].get<std::vector<int64_t>>(), {int64_t(idx.size())});
    tb.domains = Tensor::from_vector(b["domains"].get<std::vector<int64_t>>(), {int64_t(idx.size())});
    tb.global_step = int64_t(step);
    tb.iteration = int64_t(step);
    return tb;
  }
};

const Fixture& fixture() {
  static Fixture f;
  return f;
}

struct Case {
  std::string name;     // the fixture's key
  std::string trainer;  // the method
  std::function<void(Config&, const json&)> configure;
  friend void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }
};

class DeepPromptGolden : public ::testing::TestWithParam<Case> {};

TEST_P(DeepPromptGolden, ThreeStepsMatchThePeerAlgorithm) {
  const Fixture& f = fixture();
  const Case& c = GetParam();
  const json& ref = f.meta[c.name];
  Config cfg = default_config();
  c.configure(cfg, ref);
  methods::MethodContext ctx{f.clip.get(), f.tok.get(), &cfg, "", Device::cpu(), 1, ""};
  auto method = methods::create_method(c.trainer);
  method->build(ctx, f.meta["classnames"].get<std::vector<std::string>>());
  if (auto* mp = dynamic_cast<methods::MetaPrompt*>(method.get())) {
    const json orders = f.meta["class_orders"];
    mp->set_class_order_for_testing([orders](int64_t step, int64_t classes) {
      auto o = orders[size_t(step)].get<std::vector<int64_t>>();
      EXPECT_EQ(int64_t(o.size()), classes);
      return o;
    });
  }

  // Start from the fixture's prompts (and couplings).
  const std::string prefix = "prompt_learner.";
  std::vector<Tensor> params;
  for (auto& [name, p] : method->trainable_parameters()) {
    ASSERT_TRUE(name.starts_with(prefix)) << name;
    const std::string key = c.name + ".init." + name.substr(prefix.size());
    ASSERT_TRUE(f.tensors.contains(key)) << "the fixture has no " << key;
    ASSERT_EQ(f.tensors.shape(key), p.shape()) << key;
    NoGrad ng;
    p.copy_(f.tensors.get(key));
    params.push_back(p);
  }
  const std::vector<std::string> names = f.tensors.names();
  ASSERT_EQ(params.size(),
            size_t(std::count_if(names.begin(), names.end(),
                                 [&](const std::string& n) { return n.starts_with(c.name + ".init."); })))
      << "the method trains a different set of tensors than the reference";
  optim::SGD sgd(params, {.lr = f.meta["lr"], .momentum = f.meta["momentum"], .weight_decay = f.meta["weight_decay"]});

  for (size_t step = 0; step < ref["losses"].size(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    methods::StepResult r = method->train_step(f.batch(step), sgd);
    const double want = ref["losses"][step].get<double>();
    EXPECT_NEAR(r.loss.item(), want, 1e-4 * std::abs(want));
    if (ref.contains("splits_run")) {
      EXPECT_EQ(r.metric("meta_episodes"), ref["splits_run"][step].get<double>());
      const auto& episodes = ref["meta_losses"][step];
      if (!episodes.empty()) {
        double held_out = 0;
        for (const auto& e : episodes) held_out += e[1].get<double>();
        held_out /= double(episodes.size());
        EXPECT_NEAR(r.metric("meta_held_out"), held_out, 1e-4 * std::abs(held_out));
      }
    }
    for (auto& [name, p] : method->trainable_parameters()) {
      const std::string key = c.name + ".step" + std::to_string(step) + "." + name.substr(prefix.size());
      EXPECT_ALL_CLOSE(p, f.tensors.get(key), 1e-4, 2e-6) << key;
    }
  }
  for (auto& [name, w] : f.clip->named_parameters()) EXPECT_FALSE(w.grad().defined()) << name << " got a gradient";
}

void ivlp(Config& cfg, const json& r) {
  cfg.set("TRAINER.IVLP.N_CTX_TEXT", r["n_text"].get<int64_t>());
  cfg.set("TRAINER.IVLP.N_CTX_VISION", r["n_vision"].get<int64_t>());
  cfg.set("TRAINER.IVLP.PROMPT_DEPTH_TEXT", r["depth_text"].get<int64_t>());
  cfg.set("TRAINER.IVLP.PROMPT_DEPTH_VISION", r["depth_vision"].get<int64_t>());
  cfg.set("TRAINER.IVLP.CTX_INIT", r["ctx_init"].get<std::string>());
}
void maple(Config& cfg, const json& r) {
  cfg.set("TRAINER.MAPLE.N_CTX", r["n_ctx"].get<int64_t>());
  cfg.set("TRAINER.MAPLE.PROMPT_DEPTH", r["depth"].get<int64_t>());
  cfg.set("TRAINER.MAPLE.CTX_INIT", r["ctx_init"].get<std::string>());
}
void meta(Config& cfg, const json& r) {
  cfg.set("TRAINER.META.N_CTX", r["n_ctx"].get<int64_t>());
  cfg.set("TRAINER.META.N_PRO", r["n_pro"].get<int64_t>());
  cfg.set("TRAINER.META.LAYERS", r["layers"].get<int64_t>());
  cfg.set("METAPROMPT.LEGACY_RESTORE", r["legacy"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(Methods, DeepPromptGolden,
                         ::testing::Values(Case{"ivlp", "IVLP", ivlp}, Case{"maple", "MaPLe", maple},
                                           Case{"metaprompt", "MetaPrompt", meta},
                                           Case{"metaprompt_legacy", "Meta_B2N", meta},
                                           Case{"metaprompt_dg", "MetaPrompt_DG", meta},
                                           Case{"metaprompt_dg_legacy", "Meta_DG", meta}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace clipt
