// The towers' deep-prompt hooks as the deep vision–language methods use them: zero-length prompts are a
// plain forward; the gradient of every prompt tensor (layer-0 and deep, both towers) matches finite
// differences in f64 through a tiny two-tower CLIP; the frozen towers run backward for activations only
// (GEMMs counted: no weight-gradient GEMM, and nothing recorded before the first prompted layer); the
// methods' prompt slots are what they train and read at every forward (so DPC can rebind them).
#include "engine/core/backend.h"
#include "engine/ops/gradcheck.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

// Backend GEMMs of one pre-LN block: forward qkv, out_proj, c_fc, c_proj (attention is one fused op with
// its own tile products); backward (weights frozen): dX of the four linears.
constexpr int64_t kForwardGemmsPerBlock = 4;
constexpr int64_t kActivationBackwardGemmsPerBlock = 4;

std::unique_ptr<clip::ClipModel> tiny_f64_clip() {
  clip::ClipConfig c;
  c.text = {8, 2, 2, 16, "quick_gelu", 1e-5};
  c.vocab_size = 20;
  c.context_length = 7;
  c.vision = {12, 2, 2, 24, "quick_gelu", 1e-5};
  c.image_size = 8;
  c.patch_size = 4;
  c.projection_dim = 6;
  Generator gen(5);
  auto m = std::make_unique<clip::ClipModel>(c, gen, DType::F64);
  {
    NoGrad ng;  // LayerNorm affine parameters away from (1, 0), so they matter in the gradient
    for (auto& [name, p] : m->named_parameters())
      if (name.find("ln_") != std::string::npos) {
        Tensor r = randn(p.shape(), gen, DType::F64);
        p.copy_(name.ends_with("weight") ? add(mul(r, 0.3), 1.0) : mul(r, 0.1));
      }
  }
  m->requires_grad_(false);
  return m;
}

// Start token 18, end token 19 (the largest id) after at least three tokens, zero padding.
Tensor tiny_ids() {
  return Tensor::from_vector(std::vector<int64_t>{18, 5, 6, 7,  19, 0,  0,   //
                                                  18, 9, 3, 4,  8,  11, 19,  //
                                                  18, 2, 2, 19, 0,  0,  0},
                             {3, 7});
}

// [N, L, W] embeddings with `ctx` ([n, W]) at positions 1..n.
Tensor splice(const Tensor& emb, const Tensor& ctx) {
  const int64_t n = ctx.size(0);
  return cat({emb.narrow(1, 0, 1), ctx.unsqueeze(0).expand({emb.size(0), n, ctx.size(1)}),
              emb.narrow(1, 1 + n, emb.size(1) - 1 - n)},
             1);
}

TEST(DeepPromptHooks, ZeroLengthPromptsAreAPlainForward) {
  auto clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  Generator gen(3);
  Tensor images = randn({2, 3, 32, 32}, gen);
  const int64_t wv = clip->config().vision.width, wt = clip->config().text.width;
  clip::VisionPrompts vp{Tensor::zeros({0, wv}), {Tensor(), Tensor::zeros({0, wv})}};
  EXPECT_TRUE(test::bit_equal(clip->encode_image(images, &vp), clip->encode_image(images)));

  Tensor ids = Tensor::from_vector(std::vector<int64_t>{1, 5, 6, 7, 671, 0, 1, 9, 671, 0, 0, 0}, {2, 6});
  Tensor emb = clip->text->embed(ids), eot = argmax(ids, 1);
  clip::TextPrompts tp{{Tensor(), Tensor::zeros({0, wt})}};
  Tensor plain = clip->text->forward(emb, eot);
  EXPECT_TRUE(test::bit_equal(clip->text->forward(emb, eot, &tp), plain));
  // A zero-token layer-0 context spliced after the start token changes nothing either.
  EXPECT_TRUE(test::bit_equal(clip->text->forward(splice(emb, Tensor::zeros({0, wt})), eot, &tp), plain));
}

TEST(DeepPromptHooks, PromptGradientsMatchFiniteDifferencesInBothTowers) {
  auto clip = tiny_f64_clip();
  Generator gen(9);
  Tensor images = randn({2, 3, 8, 8}, gen, DType::F64);
  Tensor ids = tiny_ids(), eot = argmax(ids, 1);
  Tensor emb = clip->text->embed(ids);
  // Layer-0 and layer-1 prompts of both towers: text 2 tokens of width 8, vision 3 tokens of width 12.
  TensorList prompts = {mul(randn({2, 8}, gen, DType::F64), 0.5), mul(randn({1, 2, 8}, gen, DType::F64), 0.5),
                        mul(randn({3, 12}, gen, DType::F64), 0.5), mul(randn({1, 3, 12}, gen, DType::F64), 0.5)};
  for (Tensor& p : prompts) p.requires_grad_();
  auto cosine = [&](const TensorList& in) {
    clip::TextPrompts tp{{Tensor(), in[1].select(0, 0)}};
    clip::VisionPrompts vp{in[2], {Tensor(), in[3].select(0, 0)}};
    Tensor txt = l2_normalize(clip->text->forward(splice(emb, in[0]), eot, &tp), -1);
    Tensor img = l2_normalize(clip->visual->forward(images, &vp), -1);
    return matmul(img, txt.t());  // [2 images, 3 texts]
  };
  GradcheckResult r = gradcheck(cosine, prompts);
  EXPECT_TRUE(r.ok) << r.message;
}

