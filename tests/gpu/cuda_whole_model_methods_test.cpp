// One training step of every prompt-learning method on CUDA against the same step on the CPU (the
// reference), on the tiny golden CLIP: the reported loss, the gradient of every trainable parameter left
// by the step, and how far the step moved each parameter. The CUDA model is f32 (tight tolerances, scaled
// to each tensor's size), f16 or bf16 (loose: direction and norm against the CPU f32 step). Both sides
// start from the same parameters (copied from the CPU method after build), so only the step is compared.
// DPC's second stage is compared through its contrastive step over a built batch with fixed negatives.
#include <cmath>
#include <memory>

#include "engine/ops/random.h"
#include "methods/dpc/dpc.h"
#include "methods/metaprompt/metaprompt.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/gpu/whole_model_util.h"

namespace clipt {
namespace {

using test::gpu::close_to;
using test::gpu::same_direction;
using test::gpu::test_device;

const std::vector<std::string>& classes() {
  static const std::vector<std::string> c = {"red circle", "blue square", "green triangle",
                                             "small star", "dog",         "yellow moon"};
  return c;
}

struct StepCase {
  std::string trainer;
  std::vector<std::string> overrides;  // KEY VALUE pairs (tiny-model sizes: 16-token context, 2 layers)
  DType dtype;
};

std::string case_name(const StepCase& c) { return c.trainer + "_" + std::string(dtype_name(c.dtype)); }
void PrintTo(const StepCase& c, std::ostream* os) { *os << case_name(c); }  // gtest's name for the case

// The tolerances of one dtype: f32 element-wise (relative to each tensor's largest element), 16-bit by
// direction and norm.
struct Bounds {
  double loss_rel, elem_rel, min_cosine, max_norm_ratio;
};
Bounds bounds_for(DType t) {
  switch (t) {
    case DType::F16: return {3e-2, 0, 0.99, 0.05};
    case DType::BF16: return {1e-1, 0, 0.95, 0.15};
    default: return {1e-5, 1e-3, 0, 0};
  }
}

double max_abs(const Tensor& t) { return max(abs(t.to(Device::cpu()).to(DType::F32))).item(); }

// `actual` (device) against `expected` (CPU f32) under the dtype's bounds.
::testing::AssertionResult matches(const std::string& what, const Tensor& actual, const Tensor& expected, DType dtype) {
  const Bounds b = bounds_for(dtype);
  if (dtype == DType::F32 || dtype == DType::F64)
    return close_to(what, actual, expected, b.elem_rel, b.elem_rel * max_abs(expected) + 1e-9);
  return same_direction(what, actual, expected, b.min_cosine, b.max_norm_ratio);
}

// A built method with its optimiser on one device.
struct Side {
  std::unique_ptr<clip::ClipModel> clip;
  clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  std::unique_ptr<methods::Method> method;
  std::unique_ptr<optim::SGD> sgd;

