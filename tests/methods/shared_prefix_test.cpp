// Shared-prefix text encoding (TextTower::forward_shared_prefix) is exact: for every method that builds
// text prompts, the loss's logits and every trainable prompt's gradient, and the evaluation logits, agree
// in fp32 (<= 1e-5) between the shared-prefix and the full encoding, while the text tower runs fewer
// tokens. Where the prefix is not shared (class-specific context, class token in front or in the middle,
// per-sequence deep prompts, an EOT inside the prefix) the full encoding runs.
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/dpc/dpc.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

const std::vector<std::string>& classes() {
  static const std::vector<std::string> c = {"red circle", "blue square", "green triangle", "small star", "dog"};
  return c;
}

struct Tiny {
  std::unique_ptr<clip::ClipModel> clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  methods::MethodContext context() { return {clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""}; }
};

methods::TrainBatch batch() {
  Generator g(21);
  methods::TrainBatch b;
  b.images = randn({3, 3, 32, 32}, g);
  b.labels = Tensor::from_vector(std::vector<int64_t>{0, 3, 4}, {3});
  return b;
}

struct Pass {
  Tensor logits, eval_logits;
  TensorList grads;
  int64_t tokens = 0;
};

// One loss + backward and one evaluation with the text tower's prefix sharing on or off.
Pass run(Tiny& t, methods::Method& m, bool share, const std::function<Tensor()>& loss = nullptr) {
  t.clip->text->share_prefix = share;
  for (auto& [n, p] : m.trainable_parameters()) p.zero_grad();
  const int64_t before = t.clip->text->tokens_encoded;
  Pass out;
  Tensor l;
  if (loss) {
    l = loss();
  } else {
    methods::LossResult r = m.loss(batch());
    l = r.loss;
    out.logits = r.logits;
  }
  l.backward();
  for (auto& [n, p] : m.trainable_parameters()) out.grads.push_back(p.grad().defined() ? p.grad().clone() : Tensor());
  out.tokens = t.clip->text->tokens_encoded - before;
  m.prepare_eval({"purple heart", "cat", "red circle"}, methods::ClassSplit::New);
  out.eval_logits = m.eval_logits(batch().images);
  if (!out.logits.defined()) out.logits = l.detach().reshape({1});
  return out;
}

void expect_same(const Pass& shared, const Pass& full) {
  EXPECT_ALL_CLOSE(shared.logits, full.logits, 1e-5, 1e-5);
  EXPECT_ALL_CLOSE(shared.eval_logits, full.eval_logits, 1e-5, 1e-5);
  ASSERT_EQ(shared.grads.size(), full.grads.size());
  for (size_t i = 0; i < full.grads.size(); ++i) {
    ASSERT_EQ(shared.grads[i].defined(), full.grads[i].defined()) << "parameter " << i;
    if (full.grads[i].defined()) EXPECT_ALL_CLOSE(shared.grads[i], full.grads[i], 1e-5, 1e-5) << "parameter " << i;
  }
}

struct MethodCase {
  std::string name;
  std::vector<std::pair<std::string, ConfigValue>> keys;
};

class SharedPrefix : public ::testing::TestWithParam<MethodCase> {};

TEST_P(SharedPrefix, EqualsTheFullEncodingWithFewerTokens) {
  Tiny t;
  for (auto& [k, v] : GetParam().keys) t.cfg.set(k, v);
  auto m = methods::create_method(GetParam().name);
  m->build(t.context(), classes());
  const Pass full = run(t, *m, false), shared = run(t, *m, true);
  expect_same(shared, full);
  EXPECT_LT(shared.tokens, full.tokens) << "the shared prefix was not used";
}

INSTANTIATE_TEST_SUITE_P(Methods, SharedPrefix,
                         ::testing::Values(MethodCase{"CoOp", {{"TRAINER.COOP.N_CTX", int64_t(4)}}},
                                           MethodCase{"KgCoOp", {{"TRAINER.COOP.N_CTX", int64_t(4)}}},
                                           MethodCase{"CoCoOp", {{"TRAINER.COCOOP.N_CTX", int64_t(4)}}},
                                           MethodCase{"MaPLe", {{"TRAINER.MAPLE.PROMPT_DEPTH", int64_t(2)}}},
                                           MethodCase{"IVLP",
                                                      {{"TRAINER.IVLP.PROMPT_DEPTH_TEXT", int64_t(2)},
                                                       {"TRAINER.IVLP.PROMPT_DEPTH_VISION", int64_t(2)}}},
                                           MethodCase{"MetaPrompt", {{"TRAINER.META.LAYERS", int64_t(2)}}}),
                         [](const auto& info) { return info.param.name; });

