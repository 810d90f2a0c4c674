// CUDA graphs on a device (issue 19; unrun until a GPU session runs the gpu label): a captured graph replays
// with its inputs updated in place; a host read inside a capture is refused and leaves the device usable; N
// CoOp steps through the step graph (two warm-up steps, a capture, replays, a recapture after a learning
// rate change) equal N eager steps bit for bit in f32; a step that cannot be captured falls back to eager
// steps with one log line; and a trainer run with CLIPT.CUDA_GRAPH on ends with the parameters of the same
// run with it off. The CPU halves are tests/engine/capture_guard_test.cpp and tests/methods/step_graph_test.cpp.
#include <filesystem>

#include "engine/core/capture_guard.h"
#include "engine/ops/random.h"
#include "engine/optim/optimizer.h"
#include "engine/runtime/cuda_graph.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/step_graph.h"
#include "methods/trainer/trainer.h"
#include "tests/gpu/whole_model_util.h"
#include "tests/methods/trainer_fixture.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;
using test::gpu::bits_equal;

#define CLIPT_REQUIRE_GRAPHS() \
  if (!device_graphs_available(Device::cuda(0))) GTEST_SKIP() << "no CUDA device (CUDA graphs need one)"

TEST(CudaGraph, ReplaysWithInputsUpdatedInPlace) {
  CLIPT_REQUIRE_GRAPHS();
  const Device dev = Device::cuda(0);
  Tensor x = Tensor::full({1000}, 2.0, DType::F32, dev), y = Tensor::zeros({1000}, DType::F32, dev);
  DeviceGraph g(dev);
  g.capture(
      [&] {
        NoGrad ng;
        y.copy_(add(mul(x, x), 1.0));  // the temporary is a graph allocation freed inside the graph
      },
      "a test body");
  ASSERT_TRUE(g.captured());
  EXPECT_EQ(y.to_vector<float>()[0], 0.0f) << "a capture runs nothing";
  g.launch();
  EXPECT_EQ(y.to_vector<float>()[999], 5.0f);
  x.fill_(3.0);
  g.launch();
  EXPECT_EQ(y.to_vector<float>()[0], 10.0f);
}

TEST(CudaGraph, AHostReadInsideACaptureIsRefusedAndTheDeviceStaysUsable) {
  CLIPT_REQUIRE_GRAPHS();
  const Device dev = Device::cuda(0);
  const Tensor x = Tensor::full({16}, 1.5, DType::F32, dev);
  DeviceGraph g(dev);
  EXPECT_ERROR_CONTAINS(g.capture([&] { (void)sum(add(x, x)).item(); }, "a reading body"), "host read");
  EXPECT_FALSE(g.captured());
  EXPECT_FALSE(capturing_device().has_value());
  EXPECT_EQ(sum(add(x, x)).item(), 48.0) << "eager work after the abandoned capture";
}

