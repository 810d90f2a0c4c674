// Whole CLIP towers on CUDA against the CPU backend (the reference): the tiny golden CLIP in f32 (tight)
// and 16-bit (loose, against CPU f32), a ViT-B/16-shaped CLIP with random weights (197 image tokens, text
// run at its longest end token, 23 positions: odd lengths whose per-sequence fp16 views are only 2-byte
// aligned), fp16 GEMMs on views one element into their buffer, MultiheadAttention forward and backward,
// the exactness of end-of-text truncation on CUDA, and the deep-prompt hooks with their gradients.
// Each test is independent and takes well under a second on a GPU (the CPU reference dominates).
#include <cmath>
#include <memory>

#include "engine/nn/transformer.h"
#include "engine/ops/random.h"
#include "models/clip/clip_model.h"
#include "tests/gpu/whole_model_util.h"

namespace clipt {
namespace {

using test::gpu::close_to;
using test::gpu::same_direction;

Device cuda0() { return test::gpu::test_device(); }  // cuda:0 (the CPU in a dry run)

const nlohmann::json& io_fixture() {
  static const nlohmann::json j = test::golden_json("clip_tiny_io.json");
  return j;
}
Tensor pixels() {
  const auto& j = io_fixture()["pixel_values"];
  return Tensor::from_vector(j["data"].get<std::vector<float>>(), j["shape"].get<Shape>());
}
Tensor token_ids() {  // [4, 16], end tokens (671, the largest id) at 5, 15, 9 and 3
  const auto& j = io_fixture()["input_ids"];
  return Tensor::from_vector(j["data"].get<std::vector<int64_t>>(), j["shape"].get<Shape>());
}
std::unique_ptr<clip::ClipModel> tiny(DType dtype, Device device) {
  return clip::load_clip(test::golden_dir() / "clip_tiny", dtype, device);
}

TEST(CudaClipTowers, TinyFp32FeaturesLogitsAndInputGradientMatchCpu) {
  CLIPT_REQUIRE_CUDA();
  auto cpu = tiny(DType::F32, Device::cpu());
  auto gpu = tiny(DType::F32, cuda0());
  const Tensor images = pixels(), ids = token_ids();
  const Tensor fi_c = cpu->encode_image(images), fi_g = gpu->encode_image(images.to(cuda0()));
  const Tensor ft_c = cpu->encode_text(ids), ft_g = gpu->encode_text(ids.to(cuda0()));
  EXPECT_TRUE(close_to("image features", fi_g, fi_c, 1e-4, 1e-5));
  EXPECT_TRUE(close_to("text features", ft_g, ft_c, 1e-4, 1e-5));
  EXPECT_TRUE(close_to("logits", gpu->logits(fi_g, ft_g), cpu->logits(fi_c, ft_c), 1e-4, 1e-4));

  // The gradient reaching the text tower's input embeddings (what CoOp's context receives).
  auto input_grad = [&](clip::ClipModel& m, Device d) {
    const Tensor id = ids.to(d);
    Tensor emb = m.text->embed(id).detach().requires_grad_();
    const Tensor labels = Tensor::from_vector(std::vector<int64_t>{0, 1, 2}, {3}, d);
    Tensor loss = cross_entropy(m.logits(m.encode_image(images.to(d)), m.text->forward(emb, argmax(id, 1))), labels);
    loss.backward();
    return std::make_pair(loss, emb.grad());
  };
  const auto [loss_c, grad_c] = input_grad(*cpu, Device::cpu());
  const auto [loss_g, grad_g] = input_grad(*gpu, cuda0());
  EXPECT_TRUE(close_to("loss", loss_g, loss_c, 1e-5, 1e-6));
  EXPECT_TRUE(close_to("gradient of the input embeddings", grad_g, grad_c, 1e-3, 1e-6));
}

TEST(CudaClipTowers, TinyHalfPrecisionIsCloseToCpu) {
  CLIPT_REQUIRE_CUDA();
  auto ref = tiny(DType::F32, Device::cpu());
  const Tensor images = pixels(), ids = token_ids();
  const Tensor fi = ref->encode_image(images), ft = ref->encode_text(ids);
  for (DType dt : {DType::F16, DType::BF16}) {
    SCOPED_TRACE(std::string(dtype_name(dt)));
    auto gpu = tiny(dt, cuda0());
    auto cpu16 = tiny(dt, Device::cpu());
    const Tensor gi = gpu->encode_image(images.to(cuda0())), gt = gpu->encode_text(ids.to(cuda0()));
    // Against f32: the same bound as the CPU's own 16-bit test (ClipModel.HalfPrecisionIsClose).
    EXPECT_TRUE(close_to("image features vs CPU f32", gi, fi, 0.05, 0.05));
    EXPECT_TRUE(close_to("text features vs CPU f32", gt, ft, 0.05, 0.05));
    // Against the CPU in the same dtype: both round from f32 accumulations, so closer.
    const double tol = dt == DType::F16 ? 1e-2 : 4e-2;
    EXPECT_TRUE(close_to("image features vs CPU same dtype", gi, cpu16->encode_image(images), tol, tol));
    EXPECT_TRUE(close_to("text features vs CPU same dtype", gt, cpu16->encode_text(ids), tol, tol));
  }
}

// ViT-B/16 widths, heads and resolution (197 image tokens), two layers per tower (the shapes, not the depth,
// are what the kernels see), random weights; the text batch's longest end token is at 22, so the text
// tower runs 23 positions.
clip::ClipConfig vit_b16_shaped() {
  clip::ClipConfig c;
  c.text = {512, 2, 8, 2048, "quick_gelu", 1e-5};
  c.vision = {768, 2, 12, 3072, "quick_gelu", 1e-5};
  c.vocab_size = 1000;
  c.image_size = 224;
  c.patch_size = 16;
  c.projection_dim = 512;
  return c;
}

Tensor vit_text_ids() {
  const int64_t eot = 999, rows = 3, len = 77;
  const int64_t ends[rows] = {22, 7, 15};
  std::vector<int64_t> ids(size_t(rows * len), 0);
  for (int64_t r = 0; r < rows; ++r) {
    ids[size_t(r * len)] = 998;  // start token
    for (int64_t p = 1; p < ends[r]; ++p) ids[size_t(r * len + p)] = (r * 131 + p * 17) % 990 + 1;
    ids[size_t(r * len + ends[r])] = eot;
  }
  return Tensor::from_vector(ids, {rows, len});
}

// A CUDA copy of `src` holding its weights (from f32: the 16-bit copies are the f32 weights rounded once).
std::unique_ptr<clip::ClipModel> cuda_copy(const clip::ClipModel& src, const clip::ClipConfig& c, DType dtype) {
  Generator unused(0);
  auto m = std::make_unique<clip::ClipModel>(c, unused, dtype);
  m->to(cuda0());
  const auto from = src.state_dict();
  auto to = m->state_dict();
  EXPECT_EQ(from.size(), to.size());
  NoGrad ng;
  for (size_t i = 0; i < std::min(from.size(), to.size()); ++i) {
    EXPECT_EQ(from[i].first, to[i].first);
    EXPECT_EQ(from[i].second.shape(), to[i].second.shape()) << from[i].first;
    to[i].second.copy_(from[i].second);
  }
  return m;
}

TEST(CudaClipTowers, VitB16ShapedMatchesCpuInFp32AndFp16) {
  CLIPT_REQUIRE_CUDA();
  const clip::ClipConfig c = vit_b16_shaped();
  Generator g(77);
  clip::ClipModel cpu(c, g, DType::F32);
  Generator gi(78);
  const Tensor images = randn({3, 3, 224, 224}, gi), ids = vit_text_ids();
  NoGrad ng;
  const Tensor fi = cpu.encode_image(images), ft = cpu.encode_text(ids);
  EXPECT_EQ(ft.size(0), 3);
  {
    auto gpu = cuda_copy(cpu, c, DType::F32);
    EXPECT_TRUE(close_to("B/16 image features, CUDA f32", gpu->encode_image(images.to(cuda0())), fi, 1e-3, 1e-4));
    EXPECT_TRUE(close_to("B/16 text features, CUDA f32", gpu->encode_text(ids.to(cuda0())), ft, 1e-3, 1e-4));
  }
  for (DType dt : {DType::F16, DType::BF16}) {
    SCOPED_TRACE(std::string(dtype_name(dt)));
    auto gpu = cuda_copy(cpu, c, dt);
    ASSERT_EQ(gpu->dtype(), dt);
    const Tensor hi = gpu->encode_image(images.to(cuda0())), ht = gpu->encode_text(ids.to(cuda0()));
    const double min_cos = dt == DType::F16 ? 0.999 : 0.99, atol = dt == DType::F16 ? 2e-2 : 6e-2;
    EXPECT_TRUE(same_direction("B/16 image features vs CPU f32", hi, fi, min_cos, 0.02));
    EXPECT_TRUE(same_direction("B/16 text features vs CPU f32", ht, ft, min_cos, 0.02));
    EXPECT_TRUE(close_to("B/16 image features vs CPU f32", hi, fi, 0.1, atol));
    EXPECT_TRUE(close_to("B/16 text features vs CPU f32", ht, ft, 0.1, atol));
  }
}

// fp16 GEMMs whose operands start one element into their buffers and have odd sizes: 2-byte alignment
// only, which cuBLASLt's vectorised kernels refuse (the multi-algorithm search or the plain GEMM must
// take them). Forward and both input gradients.
TEST(CudaClipTowers, Fp16GemmsOnTwoByteAlignedOddViewsMatchCpu) {
  CLIPT_REQUIRE_CUDA();
  for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{197, 77, 33}, {69, 513, 511}, {23, 768, 2305}}) {
    const std::string what = "linear " + std::to_string(m) + "x" + std::to_string(k) + " · " + std::to_string(k) + "x" +
                             std::to_string(n) + " at element offset 1";
    const Tensor x = test::gpu::random_cpu({m, k + 1}, DType::F16, 90 + uint64_t(m), -1, 1);
    const Tensor w = test::gpu::random_cpu({n, k + 1}, DType::F16, 91 + uint64_t(n), -0.1, 0.1);
    const Tensor b = test::gpu::random_cpu({n + 1}, DType::F16, 92, -0.1, 0.1);
    auto run = [&](Device d) {
      Tensor xd = x.to(d).detach().requires_grad_(), wd = w.to(d).detach().requires_grad_();
      Tensor y = linear(xd.narrow(1, 1, k), wd.narrow(1, 1, k), b.to(d).narrow(0, 1, n));
      sum(mul(y.to(DType::F32), y.to(DType::F32))).backward();
      return std::make_tuple(y, xd.grad(), wd.grad());
    };
    const auto [yc, dxc, dwc] = run(Device::cpu());
    const auto [yg, dxg, dwg] = run(cuda0());
    EXPECT_TRUE(close_to(what + ": output", yg, yc, 4e-3, 4e-3));
    EXPECT_TRUE(same_direction(what + ": input gradient", dxg, dxc, 0.9999, 5e-3));
    EXPECT_TRUE(same_direction(what + ": weight gradient", dwg, dwc, 0.9999, 5e-3));
  }
}