class FrozenTowerGemms : public ::testing::Test {
 protected:
  void SetUp() override {
    clip = clip::load_clip(test::golden_dir() / "clip_tiny");
    Generator gen(4);
    images = randn({2, 3, 32, 32}, gen);
    ids = Tensor::from_vector(std::vector<int64_t>{1, 5, 6, 7, 671, 0, 1, 9, 8, 3, 671, 0}, {2, 6});
    vision_ctx = mul(randn({3, clip->config().vision.width}, gen), 0.02);
    vision_deep = mul(randn({3, clip->config().vision.width}, gen), 0.02);
    text_ctx = mul(randn({2, clip->config().text.width}, gen), 0.02);
    text_deep = mul(randn({2, clip->config().text.width}, gen), 0.02);
  }
  // GEMMs run by the backward of sum(y).
  int64_t backward_gemms(const Tensor& y) {
    const int64_t before = cpu_backend().gemm_calls;
    sum(y).backward();
    return cpu_backend().gemm_calls - before;
  }
  void expect_no_weight_gradients() {
    for (auto& [name, w] : clip->named_parameters()) {
      EXPECT_FALSE(w.requires_grad()) << name;
      EXPECT_FALSE(w.grad().defined()) << name << " got a gradient";
    }
  }
  int64_t layers() const { return clip->config().vision.layers; }

  std::unique_ptr<clip::ClipModel> clip;
  Tensor images, ids, vision_ctx, vision_deep, text_ctx, text_deep;
};

TEST_F(FrozenTowerGemms, LayerZeroVisionPromptsBackpropagateThroughEveryLayerForActivationsOnly) {
  vision_ctx.requires_grad_();
  clip::VisionPrompts vp{vision_ctx, {Tensor(), vision_deep}};
  const int64_t before = cpu_backend().gemm_calls;
  Tensor y = clip->encode_image(images, &vp);
  ASSERT_EQ(cpu_backend().gemm_calls - before, 1 + kForwardGemmsPerBlock * layers() + 1);  // patches, blocks, proj
  // Every block needs activation gradients (the prompts enter at layer 0), the projection one dX; the
  // patch embedding (frozen input, frozen weight) is not on the tape.
  EXPECT_EQ(backward_gemms(y), kActivationBackwardGemmsPerBlock * layers() + 1);
  EXPECT_TRUE(vision_ctx.grad().defined());
  expect_no_weight_gradients();
}

TEST_F(FrozenTowerGemms, NothingIsRecordedBeforeTheFirstPromptedLayer) {
  vision_deep.requires_grad_();  // layer-0 prompts frozen: the tape starts at block 1
  clip::VisionPrompts vp{vision_ctx, {Tensor(), vision_deep}};
  EXPECT_EQ(backward_gemms(clip->encode_image(images, &vp)), kActivationBackwardGemmsPerBlock * (layers() - 1) + 1);
  EXPECT_TRUE(vision_deep.grad().defined());

  text_deep.requires_grad_();
  clip::TextPrompts tp{{Tensor(), text_deep}};
  Tensor emb = splice(clip->text->embed(ids), text_ctx);
  EXPECT_EQ(backward_gemms(clip->text->forward(emb, argmax(ids, 1), &tp)),
            kActivationBackwardGemmsPerBlock * (clip->config().text.layers - 1) + 1);
  EXPECT_TRUE(text_deep.grad().defined());
  expect_no_weight_gradients();
}

TEST_F(FrozenTowerGemms, LayerZeroTextContextBackpropagatesThroughEveryLayerForActivationsOnly) {
  text_ctx.requires_grad_();
  clip::TextPrompts tp{{Tensor(), text_deep}};
  Tensor emb = splice(clip->text->embed(ids), text_ctx);
  EXPECT_EQ(backward_gemms(clip->text->forward(emb, argmax(ids, 1), &tp)),
            kActivationBackwardGemmsPerBlock * clip->config().text.layers + 1);
  EXPECT_TRUE(text_ctx.grad().defined());
  expect_no_weight_gradients();
}

TEST_F(FrozenTowerGemms, TheCountSeesWeightGradientWork) {
  // Control: with trainable weights the same backward runs the weight-gradient GEMMs too (4 linears per
  // block, the projection and the patch embedding).
  clip->requires_grad_(true);
  vision_ctx.requires_grad_();
  clip::VisionPrompts vp{vision_ctx, {}};
  EXPECT_EQ(backward_gemms(clip->encode_image(images, &vp)),
            (kActivationBackwardGemmsPerBlock + 4) * layers() + 1 + 1 + 1);
}

