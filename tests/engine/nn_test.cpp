// nn modules: checkpoint names, state dicts, freezing, and a two-layer transformer that learns.
#include "engine/nn/transformer.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

TEST(Module, NamesAreCheckpointNames) {
  Generator g(1);
  nn::Transformer t(8, 2, 2, 32, nn::Activation::QuickGelu, g);
  auto params = t.named_parameters();
  std::vector<std::string> names;
  for (auto& [n, p] : params) names.push_back(n);
  EXPECT_EQ(names.front(), "resblocks.0.ln_1.weight");
  EXPECT_NE(std::find(names.begin(), names.end(), "resblocks.1.attn.in_proj_weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "resblocks.1.attn.out_proj.bias"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "resblocks.1.mlp.c_proj.weight"), names.end());
  // 2 layers × (2 LN × 2 + in_proj w/b + out_proj w/b + 2 linears × 2) = 2 × 12.
  EXPECT_EQ(params.size(), 24u);
  EXPECT_EQ(t.num_parameters(), 2 * (4 * 8 + 3 * 64 + 24 + 64 + 8 + 8 * 32 + 32 + 32 * 8 + 8));
}

TEST(Module, StateDictRoundTripAndErrors) {
  Generator g1(1), g2(2);
  nn::Transformer a(8, 1, 2, 16, nn::Activation::Gelu, g1), b(8, 1, 2, 16, nn::Activation::Gelu, g2);
  std::map<std::string, Tensor> state;
  for (auto& [n, t] : a.state_dict()) state[n] = t;
  b.load_state_dict(state);
  for (auto& [n, t] : b.state_dict()) EXPECT_TRUE(test::bit_equal(t, state[n])) << n;

  auto missing = state;
  missing.erase("resblocks.0.ln_2.bias");
  EXPECT_ERROR_CONTAINS(b.load_state_dict(missing), "missing tensor resblocks.0.ln_2.bias");
  auto extra = state;
  extra["resblocks.0.extra"] = Tensor::ones({1});
  EXPECT_ERROR_CONTAINS(b.load_state_dict(extra), "unexpected tensor resblocks.0.extra");
  auto wrong = state;
  wrong["resblocks.0.attn.in_proj_weight"] = Tensor::ones({8, 8});
  EXPECT_ERROR_CONTAINS(b.load_state_dict(wrong),
                        "tensor 'resblocks.0.attn.in_proj_weight' has shape [8, 8], the model expects [24, 8]");
}

TEST(Module, FreezingAndDtype) {
  Generator g(1);
  nn::Linear l(3, 2, true, g);
  EXPECT_TRUE(l.weight.requires_grad());
  l.requires_grad_(false);
  EXPECT_FALSE(l.weight.requires_grad());
  l.to(DType::F16);
  EXPECT_EQ(l.weight.dtype(), DType::F16);
  EXPECT_EQ(l.forward(Tensor::ones({4, 3}, DType::F16)).dtype(), DType::F16);
}

TEST(Module, AttentionMatchesComposedReference) {
  // Self-attention written out with explicit per-head loops.
  Generator g(5);
  nn::MultiheadAttention mha(6, 2, g);
  {
    NoGrad ng;
    normal_(mha.in_proj_bias, 0, 0.1, g);
  }
  Tensor x = randn({2, 4, 6}, g);
  Tensor y = mha.forward(x, true);
  Tensor qkv = linear(x, mha.in_proj_weight, mha.in_proj_bias);
  TensorList heads;
  for (int h = 0; h < 2; ++h) {
    Tensor q = qkv.narrow(2, 3 * h, 3), k = qkv.narrow(2, 6 + 3 * h, 3), v = qkv.narrow(2, 12 + 3 * h, 3);
    Tensor s = mul(matmul(q, k.transpose(1, 2)), 1.0 / std::sqrt(3.0));
    Tensor mask = Tensor::zeros({4, 4}, DType::Bool);
    for (int i = 0; i < 4; ++i)
      for (int j = i + 1; j < 4; ++j) mask.data<bool>()[i * 4 + j] = true;
    heads.push_back(matmul(softmax(masked_fill(s, mask, -INFINITY), -1), v));
  }
  Tensor ref = mha.out_proj->forward(cat(heads, 2));
  EXPECT_ALL_CLOSE(y, ref, 1e-5, 1e-6);
}

// A two-layer transformer learns to output, at every position, the token seen first in the sequence.
TEST(Training, TwoLayerTransformerLossFalls) {
  Generator g(0);
  const int64_t vocab = 8, width = 32, len = 6, batch = 16;
  nn::Embedding emb(vocab, width, g, 0.5);
  nn::Transformer tr(width, 2, 4, 64, nn::Activation::Gelu, g);
  nn::Linear head(width, vocab, true, g);
  std::vector<Tensor> params;
  for (nn::Module* m : std::initializer_list<nn::Module*>{&emb, &tr, &head})
    for (auto& p : m->parameters()) params.push_back(p);
  optim::AdamW opt(params, {.lr = 3e-3, .weight_decay = 0.0});
  auto loss_at = [&](uint64_t seed) {
    Generator dg(seed);
    Tensor ids = randint(0, vocab, {batch, len}, dg);
    Tensor target = ids.select(1, 0).unsqueeze(1).expand({batch, len}).contiguous().reshape({-1});
    Tensor h = tr.forward(emb.forward(ids), /*causal=*/true);
    return cross_entropy(head.forward(h).reshape({-1, vocab}), target);
  };
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    Tensor loss = loss_at(100 + uint64_t(step));
    loss.backward();
    opt.step();
    if (step == 0) first = loss.item();
    last = loss.item();
  }
  EXPECT_GT(first, 1.8);
  EXPECT_LT(last, 0.3 * first) << "first " << first << " last " << last;
}

TEST(LrSchedule, DasslCosineWithConstantWarmup) {
  optim::LrSchedule s({.name = "cosine",
                       .base_lr = 0.002,
                       .max_steps = 10,
                       .warmup_type = "constant",
                       .warmup_steps = 1,
                       .warmup_cons_lr = 1e-5});
  EXPECT_DOUBLE_EQ(s.lr_at(0), 1e-5);
  EXPECT_DOUBLE_EQ(s.lr_at(1), 0.002);
  EXPECT_NEAR(s.lr_at(6), 0.002 * (1 + std::cos(M_PI * 5 / 10)) / 2, 1e-15);
  EXPECT_NEAR(s.lr_at(10), 0.002 * (1 + std::cos(M_PI * 9 / 10)) / 2, 1e-15);
  optim::LrSchedule lin({.name = "cosine",
                         .base_lr = 0.1,
                         .max_steps = 4,
                         .warmup_type = "linear",
                         .warmup_steps = 2,
                         .warmup_min_lr = 1e-4});
  EXPECT_DOUBLE_EQ(lin.lr_at(0), 1e-4);
  EXPECT_DOUBLE_EQ(lin.lr_at(1), 0.05);
  EXPECT_DOUBLE_EQ(lin.lr_at(2), 0.1);
  optim::LrSchedule step({.name = "single_step", .base_lr = 1.0, .max_steps = 9, .step_size = 3, .gamma = 0.5});
  EXPECT_DOUBLE_EQ(step.lr_at(2), 1.0);
  EXPECT_DOUBLE_EQ(step.lr_at(3), 0.5);
  EXPECT_DOUBLE_EQ(step.lr_at(7), 0.25);
  EXPECT_ERROR_CONTAINS(optim::LrSchedule({.name = "exponential"}), "unknown LR scheduler 'exponential'");
}

TEST(Optimizer, RefusesHalfParametersAndEditsGradients) {
  Tensor h = Tensor::ones({2}, DType::F16).requires_grad_();
  EXPECT_ERROR_CONTAINS(optim::SGD({h}, {}), "keep trainable parameters in f32");
  Tensor p = Tensor::ones({2}).requires_grad_();
  optim::SGD sgd({p}, {.lr = 0.5});
  sgd.step_with({Tensor::from_vector({1, -2}, {2})});
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0.5f, 2.0f}));
  sgd.zero_grad();
  sgd.step();  // no gradient: untouched
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0.5f, 2.0f}));
}

}  // namespace
}  // namespace clipt