  Side(DType dtype, Device device, const std::vector<std::string>& overrides)
      : clip(clip::load_clip(test::golden_dir() / "clip_tiny", dtype, device)) {
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    cfg.set("TRAINER.COCOOP.N_CTX", int64_t(4));
    cfg.merge_from_list(overrides);
  }
  methods::MethodContext context(Device device) const {
    return methods::MethodContext{clip.get(), &tok, &cfg, "", device, 1, ""};
  }
  void make_sgd() {
    std::vector<Tensor> params;
    for (auto& [n, p] : method->trainable_parameters()) params.push_back(p);
    sgd = std::make_unique<optim::SGD>(params, optim::SgdOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4});
  }
};

// Copies the CPU method's trainable parameters into the device method's (they may have been drawn on the
// device's generator at build), checking that both have the same names and shapes.
void copy_parameters(const methods::Method& from, methods::Method& to) {
  const auto src = from.trainable_parameters();
  const auto dst = to.trainable_parameters();
  ASSERT_EQ(src.size(), dst.size()) << "the two devices' methods have different parameter lists";
  NoGrad ng;
  for (size_t i = 0; i < src.size(); ++i) {
    ASSERT_EQ(src[i].first, dst[i].first);
    ASSERT_EQ(src[i].second.shape(), dst[i].second.shape()) << src[i].first;
    Tensor d = dst[i].second;
    d.copy_(src[i].second);
  }
}

// Compares the loss, each parameter's gradient and each parameter's move between the two sides.
void compare_steps(double loss_dev, double loss_cpu, const methods::Method& dev, const methods::Method& cpu,
                   const std::vector<Tensor>& before, DType dtype) {
  const Bounds b = bounds_for(dtype);
  EXPECT_TRUE(std::isfinite(loss_dev)) << "the device step's loss is " << loss_dev;
  EXPECT_NEAR(loss_dev, loss_cpu, b.loss_rel * std::max(1.0, std::abs(loss_cpu)))
      << "loss: device " << loss_dev << " vs CPU " << loss_cpu << " (relative difference "
      << std::abs(loss_dev - loss_cpu) / std::max(1e-30, std::abs(loss_cpu)) << ")";
  const auto pd = dev.trainable_parameters(), pc = cpu.trainable_parameters();
  ASSERT_EQ(pd.size(), pc.size());
  for (size_t i = 0; i < pc.size(); ++i) {
    const std::string& name = pc[i].first;
    const Tensor gc = pc[i].second.grad(), gd = pd[i].second.grad();
    EXPECT_EQ(gd.defined(), gc.defined()) << name << ": gradient defined on one side only";
    if (gc.defined() && gd.defined()) EXPECT_TRUE(matches("gradient of " + name, gd, gc, dtype));
    EXPECT_EQ(pd[i].second.dtype(), pc[i].second.dtype()) << name << ": master parameters must stay f32";
    const Tensor moved_c = sub(pc[i].second.detach(), before[i]);
    const Tensor moved_d = sub(pd[i].second.detach().to(Device::cpu()), before[i]);
    if (max_abs(moved_c) > 0) EXPECT_TRUE(matches("step of " + name, moved_d, moved_c, dtype));
  }
}

methods::TrainBatch make_batch(Device device) {
  Generator gen(8);
  methods::TrainBatch b;
  b.images = randn({6, 3, 32, 32}, gen).to(device);
  b.labels = Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 3, 4, 5}, {6}, device);
  b.domains = Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 0, 1, 2}, {6}, device);
  return b;
}

class CudaMethodStep : public ::testing::TestWithParam<StepCase> {};

TEST_P(CudaMethodStep, OneTrainingStepMatchesCpu) {
  CLIPT_REQUIRE_CUDA();
  const StepCase& c = GetParam();
  const Device dev = test_device();
  Side cpu(DType::F32, Device::cpu(), c.overrides), gpu(c.dtype, dev, c.overrides);
  cpu.method = methods::create_method(c.trainer);
  gpu.method = methods::create_method(c.trainer);
  cpu.method->build(cpu.context(Device::cpu()), classes());
  gpu.method->build(gpu.context(dev), classes());
  copy_parameters(*cpu.method, *gpu.method);
  if (c.trainer == "MetaPrompt")  // its class splits: the same on both sides whatever the generators
    for (Side* s : {&cpu, &gpu})
      dynamic_cast<methods::MetaPrompt&>(*s->method).set_class_order_for_testing([](int64_t, int64_t) {
        return std::vector<int64_t>{4, 1, 3, 0, 5, 2};
      });
  cpu.make_sgd();
  gpu.make_sgd();
  std::vector<Tensor> before;
  for (auto& [n, p] : cpu.method->trainable_parameters()) before.push_back(p.detach().clone());

  const methods::StepResult rc = cpu.method->train_step(make_batch(Device::cpu()), *cpu.sgd);
  const methods::StepResult rg = gpu.method->train_step(make_batch(dev), *gpu.sgd);
  compare_steps(rg.loss.item(), rc.loss.item(), *gpu.method, *cpu.method, before, c.dtype);
  for (const auto& [k, v] : rc.metrics) {
    ASSERT_TRUE(rg.metrics.count(k)) << "metric " << k << " missing on the device";
    EXPECT_TRUE(std::isfinite(rg.metric(k))) << "metric " << k << " is " << rg.metric(k);
  }
}

