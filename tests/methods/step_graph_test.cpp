// CUDA graphs for the training step, the parts a CPU can check (issue 19): the CLIPT.CUDA_GRAPH key, which
// methods declare a capturable step, the decision from a run's facts, and, under a simulated capture
// (engine/core/capture_guard.h on the CPU), that CoOp's step queues nothing a graph cannot hold while a
// step that reads values back (GCSCoOp's cosine rule) is refused with the reason. Replay on a device is
// tests/gpu/cuda_graph_step_test.cpp.
#include "methods/trainer/step_graph.h"

#include "engine/core/capture_guard.h"
#include "engine/ops/random.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"
#include "tests/methods/trainer_fixture.h"

namespace clipt {
namespace {

using trainer::decide_step_graph;
using trainer::GraphFacts;
using trainer::GraphMode;
using trainer::parse_graph_mode;

TEST(StepGraph, ModeKey) {
  EXPECT_EQ(default_config().get_string("CLIPT.CUDA_GRAPH"), "off");
  EXPECT_EQ(parse_graph_mode("off"), GraphMode::Off);
  EXPECT_EQ(parse_graph_mode("auto"), GraphMode::Auto);
  EXPECT_EQ(parse_graph_mode("on"), GraphMode::On);
  EXPECT_ERROR_CONTAINS(parse_graph_mode("yes"), "CLIPT.CUDA_GRAPH must be off, auto or on, got 'yes'");
}

TEST(StepGraph, MethodsWithStaticSteps) {
  // CoOp's step (and KgCoOp's, the same step with one more loss term) has fixed shapes and no host read.
  for (const std::string name : {"CoOp", "KgCoOp"})
    EXPECT_TRUE(methods::create_method(name)->graph_capturable()) << name;
  // Conditioned prompts, mined negatives, meta-episodes, host-side gradient rules, or steps not yet checked.
  for (const std::string name :
       {"CoCoOp", "DPC", "MetaPrompt", "MetaPrompt_DG", "ProGrad", "GCSCoOp", "SCoOp", "IVLP", "MaPLe", "ZeroshotCLIP"})
    EXPECT_FALSE(methods::create_method(name)->graph_capturable()) << name;
}

GraphFacts capturable() {
  GraphFacts f;
  f.method = "CoOp";
  f.method_capturable = true;
  f.device = Device::cuda(0);
  f.graphs_available = true;
  f.sgd_f32 = true;
  return f;
}

TEST(StepGraph, DecisionFromTheRunsFacts) {
  EXPECT_TRUE(decide_step_graph(GraphMode::Auto, capturable()).use);
  EXPECT_TRUE(decide_step_graph(GraphMode::On, capturable()).use);
  EXPECT_FALSE(decide_step_graph(GraphMode::Off, capturable()).use);
  struct Case {
    std::function<void(GraphFacts&)> change;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {[](GraphFacts& f) { f.device = Device::cpu(); }, "the run is on cpu"},
      {[](GraphFacts& f) { f.graphs_available = false; }, "cannot capture graphs on cuda:0"},
      {[](GraphFacts& f) {
         f.method = "CoCoOp";
         f.method_capturable = false;
       },
       "CoCoOp's step is not capturable"},
      {[](GraphFacts& f) { f.sgd_f32 = false; }, "not SGD over f32 parameters"},
      {[](GraphFacts& f) { f.world_size = 2; }, "2 ranks"},
      {[](GraphFacts& f) { f.profiling = true; }, "profiler"},
  };
  for (const Case& c : cases) {
    GraphFacts f = capturable();
    c.change(f);
    const trainer::GraphDecision d = decide_step_graph(GraphMode::Auto, f);
    EXPECT_FALSE(d.use) << c.reason;
    EXPECT_NE(d.reason.find(c.reason), std::string::npos) << d.reason;
    EXPECT_ERROR_CONTAINS(decide_step_graph(GraphMode::On, f),
                          "CLIPT.CUDA_GRAPH on: cannot capture the training step: ");
    EXPECT_ERROR_CONTAINS(decide_step_graph(GraphMode::On, f), c.reason);
  }
}

struct TinyMethod {
  std::unique_ptr<clip::ClipModel> clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  std::unique_ptr<methods::Method> method;
  std::unique_ptr<optim::SGD> sgd;
  methods::TrainBatch batch;
  explicit TinyMethod(const std::string& name, const std::string& class_token_position = "end") {
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    cfg.set("TRAINER.COOP.CLASS_TOKEN_POSITION", class_token_position);
    cfg.set("OPTIM.NAME", "gcsam");  // GCSCoOp's (the CoOp family takes the optimizer it is given)
    method = methods::create_method(name);
    method->build({clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""}, {"red circle", "blue square", "a dog", "star"});
    std::vector<Tensor> params;
    for (auto& [n, p] : method->trainable_parameters()) params.push_back(p);
    sgd = std::make_unique<optim::SGD>(params, optim::SgdOptions{.lr = 0.01, .momentum = 0.9});
    Generator gen(3);
    batch.images = randn({2, 3, 32, 32}, gen);
    batch.labels = Tensor::from_vector(std::vector<int64_t>{1, 3}, {2});
  }
};

TEST(StepGraph, CoOpWithTheClassTokenInsideThePromptIsNotCapturable) {
  // Middle/front positions assemble the prompts with row indices uploaded every step.
  EXPECT_TRUE(TinyMethod("CoOp", "end").method->graph_capturable());
  EXPECT_FALSE(TinyMethod("CoOp", "middle").method->graph_capturable());
  EXPECT_FALSE(TinyMethod("KgCoOp", "front").method->graph_capturable());
}

TEST(StepGraph, CoOpStepPassesASimulatedCapture) {
  for (const std::string name : {"CoOp", "KgCoOp"}) {
    TinyMethod m(name);
    m.method->train_step(m.batch, *m.sgd);  // the warm-up the runner makes eagerly
    CaptureScope scope(Device::cpu(), name + " step");
    EXPECT_NO_THROW(m.method->train_step(m.batch, *m.sgd)) << name;
  }
}

TEST(StepGraph, AStepThatReadsValuesBackIsRefusedUnderCapture) {
  TinyMethod m("GCSCoOp");
  m.method->train_step(m.batch, *m.sgd);
  CaptureScope scope(Device::cpu(), "GCSCoOp step");
  EXPECT_ERROR_CONTAINS(m.method->train_step(m.batch, *m.sgd), "host read");
}

// The key in a run: a bad value is refused when the trainer is made; "on" where graphs cannot be used is an
// error naming why; "auto" on the CPU trains eagerly, as "off" does.
TEST(StepGraph, TrainerKey) {
  using test::trainer_fixture::context_of;
  using test::trainer_fixture::make_dataset;
  using test::trainer_fixture::run_config;
  const std::filesystem::path data = make_dataset("data");
  trainer::RunLog log({}, true);
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, test::scratch_dir("bad"), {"CLIPT.CUDA_GRAPH", "yes"}), log),
                        "CLIPT.CUDA_GRAPH must be off, auto or on, got 'yes'");
  trainer::Trainer on(run_config(data, test::scratch_dir("on"), {"CLIPT.CUDA_GRAPH", "on"}), log);
  EXPECT_ERROR_CONTAINS(on.train(), "CLIPT.CUDA_GRAPH on: cannot capture the training step: the run is on cpu");
  trainer::Trainer automatic(run_config(data, test::scratch_dir("auto"), {"CLIPT.CUDA_GRAPH", "auto"}), log);
  automatic.train();
  trainer::Trainer off(run_config(data, test::scratch_dir("off")), log);
  off.train();
  EXPECT_TRUE(test::bit_equal(context_of(automatic), context_of(off)));
}

}  // namespace
}  // namespace clipt
