// A small pre-LN transformer block trained end to end on both backends: the loss and every parameter
// gradient must agree between CUDA and CPU; two CUDA runs must be bit-identical (deterministic kernels);
// and after warm-up a training step (forward, backward, AdamW) must not grow the CUDA memory pool.
#include <cmath>
#include <map>

#include "tests/gpu/gpu_test_util.h"

#ifdef CLIPT_WITH_CUDA
#include "engine/runtime/memory.h"
#endif

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::random_cpu;

constexpr int64_t kVocab = 61, kLen = 13, kDim = 64, kHeads = 4, kClasses = 7, kBatch = 5;

// Parameters by name, created on the CPU from fixed seeds and copied to the target device.
std::map<std::string, Tensor> make_params(Device device, DType dtype) {
  std::map<std::string, Tensor> p;
  uint64_t seed = 500;
  auto add = [&](const std::string& name, const Shape& shape, double lo, double hi) {
    Tensor t = random_cpu(shape, DType::F32, seed++, lo, hi).to(dtype);
    p[name] = (device.is_cpu() ? t.clone() : t.to(device)).detach().requires_grad_();
  };
  add("token_embedding", {kVocab, kDim}, -0.5, 0.5);
  add("position", {kLen, kDim}, -0.1, 0.1);
  add("ln1.w", {kDim}, 0.8, 1.2);
  add("ln1.b", {kDim}, -0.1, 0.1);
  add("qkv.w", {3 * kDim, kDim}, -0.15, 0.15);
  add("qkv.b", {3 * kDim}, -0.05, 0.05);
  add("out.w", {kDim, kDim}, -0.15, 0.15);
  add("out.b", {kDim}, -0.05, 0.05);
  add("ln2.w", {kDim}, 0.8, 1.2);
  add("ln2.b", {kDim}, -0.1, 0.1);
  add("fc.w", {4 * kDim, kDim}, -0.15, 0.15);
  add("fc.b", {4 * kDim}, -0.05, 0.05);
  add("proj.w", {kDim, 4 * kDim}, -0.08, 0.08);
  add("proj.b", {kDim}, -0.05, 0.05);
  add("head.w", {kClasses, kDim}, -0.3, 0.3);
  return p;
}

struct Batch {
  Tensor ids, labels;
};

Batch make_batch(Device device) {
  std::vector<int64_t> ids(static_cast<size_t>(kBatch * kLen)), labels(static_cast<size_t>(kBatch));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t((i * 7 + 3) % kVocab);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int64_t((i * 3) % kClasses);
  labels[1] = -100;  // an ignored row
  return {Tensor::from_vector(ids, {kBatch, kLen}, device), Tensor::from_vector(labels, {kBatch}, device)};
}

// Embedding → LN → causal multi-head attention → residual → LN → QuickGELU MLP → residual → last token →
// L2-normalised cosine classifier → cross-entropy with label smoothing.
Tensor forward_loss(const std::map<std::string, Tensor>& p, const Batch& b) {
  const int64_t dh = kDim / kHeads;
  Tensor x = add(embedding(p.at("token_embedding"), b.ids), p.at("position"));
  Tensor h = layer_norm(x, p.at("ln1.w"), p.at("ln1.b"));
  Tensor qkv = linear(h, p.at("qkv.w"), p.at("qkv.b")).reshape({kBatch, kLen, 3, kHeads, dh}).permute({2, 0, 3, 1, 4});
  Tensor attn = scaled_dot_product_attention(select(qkv, 0, 0), select(qkv, 0, 1), select(qkv, 0, 2), true);
  attn = attn.transpose(1, 2).reshape({kBatch, kLen, kDim});
  x = add(x, linear(attn, p.at("out.w"), p.at("out.b")));
  Tensor m = quick_gelu(linear(layer_norm(x, p.at("ln2.w"), p.at("ln2.b")), p.at("fc.w"), p.at("fc.b")));
  x = add(x, linear(m, p.at("proj.w"), p.at("proj.b")));
  Tensor pooled = l2_normalize(select(x, 1, kLen - 1));
  Tensor logits = mul(linear(pooled, l2_normalize(p.at("head.w"))), 10.0);
  return cross_entropy(logits.to(DType::F32), b.labels, 0.1);
}

TEST(CudaTransformer, GradientsMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  auto pc = make_params(Device::cpu(), DType::F32);
  auto pg = make_params(cuda0(), DType::F32);
  Tensor lc = forward_loss(pc, make_batch(Device::cpu()));
  Tensor lg = forward_loss(pg, make_batch(cuda0()));
  EXPECT_NEAR(lg.item(), lc.item(), 1e-5 * std::max(1.0, std::abs(lc.item())));
  lc.backward();
  lg.backward();
  for (const auto& [name, t] : pc) {
    ASSERT_TRUE(pg.at(name).grad().defined()) << name;
    EXPECT_TRUE(test::all_close(pg.at(name).grad(), t.grad(), 1e-3, 1e-5)) << name;
  }
}