std::vector<StepCase> step_cases() {
  const std::vector<std::pair<std::string, std::vector<std::string>>> methods = {
      {"CoOp", {}},
      {"KgCoOp", {}},
      {"CoCoOp", {}},
      {"ProGrad", {}},
      {"GCSCoOp", {"OPTIM.NAME", "gcsam", "OPTIM.RHO", "0.05"}},
      {"MaPLe", {"TRAINER.MAPLE.PROMPT_DEPTH", "2"}},
      {"IVLP", {"TRAINER.IVLP.PROMPT_DEPTH_TEXT", "2", "TRAINER.IVLP.PROMPT_DEPTH_VISION", "2"}},
      {"MetaPrompt", {"TRAINER.META.LAYERS", "2"}},
  };
  std::vector<StepCase> cases;
  for (DType dt : {DType::F32, DType::F16, DType::BF16})
    for (const auto& [name, keys] : methods) cases.push_back({name, keys, dt});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Methods, CudaMethodStep, ::testing::ValuesIn(step_cases()),
                         [](const auto& info) { return case_name(info.param); });

// DPC's stage-2 step over a CoOp backbone holding a tuned prompt P: the symmetric contrastive loss over a
// built batch (4 anchors, fixed negatives), backward and SGD on the parallel prompt.
class CudaMethodStepDpc : public ::testing::TestWithParam<DType> {};

TEST_P(CudaMethodStepDpc, ContrastiveStepMatchesCpu) {
  CLIPT_REQUIRE_CUDA();
  const DType dtype = GetParam();
  const Device dev = test_device();
  const std::vector<std::string> keys = {
      "SPLE.STACK.WEIGHT", "0.2", "SPLE.STACK.WEIGHT_FOR_NEW", "0.0", "SPLE.INFER_TOPK", "3", "DPC.SEMANTICS", "code"};
  Generator gp(7);
  const Tensor P = mul(randn({4, 32}, gp), 0.3);  // the stage-1 prompt (the tiny text width is 32)
  auto make = [&](Side& s, Device d) {
    auto backbone = methods::create_method("CoOp");
    backbone->build(s.context(d), classes());
    {
      NoGrad ng;
      backbone->prompt_slots().at(0).second->copy_(P);
    }
    auto dpc = std::make_unique<methods::dpc::Dpc>();
    dpc->build_over(s.context(d), classes(), std::move(backbone));
    s.method = std::move(dpc);
  };
  Side cpu(DType::F32, Device::cpu(), keys), gpu(dtype, dev, keys);
  make(cpu, Device::cpu());
  make(gpu, dev);
  copy_parameters(*cpu.method, *gpu.method);
  cpu.make_sgd();
  gpu.make_sgd();
  std::vector<Tensor> before;
  for (auto& [n, p] : cpu.method->trainable_parameters()) before.push_back(p.detach().clone());
  auto step = [&](Side& s, Device d) {
    Generator g(11);
    const Tensor anchors = randn({4, 3, 32, 32}, g).to(d), negatives = randn({3, 3, 32, 32}, g).to(d);
    auto& dpc = dynamic_cast<methods::dpc::Dpc&>(*s.method);
    s.sgd->zero_grad();
    methods::LossResult r =
        dpc.contrastive_loss(methods::dpc::assemble_batch(anchors, {0, 3, 5, 1}, {{2, 4}, {}, {1}, {}}, negatives));
    r.loss.backward();
    s.sgd->step();
    return r.loss.item();
  };
  const double lc = step(cpu, Device::cpu());
  const double lg = step(gpu, dev);
  compare_steps(lg, lc, *gpu.method, *cpu.method, before, dtype);
}

INSTANTIATE_TEST_SUITE_P(Dpc, CudaMethodStepDpc, ::testing::Values(DType::F32, DType::F16, DType::BF16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace clipt
