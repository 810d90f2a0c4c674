// The fused residual-block ops (residual add + ln_2 in one pass, bias + QuickGELU after a bias-free c_fc)
// and the EOT gather leave the model's results unchanged: with the towers' blocks fused or composed, the
// training logits, every prompt gradient and the evaluation logits agree in fp32 (<= 1e-5), for plain
// prompts (CoOp) and deep prompts in both towers (MaPLe), with the shared-prefix text encoding on and off.
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

struct Tiny {
  std::unique_ptr<clip::ClipModel> clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  methods::MethodContext context() { return {clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""}; }
};

struct Pass {
  Tensor logits, eval_logits, image_features;
  TensorList grads;
};

Pass run(Tiny& t, methods::Method& m, bool fused, bool share) {
  t.clip->text->transformer->set_fused(fused);
  t.clip->visual->transformer->set_fused(fused);
  t.clip->text->share_prefix = share;
  for (auto& [n, p] : m.trainable_parameters()) p.zero_grad();
  Generator g(21);
  methods::TrainBatch b;
  b.images = randn({3, 3, 32, 32}, g);
  b.labels = Tensor::from_vector(std::vector<int64_t>{0, 3, 4}, {3});
  Pass out;
  methods::LossResult r = m.loss(b);
  r.loss.backward();
  out.logits = r.logits.detach();
  for (auto& [n, p] : m.trainable_parameters()) out.grads.push_back(p.grad().defined() ? p.grad().clone() : Tensor());
  m.prepare_eval({"purple heart", "cat", "red circle"}, methods::ClassSplit::New);
  out.eval_logits = m.eval_logits(b.images);
  {
    NoGrad ng;
    out.image_features = t.clip->visual->forward(b.images);
  }
  return out;
}

struct MethodCase {
  std::string name;
  std::vector<std::pair<std::string, ConfigValue>> keys;
};

class FusedBlocks : public ::testing::TestWithParam<MethodCase> {};

TEST_P(FusedBlocks, EqualTheComposedBlocks) {
  Tiny t;
  for (auto& [k, v] : GetParam().keys) t.cfg.set(k, v);
  auto m = methods::create_method(GetParam().name);
  m->build(t.context(), {"red circle", "blue square", "green triangle", "small star", "dog"});
  // The fused MLP path needs QuickGELU (CLIP's activation): the comparison is vacuous otherwise.
  ASSERT_EQ(t.clip->text->transformer->resblocks[0]->mlp->act, nn::Activation::QuickGelu);
  ASSERT_EQ(t.clip->visual->transformer->resblocks[0]->mlp->act, nn::Activation::QuickGelu);
  for (bool share : {true, false}) {
    SCOPED_TRACE(fmt::format("shared prefix {}", share));
    const Pass composed = run(t, *m, false, share), fused = run(t, *m, true, share);
    EXPECT_ALL_CLOSE(fused.logits, composed.logits, 1e-5, 1e-5);
    EXPECT_ALL_CLOSE(fused.eval_logits, composed.eval_logits, 1e-5, 1e-5);
    EXPECT_ALL_CLOSE(fused.image_features, composed.image_features, 1e-5, 1e-5);
    ASSERT_EQ(fused.grads.size(), composed.grads.size());
    for (size_t i = 0; i < fused.grads.size(); ++i) {
      ASSERT_EQ(fused.grads[i].defined(), composed.grads[i].defined()) << "parameter " << i;
      if (fused.grads[i].defined()) {
        EXPECT_GT(max(abs(fused.grads[i])).item(), 0.0) << "parameter " << i << " got no gradient";
        EXPECT_ALL_CLOSE(fused.grads[i], composed.grads[i], 1e-5, 1e-5) << "parameter " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, FusedBlocks,
                         ::testing::Values(MethodCase{"CoOp", {{"TRAINER.COOP.N_CTX", int64_t(4)}}},
                                           MethodCase{"MaPLe", {{"TRAINER.MAPLE.PROMPT_DEPTH", int64_t(2)}}}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace clipt