TEST(CudaClipTowers, MultiheadAttentionForwardAndBackwardMatchCpu) {
  CLIPT_REQUIRE_CUDA();
  for (bool causal : {false, true}) {
    SCOPED_TRACE(causal ? "causal" : "bidirectional");
    Generator g_cpu(31), g_gpu(31);
    nn::MultiheadAttention cpu(96, 6, g_cpu), gpu(96, 6, g_gpu);
    gpu.to(cuda0());
    const Tensor x = test::gpu::random_cpu({3, 13, 96}, DType::F32, 32, -1, 1);
    const Tensor w = test::gpu::random_cpu({3, 13, 96}, DType::F32, 33, -1, 1);
    auto run = [&](nn::MultiheadAttention& m, Device d) {
      Tensor xd = x.to(d).detach().requires_grad_();
      m.in_proj_weight.requires_grad_();
      Tensor y = m.forward(xd, causal);
      sum(mul(y, w.to(d))).backward();
      return std::make_tuple(y, xd.grad(), m.in_proj_weight.grad());
    };
    const auto [yc, dxc, dwc] = run(cpu, Device::cpu());
    const auto [yg, dxg, dwg] = run(gpu, cuda0());
    EXPECT_TRUE(close_to("attention output", yg, yc, 1e-4, 1e-5));
    EXPECT_TRUE(close_to("gradient of x", dxg, dxc, 1e-3, 1e-5));
    EXPECT_TRUE(close_to("gradient of in_proj_weight", dwg, dwc, 1e-3, 1e-5));
  }
}