struct DeviceMethod {
  std::unique_ptr<clip::ClipModel> clip;
  clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  std::unique_ptr<methods::Method> method;
  std::unique_ptr<optim::SGD> sgd;
  explicit DeviceMethod(const std::string& name) {
    clip = clip::load_clip(test::golden_dir() / "clip_tiny", DType::F32, Device::cuda(0));
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    method = methods::create_method(name);
    method->build({clip.get(), &tok, &cfg, "", Device::cuda(0), 1, ""},
                  {"red circle", "blue square", "a dog", "star", "green triangle"});
    std::vector<Tensor> params;
    for (auto& [n, p] : method->trainable_parameters()) params.push_back(p);
    sgd = std::make_unique<optim::SGD>(params, optim::SgdOptions{.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
  }
};

std::vector<methods::TrainBatch> batches(int n) {
  Generator gen(11);
  std::vector<methods::TrainBatch> out;
  for (int i = 0; i < n; ++i) {
    methods::TrainBatch b;
    b.images = randn({4, 3, 32, 32}, gen).to(Device::cuda(0));
    b.labels = randint(0, 5, {4}, gen).to(Device::cuda(0));
    b.global_step = i;
    out.push_back(b);
  }
  return out;
}

// The step graph against eager steps: same losses, parameters and momentum buffers, bit for bit (f32).
TEST(CudaGraphStep, ReplayedCoOpStepsEqualEagerStepsBitForBit) {
  CLIPT_REQUIRE_GRAPHS();
  for (const std::string name : {"CoOp", "KgCoOp"}) {
    SCOPED_TRACE(name);
    DeviceMethod eager(name), graphed(name);
    ASSERT_TRUE(bits_equal("initial context", graphed.method->trainable_parameters().at(0).second,
                           eager.method->trainable_parameters().at(0).second));
    trainer::StepGraph runner(*graphed.method, *graphed.sgd, Device::cuda(0), /*strict=*/true, {});
    const auto data = batches(7);
    for (size_t s = 0; s < data.size(); ++s) {
      if (s == 4) {  // a new learning rate: the graph is captured again
        eager.sgd->set_lr(0.02);
        graphed.sgd->set_lr(0.02);
      }
      const double le = eager.method->train_step(data[s], *eager.sgd).loss.item();
      const methods::StepResult rg = runner.step(data[s]);
      EXPECT_EQ(rg.loss.item(), le) << "loss of step " << s;
      for (const auto& [k, v] : rg.metrics) EXPECT_TRUE(std::isfinite(rg.metric(k))) << k;
    }
    EXPECT_EQ(runner.captures(), 2);
    EXPECT_EQ(runner.replays(), 3);  // steps 3, 5, 6
    EXPECT_FALSE(runner.eager());
    EXPECT_EQ(graphed.sgd->steps(), eager.sgd->steps());
    EXPECT_TRUE(bits_equal("context after 7 steps", graphed.method->trainable_parameters().at(0).second,
                           eager.method->trainable_parameters().at(0).second));
    EXPECT_TRUE(bits_equal("momentum after 7 steps", graphed.sgd->momentum_buffer(0), eager.sgd->momentum_buffer(0)));
  }
}

// A step that cannot be replayed (GCSCoOp: host reads for its cosine rule, metrics computed on the host):
// one line says why, and every step runs eagerly with the eager results.
TEST(CudaGraphStep, AStepThatCannotBeCapturedFallsBackToEagerSteps) {
  CLIPT_REQUIRE_GRAPHS();
  DeviceMethod eager("GCSCoOp"), graphed("GCSCoOp");
  std::vector<std::string> lines;
  trainer::StepGraph runner(*graphed.method, *graphed.sgd, Device::cuda(0), /*strict=*/false,
                            [&](const std::string& l) { lines.push_back(l); });
  for (const auto& b : batches(4)) {
    const double le = eager.method->train_step(b, *eager.sgd).loss.item();
    EXPECT_EQ(runner.step(b).loss.item(), le);
  }
  EXPECT_TRUE(runner.eager());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("steps run eagerly"), std::string::npos) << lines[0];
  EXPECT_TRUE(bits_equal("context", graphed.method->trainable_parameters().at(0).second,
                         eager.method->trainable_parameters().at(0).second));
}

// A whole run: CLIPT.CUDA_GRAPH on and off end with the same context (3 epochs, a warm-up learning rate,
// so the graph is captured again at each rate change).
TEST(CudaGraphStep, TrainerRunWithGraphsEqualsTheRunWithout) {
  CLIPT_REQUIRE_GRAPHS();
  using test::trainer_fixture::context_of;
  using test::trainer_fixture::make_dataset;
  using test::trainer_fixture::run_config;
  const fs::path data = make_dataset("data_graph");
  trainer::RunLog log({}, true);
  auto run = [&](const std::string& mode) {
    const fs::path out = test::scratch_dir("graph_" + mode);
    trainer::Trainer t(
        run_config(data, out, {"CLIPT.DEVICE", "cuda:0", "TRAINER.COOP.PREC", "fp32", "CLIPT.CUDA_GRAPH", mode}), log);
    t.train();
    return context_of(t);
  };
  EXPECT_TRUE(bits_equal("context with graphs on vs off", run("on"), run("off")));
}

}  // namespace
}  // namespace clipt