TEST(SharedPrefixDpc, StageTwoLossEqualsTheFullEncoding) {
  Tiny t;
  t.cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
  t.cfg.set("SPLE.STACK.WEIGHT", 0.2);
  t.cfg.set("SPLE.INFER_TOPK", int64_t(3));
  auto backbone = methods::create_method("CoOp");
  backbone->build(t.context(), classes());
  methods::dpc::Dpc dpc;
  dpc.build_over(t.context(), classes(), std::move(backbone));
  Generator g(5);
  const Tensor anchors = randn({3, 3, 32, 32}, g), negatives = randn({3, 3, 32, 32}, g);
  auto loss = [&] {
    return dpc.contrastive_loss(methods::dpc::assemble_batch(anchors, {0, 3, 4}, {{2, 1}, {}, {1}}, negatives)).loss;
  };
  const Pass full = run(t, dpc, false, loss), shared = run(t, dpc, true, loss);
  expect_same(shared, full);
  EXPECT_LT(shared.tokens, full.tokens);
}

// Where the prefix is not shared the full encoding runs: the same token count either way.
class SharedPrefixFallback : public ::testing::TestWithParam<std::pair<std::string, ConfigValue>> {};

TEST_P(SharedPrefixFallback, RunsTheFullEncoding) {
  Tiny t;
  t.cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
  t.cfg.set(GetParam().first, GetParam().second);
  auto m = methods::create_method("CoOp");
  m->build(t.context(), classes());
  t.clip->text->share_prefix = true;
  const int64_t before = t.clip->text->tokens_encoded;
  const Tensor shared = m->loss(batch()).logits;
  const int64_t shared_tokens = t.clip->text->tokens_encoded - before;
  t.clip->text->share_prefix = false;
  const Tensor full = m->loss(batch()).logits;
  EXPECT_EQ(shared_tokens, t.clip->text->tokens_encoded - before - shared_tokens);
  EXPECT_TRUE(test::bit_equal(shared, full));
}

INSTANTIATE_TEST_SUITE_P(
    NotShared, SharedPrefixFallback,
    ::testing::Values(std::pair<std::string, ConfigValue>{"TRAINER.COOP.CSC", true},
                      std::pair<std::string, ConfigValue>{"TRAINER.COOP.CLASS_TOKEN_POSITION", std::string("middle")},
                      std::pair<std::string, ConfigValue>{"TRAINER.COOP.CLASS_TOKEN_POSITION", std::string("front")}));

TEST(SharedPrefixTower, PerSequenceDeepPromptsAndEotInsideThePrefixFallBack) {
  Tiny t;
  const auto& text = *t.clip->text;
  Generator g(8);
  const int64_t w = t.clip->config().text.width;
  Tensor prefix = randn({1, 4, w}, g), suffix = randn({3, 5, w}, g);
  Tensor eot = Tensor::from_vector(std::vector<int64_t>{6, 8, 5}, {3});
  Tensor whole = cat({prefix.expand({3, 4, w}), suffix}, 1);
  // Shared deep prompts inside the prefix: shared and exact.
  clip::TextPrompts shared_deep{{Tensor(), randn({2, w}, g)}};
  int64_t before = text.tokens_encoded;
  EXPECT_ALL_CLOSE(text.forward_shared_prefix(prefix, suffix, eot, &shared_deep),
                   text.forward(whole, eot, &shared_deep), 1e-5, 1e-6);
  EXPECT_EQ(text.tokens_encoded - before, 4 + 3 * 5 + 3 * 9);  // shared: 4 + 3·(9 − 4); full: 3·9
  // Per-sequence deep prompts differ per row: full encoding.
  clip::TextPrompts per_row{{Tensor(), randn({3, 2, w}, g)}};
  before = text.tokens_encoded;
  EXPECT_TRUE(
      test::bit_equal(text.forward_shared_prefix(prefix, suffix, eot, &per_row), text.forward(whole, eot, &per_row)));
  EXPECT_EQ(text.tokens_encoded - before, 2 * 3 * 9);
  // An EOT inside the prefix: full encoding.
  Tensor early = Tensor::from_vector(std::vector<int64_t>{2, 8, 5}, {3});
  before = text.tokens_encoded;
  EXPECT_TRUE(test::bit_equal(text.forward_shared_prefix(prefix, suffix, early), text.forward(whole, early)));
  EXPECT_EQ(text.tokens_encoded - before, 2 * 3 * 9);
  EXPECT_ERROR_CONTAINS(text.forward_shared_prefix(prefix, randn({3, 5, w + 1}, g), eot), "shared prefix");
}

}  // namespace
}  // namespace clipt
