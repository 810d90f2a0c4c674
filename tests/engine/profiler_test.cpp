// engine/profile: what a session records (every primitive once, with the module path and phase it ran
// under), FLOPs and bytes from shapes against hand counts, op times against the measured step, the Chrome
// trace's format, the roofline picture, the peaks table and formula, and that nothing is recorded (and
// backend_for is the device's own backend) when no session is active.
#include "engine/profile/profiler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/core/backend.h"
#include "engine/nn/transformer.h"
#include "engine/ops/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/profile/peaks.h"
#include "engine/profile/report.h"

namespace clipt::profile {
namespace {

// A root holding a two-layer transformer and a head, as a model's tree would.
class TwoLayerModel : public nn::Module {
 public:
  explicit TwoLayerModel(Generator& gen, int64_t width = 16, int64_t heads = 2) {
    register_module("encoder", &encoder,
                    std::make_unique<nn::Transformer>(width, 2, heads, 4 * width, nn::Activation::QuickGelu, gen));
    register_module("head", &head, std::make_unique<nn::Linear>(width, 3, true, gen));
  }
  Tensor forward(const Tensor& x) const { return head->forward(encoder->forward(x, false)); }
  std::unique_ptr<nn::Transformer> encoder;
  std::unique_ptr<nn::Linear> head;
};

std::vector<std::string> modules_of(const Profile& p, const char* op, Phase phase) {
  std::vector<std::string> out;
  for (const OpRecord& r : p.ops)
    if (std::string(r.op) == op && r.phase == phase) out.push_back(p.module_paths[size_t(r.module)]);
  return out;
}

TEST(Profiler, ModulePathsOfATwoLayerModel) {
  Generator gen(1);
  TwoLayerModel model(gen);
  Tensor x = randn({2, 5, 16}, gen);
  Profile p;
  {
    Session s(Device::cpu());
    Tensor loss = sum(model.forward(x));
    loss.backward();
    p = s.finish();
  }
  // Forward GEMMs in execution order: per block the fused QKV projection (under attn; the attention
  // products are the fused attention op's), out_proj, c_fc, c_proj; then the head.
  std::vector<std::string> expected;
  for (int i = 0; i < 2; ++i) {
    const std::string b = "encoder.resblocks." + std::to_string(i);
    for (const char* m : {".attn", ".attn.out_proj", ".mlp.c_fc", ".mlp.c_proj"}) expected.push_back(b + m);
  }
  expected.push_back("head");
  EXPECT_EQ(modules_of(p, "gemm", Phase::Forward), expected);
  // Layer norms and activations carry their own modules: ln_2 is fused with the residual add before it,
  // and c_fc's bias with the QuickGELU after it (both under the module whose weights they use).
  EXPECT_EQ(modules_of(p, "layer_norm", Phase::Forward),
            (std::vector<std::string>{"encoder.resblocks.0.ln_1", "encoder.resblocks.1.ln_1"}));
  EXPECT_EQ(modules_of(p, "residual_layer_norm", Phase::Forward),
            (std::vector<std::string>{"encoder.resblocks.0.ln_2", "encoder.resblocks.1.ln_2"}));
  EXPECT_EQ(modules_of(p, "bias_quick_gelu", Phase::Forward),
            (std::vector<std::string>{"encoder.resblocks.0.mlp", "encoder.resblocks.1.mlp"}));
  // The backward runs each node under its forward's module: the same set of modules, in the backward phase.
  const auto back = modules_of(p, "gemm", Phase::Backward);
  EXPECT_EQ(std::set<std::string>(back.begin(), back.end()), std::set<std::string>(expected.begin(), expected.end()));
  EXPECT_EQ(modules_of(p, "layer_norm_backward", Phase::Backward),
            (std::vector<std::string>{"encoder.resblocks.1.ln_2", "encoder.resblocks.1.ln_1",
                                      "encoder.resblocks.0.ln_2", "encoder.resblocks.0.ln_1"}));
  // Outside every module: the final sum and the backward's seed.
  EXPECT_EQ(modules_of(p, "reduce.sum", Phase::Forward), std::vector<std::string>{""});
}

TEST(Profiler, FlopsAndBytesFromShapes) {
  Generator gen(2);
  Tensor a = randn({3, 7, 5}, gen), b = randn({5, 11}, gen), x = randn({6, 10}, gen);
  Tensor w = randn({10}, gen), bias = randn({10}, gen);
  Session s(Device::cpu());
  matmul(a, b);
  layer_norm(x, w, bias);
  add(x, 1.0);
  Profile p = s.finish();
  ASSERT_EQ(p.ops.size(), 3u) << "one record per primitive";
  const OpRecord& g = p.ops[0];
  EXPECT_STREQ(g.op, "gemm");
  EXPECT_DOUBLE_EQ(g.flops, 2.0 * 21 * 11 * 5);  // [21, 5] · [5, 11]: the batch folds into rows
  EXPECT_DOUBLE_EQ(g.bytes, 4.0 * (21 * 5 + 5 * 11 + 21 * 11));
  EXPECT_EQ(g.shape_str(), "[1, 21, 5] x [1, 5, 11] x [1, 21, 11]");
  EXPECT_STREQ(p.ops[1].op, "layer_norm");
  EXPECT_DOUBLE_EQ(p.ops[1].flops, 8.0 * 60);
  EXPECT_DOUBLE_EQ(p.ops[1].bytes, 4.0 * (60 + 10 + 10 + 60 + 6 + 6));
  EXPECT_STREQ(p.ops[2].op, "unary.add_scalar");
  EXPECT_DOUBLE_EQ(p.ops[2].flops, 60);
  // A broadcast (stride-0) operand is read once.
  Tensor row = randn({1, 10}, gen);
  Session s2(Device::cpu());
  add(x, row);
  Profile p2 = s2.finish();
  ASSERT_EQ(p2.ops.size(), 1u);
  EXPECT_DOUBLE_EQ(p2.ops[0].bytes, 4.0 * (60 + 10 + 60));
}

TEST(Profiler, OffByDefaultAndCountersKept) {
  EXPECT_EQ(active_session(), nullptr);
  EXPECT_EQ(&backend_for(Device::cpu()), &cpu_backend());
  Generator gen(3);
  Tensor a = randn({4, 4}, gen);
  const int64_t before = cpu_backend().gemm_calls;
  {
    Session s(Device::cpu());
    EXPECT_NE(&backend_for(Device::cpu()), &cpu_backend()) << "the recording wrapper while a session is active";
    matmul(a, a);
    s.finish();
  }
  EXPECT_EQ(cpu_backend().gemm_calls - before, 1) << "the device's GEMM counter still counts profiled GEMMs";
  EXPECT_EQ(&backend_for(Device::cpu()), &cpu_backend());
  EXPECT_EQ(active_session(), nullptr);
}

// A training step of a transformer big enough that its ops dominate: per-op times must account for the
// measured step (within 10%), and the phases must partition it.
TEST(Profiler, OpTimesSumToTheStep) {
  Generator gen(4);
  TwoLayerModel model(gen, 256, 4);
  std::vector<Tensor> params = model.parameters();
  optim::SGD sgd(params, {.lr = 0.01, .momentum = 0.9});
  Tensor x = randn({8, 64, 256}, gen);
  auto step = [&] {
    sgd.zero_grad();
    sum(model.forward(x)).backward();
    sgd.step();
  };
  step();  // warm-up
  Session s(Device::cpu());
  for (int i = 0; i < 3; ++i) {
    s.begin_step();
    step();
    s.end_step();
  }
  const Profile p = s.finish();
  ASSERT_EQ(p.steps.size(), 3u);
  double wall = 0, ops = 0;
  for (const StepTimes& t : p.steps) {
    wall += t.wall_us();
    double phases = 0;
    for (double v : t.phase_us) phases += v;
    EXPECT_NEAR(phases, t.wall_us(), 1e-6 * t.wall_us() + 1e-3);
    EXPECT_GT(t.phase_us[size_t(Phase::Forward)], 0);
    EXPECT_GT(t.phase_us[size_t(Phase::Backward)], 0);
    EXPECT_GT(t.phase_us[size_t(Phase::Optimizer)], 0);
  }
  for (const OpRecord& r : p.ops) {
    EXPECT_GE(r.step, 0);
    EXPECT_LE(r.host_begin_us, r.host_end_us);
    ops += r.time_us();
  }
  EXPECT_LE(ops, wall);
  EXPECT_GE(ops, 0.9 * wall) << "op time " << ops << " µs of a measured " << wall << " µs";
  const Summary sum = summarize(p, Peaks{"test", "", 1e11, 1e11, 1e11, 1e10}, "test");
  EXPECT_NEAR(sum.op_us * 3, ops, 1e-6 * ops);
  EXPECT_GT(sum.phases[size_t(Phase::Optimizer)].ops, 0);
  EXPECT_EQ(sum.by_kind.front().key, "gemm") << format_report(sum);
}

// A collective as engine/dist records it: one op in the communication phase with its bytes, whatever
// backend calls it makes inside.
TEST(Profiler, OpScopeRecordsOneOpInItsPhase) {
  Generator gen(7);
  Tensor x = randn({8, 8}, gen);
  Session s(Device::cpu());
  s.begin_step();
  {
    PhaseScope phase(Phase::Communication);
    OpScope op("all_reduce", DType::F32, 256.0, false);
    add(x, x);  // staging work inside the collective
  }
  add(x, x);
  s.end_step();
  const Profile p = s.finish();
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_STREQ(p.ops[0].op, "all_reduce");
  EXPECT_EQ(p.ops[0].phase, Phase::Communication);
  EXPECT_DOUBLE_EQ(p.ops[0].bytes, 256.0);
  EXPECT_STREQ(p.ops[1].op, "binary.add");
  EXPECT_EQ(p.ops[1].phase, Phase::Forward);
  EXPECT_GT(p.steps[0].phase_us[size_t(Phase::Communication)], 0);
}

// A loop that finds no data after begin_step drops that step and its records; modules group by depth.
TEST(Profiler, AbandonedStepAndModuleDepth) {
  Generator gen(8);
  TwoLayerModel model(gen);
  Tensor x = randn({2, 5, 16}, gen);
  Session s(Device::cpu(), /*steps_only=*/true);
  model.forward(x);  // between steps: not recorded
  s.begin_step();
  model.forward(x);
  s.end_step();
  const size_t kept = 1;
  s.begin_step();
  add(x, x);
  s.abandon_step();
  const Profile p = s.finish();
  ASSERT_EQ(p.steps.size(), kept);
  for (const OpRecord& r : p.ops) EXPECT_EQ(r.step, 0);
  const Summary by_block = summarize(p, Peaks{"test", "", 1e11, 1e11, 1e11, 1e10}, "depth", 3);
  std::set<std::string> keys;
  for (const OpStats& r : by_block.by_module) keys.insert(r.key);
  EXPECT_EQ(keys, (std::set<std::string>{"encoder.resblocks.0", "encoder.resblocks.1", "head"}));
  double calls = 0;
  for (const OpStats& r : by_block.by_module) calls += r.calls;
  EXPECT_DOUBLE_EQ(calls, double(p.ops.size()));
}

TEST(Profiler, ChromeTraceHasOneEventPerOp) {
  Generator gen(5);
  TwoLayerModel model(gen);
  Session s(Device::cpu());
  s.begin_step();
  sum(model.forward(randn({2, 5, 16}, gen))).backward();
  s.end_step();
  const Profile p = s.finish();
  const nlohmann::json trace = nlohmann::json::parse(chrome_trace(p).dump());  // valid JSON text
  ASSERT_TRUE(trace.contains("traceEvents") && trace["traceEvents"].is_array());
  size_t op_events = 0;
  for (const auto& e : trace["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("name")) << e.dump();
    const std::string ph = e["ph"];
    ASSERT_TRUE(ph == "X" || ph == "M") << e.dump();
    if (ph != "X") continue;
    ASSERT_TRUE(e["ts"].is_number() && e["dur"].is_number() && e.contains("tid")) << e.dump();
    EXPECT_GE(e["dur"].get<double>(), 0);
    if (e["cat"] == "op") {
      ++op_events;
      EXPECT_TRUE(e["args"].contains("module") && e["args"].contains("shapes") && e["args"].contains("flops"));
    }
  }
  EXPECT_EQ(op_events, p.ops.size());
}

TEST(Profiler, RooflineHasADiscPerGroup) {
  Generator gen(6);
  TwoLayerModel model(gen);
  Session s(Device::cpu());
  model.forward(randn({2, 5, 16}, gen));
  const Profile p = s.finish();
  const Summary sum = summarize(p, Peaks{"test", "", 1e11, 1e11, 1e11, 1e10}, "roofline test");
  const std::string svg = roofline_svg(sum);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  size_t discs = 0;
  for (size_t at = svg.find("<title>"); at != std::string::npos; at = svg.find("<title>", at + 1)) ++discs;
  size_t plotted = 0;
  for (const OpStats& r : sum.by_shape) plotted += r.intensity > 0 && r.flops_per_s > 0;
  EXPECT_EQ(discs, plotted);
  EXPECT_GT(plotted, 3u);
}

TEST(Peaks, KnownPartsAndTheFormula) {
  Peaks h100;
  ASSERT_TRUE(known_gpu_peaks("NVIDIA H100 80GB HBM3", h100));
  EXPECT_EQ(h100.source, "table: H100 SXM");
  EXPECT_NEAR(h100.bandwidth, 3.35e12, 1e9);
  Peaks h200;
  ASSERT_TRUE(known_gpu_peaks("NVIDIA H200", h200));
  EXPECT_NEAR(h200.bandwidth, 4.8e12, 1e9);
  EXPECT_FALSE(known_gpu_peaks("NVIDIA GeForce RTX 4090", h200));
  // A100 SXM 40GB from its properties: 108 SMs × 64 FP32 lanes × 2 × 1410 MHz = 19.5 TFLOP/s,
  // 108 × 1024 tensor FMAs × 2 × 1410 MHz = 312 TFLOP/s, 2 × 1215 MHz × 5120 bits / 8 = 1.555 TB/s.
  const Peaks a100 = computed_gpu_peaks("NVIDIA A100-SXM4-40GB", 108, 8, 1410, 1215, 5120);
  EXPECT_NEAR(a100.vector_f32 / 1e12, 19.49, 0.01);
  EXPECT_NEAR(a100.gemm_f16 / 1e12, 311.9, 0.1);
  EXPECT_NEAR(a100.bandwidth / 1e12, 1.555, 0.001);
  EXPECT_DOUBLE_EQ(a100.flops_for("gemm", DType::BF16), a100.gemm_f16);
  EXPECT_DOUBLE_EQ(a100.flops_for("softmax", DType::F16), a100.vector_f32);
}

}  // namespace
}  // namespace clipt::profile