TEST(CudaTransformer, MixedPrecisionForwardIsClose) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const double ref = forward_loss(make_params(Device::cpu(), DType::F32), make_batch(Device::cpu())).item();
  for (DType dt : {DType::F16, DType::BF16}) {
    auto pg = make_params(cuda0(), dt);
    Tensor lg = forward_loss(pg, make_batch(cuda0()));
    EXPECT_NEAR(lg.item(), ref, dt == DType::F16 ? 3e-2 : 1.5e-1) << dtype_name(dt);
    lg.backward();
    for (const auto& [name, t] : pg) {
      ASSERT_TRUE(t.grad().defined()) << name;
      EXPECT_EQ(t.grad().dtype(), dt) << name;
      const double n = norm(t.grad().to(DType::F32)).item();
      EXPECT_TRUE(std::isfinite(n)) << name << " " << dtype_name(dt);
    }
  }
}

TEST(CudaTransformer, TwoRunsAreBitIdentical) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  std::vector<std::map<std::string, Tensor>> runs;
  std::vector<Tensor> losses;
  for (int r = 0; r < 2; ++r) {
    runs.push_back(make_params(cuda0(), DType::F32));
    Tensor loss = forward_loss(runs.back(), make_batch(cuda0()));
    loss.backward();
    losses.push_back(loss);
  }
  EXPECT_TRUE(test::bit_equal(losses[0], losses[1]));
  for (const auto& [name, t] : runs[0]) EXPECT_TRUE(test::bit_equal(t.grad(), runs[1].at(name).grad())) << name;
}

TEST(CudaTransformer, LargeReductionsAndScattersAreBitIdentical) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor x = random_cpu({3, 1 << 20}, DType::F32, 601).to(cuda0());
  EXPECT_TRUE(test::bit_equal(sum(x, {1}), sum(x, {1})));
  const Tensor cols = random_cpu({200000, 24}, DType::F16, 602).to(cuda0());
  EXPECT_TRUE(test::bit_equal(sum(cols, {0}), sum(cols, {0})));
  // index_add with heavy collisions (the embedding backward of a padded batch).
  std::vector<int64_t> idx(50000);
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i % 3 == 0 ? int64_t(i % 97) : 1;
  const Tensor index = Tensor::from_vector(idx, {int64_t(idx.size())}, cuda0());
  Tensor w = random_cpu({97, 512}, DType::F32, 603).to(cuda0()).detach();
  w.requires_grad_();
  auto grad_once = [&] {
    w.zero_grad();
    Tensor y = index_select(w, 0, index);
    sum(mul(y, y)).backward();
    return w.grad();
  };
  const Tensor g1 = grad_once();
  const Tensor g2 = grad_once();
  EXPECT_TRUE(test::bit_equal(g1, g2));
  // Layer-norm parameter gradients over many rows.
  const Tensor xs = random_cpu({20000, 96}, DType::BF16, 604).to(cuda0());
  auto ln_grads = [&] {
    Tensor lw = Tensor::ones({96}, DType::BF16, cuda0()).requires_grad_();
    sum(layer_norm(xs, lw, Tensor())).backward();
    return lw.grad();
  };
  EXPECT_TRUE(test::bit_equal(ln_grads(), ln_grads()));
}

#ifdef CLIPT_WITH_CUDA
TEST(CudaTransformer, SteadyStateTrainingStepAllocatesNothingNew) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  auto params = make_params(cuda0(), DType::F32);
  std::map<std::string, std::pair<Tensor, Tensor>> moments;
  for (const auto& [name, t] : params)
    moments[name] = {Tensor::zeros(t.shape(), DType::F32, cuda0()), Tensor::zeros(t.shape(), DType::F32, cuda0())};
  const Batch batch = make_batch(cuda0());
  int64_t step = 0;
  auto train_step = [&] {
    for (auto& [name, t] : params) t.zero_grad();
    Tensor loss = forward_loss(params, batch);
    loss.backward();
    ++step;
    NoGrad ng;
    for (auto& [name, t] : params) {
      auto& [m, v] = moments.at(name);
      cuda_backend().adamw_update(t, t.grad(), m, v, AdamWArgs{1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step});
    }
    return loss.item();  // a synchronising read, as a training loop's logging does
  };
  for (int i = 0; i < 3; ++i) train_step();
  cuda_backend().synchronize();
  const cuda::PoolStats warm = cuda::pool_stats(0);
  cuda::reset_pool_peaks(0);
  double last = 0;
  for (int i = 0; i < 5; ++i) last = train_step();
  cuda_backend().synchronize();
  const cuda::PoolStats after = cuda::pool_stats(0);
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_EQ(after.reserved_current, warm.reserved_current) << "the pool grew during steady-state steps";
  EXPECT_EQ(after.reserved_high, warm.reserved_current) << "the pool reserved more memory mid-step";
  EXPECT_EQ(after.used_current, warm.used_current) << "memory in use drifted between steps";
}
#endif

}  // namespace
}  // namespace clipt