// ---- prompt slots: what the methods train is what they read at every forward ----

struct SlotCase {
  std::string trainer;
  std::vector<std::pair<std::string, ConfigValue>> keys;
};

class DeepPromptSlots : public ::testing::TestWithParam<SlotCase> {};

TEST_P(DeepPromptSlots, SlotsAreTheTrainedTensorsAndAreReadAtEveryForward) {
  auto clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  auto tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  for (auto& [k, v] : GetParam().keys) cfg.set(k, v);
  methods::MethodContext ctx{clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""};
  auto method = methods::create_method(GetParam().trainer);
  method->build(ctx, {"red circle", "blue square", "dog"});
  auto slots = method->prompt_slots();
  auto params = method->trainable_parameters();
  ASSERT_EQ(slots.size(), params.size());
  for (size_t i = 0; i < slots.size(); ++i)
    EXPECT_EQ(slots[i].second->data_ptr(), params[i].second.data_ptr()) << slots[i].first;

  Generator gen(2);
  Tensor images = randn({2, 3, 32, 32}, gen);
  NoGrad ng;
  const Tensor text = method->text_features(), image = method->image_features(images);
  EXPECT_EQ(method->text_features({2, 0}).size(0), 2);
  // Rebinding the layer-0 prompts (as DPC does with its decoded prompts) changes the features...
  Tensor saved = *slots[0].second;
  *slots[0].second = zeros_like(saved);
  EXPECT_FALSE(test::all_close(method->text_features(), text, 1e-3, 1e-4));
  if (GetParam().trainer == "MaPLe")  // ...of the image tower too, where the couplings make its prompts
    EXPECT_FALSE(test::all_close(method->image_features(images), image, 1e-3, 1e-4));
  // ...and restoring them restores the method exactly.
  *slots[0].second = saved;
  EXPECT_TRUE(test::bit_equal(method->text_features(), text));
  EXPECT_TRUE(test::bit_equal(method->image_features(images), image));
}

INSTANTIATE_TEST_SUITE_P(Methods, DeepPromptSlots,
                         ::testing::Values(SlotCase{"IVLP",
                                                    {{"TRAINER.IVLP.PROMPT_DEPTH_TEXT", 2},
                                                     {"TRAINER.IVLP.PROMPT_DEPTH_VISION", 2}}},
                                           SlotCase{"MaPLe", {{"TRAINER.MAPLE.PROMPT_DEPTH", 2}}},
                                           SlotCase{"MetaPrompt", {{"TRAINER.META.LAYERS", 2}}}),
                         [](const auto& info) { return info.param.trainer; });

TEST(DeepPromptConfig, DepthsBeyondTheTowersAreErrorsNamingTheKey) {
  auto clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  auto tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  const std::vector<std::string> classes{"red circle", "dog"};
  auto build = [&](const std::string& trainer, const std::string& key, int64_t value) {
    Config cfg = default_config();
    cfg.set("TRAINER.IVLP.PROMPT_DEPTH_TEXT", 2);
    cfg.set("TRAINER.IVLP.PROMPT_DEPTH_VISION", 2);
    cfg.set("TRAINER.MAPLE.PROMPT_DEPTH", 2);
    cfg.set("TRAINER.META.LAYERS", 2);
    cfg.set(key, value);
    methods::MethodContext ctx{clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""};
    methods::create_method(trainer)->build(ctx, classes);
  };
  EXPECT_ERROR_CONTAINS(build("IVLP", "TRAINER.IVLP.PROMPT_DEPTH_TEXT", 9), "TRAINER.IVLP.PROMPT_DEPTH_TEXT is 9");
  EXPECT_ERROR_CONTAINS(build("IVLP", "TRAINER.IVLP.PROMPT_DEPTH_TEXT", 0), "TRAINER.IVLP.PROMPT_DEPTH_TEXT is 0");
  EXPECT_ERROR_CONTAINS(build("IVLP", "TRAINER.IVLP.PROMPT_DEPTH_VISION", 3), "TRAINER.IVLP.PROMPT_DEPTH_VISION");
  EXPECT_ERROR_CONTAINS(build("MaPLe", "TRAINER.MAPLE.PROMPT_DEPTH", 12), "TRAINER.MAPLE.PROMPT_DEPTH is 12");
  EXPECT_ERROR_CONTAINS(build("MetaPrompt", "TRAINER.META.LAYERS", 12), "TRAINER.META.LAYERS is 12");
  EXPECT_ERROR_CONTAINS(build("MetaPrompt", "TRAINER.META.N_CTX", 0), "TRAINER.META.N_CTX");
  EXPECT_NO_THROW(build("IVLP", "TRAINER.IVLP.PROMPT_DEPTH_VISION", 0));  // language-only prompting
}

}  // namespace
}  // namespace clipt