TEST(CudaClipTowers, EndOfTextTruncationIsExactOnCuda) {
  CLIPT_REQUIRE_CUDA();
  auto gpu = tiny(DType::F32, cuda0());
  const Tensor ids = token_ids().to(cuda0());
  const Tensor full = gpu->encode_text(ids, /*truncate=*/false);
  // The causal mask makes positions after the end token irrelevant: the same features (the CPU test's
  // bound; the attention tiles may differ with the length, hence not bit-for-bit).
  EXPECT_TRUE(close_to("truncated vs full-length text features", gpu->encode_text(ids, true), full, 0, 1e-6));
  // A batch whose longest prompt ends early (row 3: end token at 3) runs at 4 positions.
  EXPECT_TRUE(close_to("short batch", gpu->encode_text(ids.narrow(0, 3, 1), true), full.narrow(0, 3, 1), 0, 1e-6));
  auto cpu = tiny(DType::F32, Device::cpu());
  EXPECT_TRUE(
      close_to("truncated CUDA vs CPU", gpu->encode_text(ids, true), cpu->encode_text(token_ids(), true), 1e-4, 1e-5));
}

// Layer-0 and layer-1 prompts of both towers (as IVLP/MaPLe use them): features and every prompt's
// gradient, CUDA vs CPU.
TEST(CudaClipTowers, DeepPromptHooksAndTheirGradientsMatchCpu) {
  CLIPT_REQUIRE_CUDA();
  auto cpu = tiny(DType::F32, Device::cpu());
  auto gpu = tiny(DType::F32, cuda0());
  const Tensor images = pixels(), ids = token_ids();
  const int64_t wt = cpu->config().text.width, wv = cpu->config().vision.width;
  const TensorList prompts = {test::gpu::random_cpu({2, wt}, DType::F32, 41, -0.5, 0.5),
                              test::gpu::random_cpu({2, wt}, DType::F32, 42, -0.5, 0.5),
                              test::gpu::random_cpu({3, wv}, DType::F32, 43, -0.5, 0.5),
                              test::gpu::random_cpu({3, wv}, DType::F32, 44, -0.5, 0.5)};
  auto run = [&](clip::ClipModel& m, Device d) {
    TensorList p;
    for (const Tensor& t : prompts) p.push_back(t.to(d).detach().requires_grad_());
    const Tensor id = ids.to(d), emb = m.text->embed(id);
    // The layer-0 text context replaces positions 1..2 (every row's end token is at 3 or later).
    Tensor spliced = cat(
        {emb.narrow(1, 0, 1), p[0].unsqueeze(0).expand({emb.size(0), 2, wt}), emb.narrow(1, 3, emb.size(1) - 3)}, 1);
    clip::TextPrompts tp{{Tensor(), p[1]}};
    clip::VisionPrompts vp{p[2], {Tensor(), p[3]}};
    Tensor txt = l2_normalize(m.text->forward(spliced, argmax(id, 1), &tp), -1);
    Tensor img = l2_normalize(m.visual->forward(images.to(d), &vp), -1);
    Tensor sim = matmul(img, txt.t());
    sum(mul(sim, sim)).backward();
    TensorList out{sim};
    for (const Tensor& t : p) out.push_back(t.grad());
    return out;
  };
  const TensorList c = run(*cpu, Device::cpu()), g = run(*gpu, cuda0());
  EXPECT_TRUE(close_to("image-text cosines with deep prompts", g[0], c[0], 1e-4, 1e-5));
  const char* names[] = {"text layer-0 prompt", "text layer-1 prompt", "vision layer-0 prompt",
                         "vision layer-1 prompt"};
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(g[i + 1].defined()) << names[i] << " got no gradient on CUDA";
    EXPECT_TRUE(close_to(std::string("gradient of the ") + names[i], g[i + 1], c[i + 1], 1e-3, 1e-6));
  }
}

}  // namespace
}  // namespace clipt
