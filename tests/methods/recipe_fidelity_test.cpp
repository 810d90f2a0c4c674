// What the papers' released code does around the methods (issue 15), checked on the tiny CLIP against
// references computed here from the pieces:
//  - KgCoOp's frozen text features use KgCoOp's own DTD template;
//  - ProGrad's context: N_CTX vectors, zeros then the embeddings of ProGrad's per-dataset template words,
//    the prompt "X … X <words> <class>." (extra tokens of a word such as "pet," stay frozen); its teacher
//    uses ProGrad's templates;
//  - MetaPrompt's W0 formats the raw class names (underscores kept); the paper recipes (and the released
//    configs) run the released meta step, the world's the clean one; one B2N step of each variant against
//    a step computed by hand (SGD with momentum and weight decay written out, the aliased restore modelled
//    explicitly);
//  - DPC's stage 1 defaults to the CoOp run the released DPC configs name.
#include "data/templates.h"
#include "engine/autograd/node.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "methods/common/clip_features.h"
#include "methods/coop/coop.h"
#include "methods/dpc/stage1.h"
#include "methods/metaprompt/metaprompt.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;
using V = std::vector<int64_t>;

class RecipeFidelity : public ::testing::Test {
 protected:
  void SetUp() override {
    clip = clip::load_clip(test::golden_dir() / "clip_tiny");
    tok = std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny"));
    Generator gen(8);
    images = randn({8, 3, 32, 32}, gen);
  }

  methods::MethodContext context(const Config& cfg, const std::string& dataset) {
    return methods::MethodContext{clip.get(), tok.get(), &cfg, dataset, Device::cpu(), 1, ""};
  }

  // Frozen CLIP's normalised features of exactly these texts (no template logic).
  Tensor text_of(const std::vector<std::string>& texts) {
    NoGrad ng;
    return l2_normalize(clip->encode_text(tok->tokenize_batch(texts, clip->config().context_length)), -1);
  }

  // The embeddings of `text` as one prompt [L, W], with rows [from, from + n) set to zero.
  Tensor embedding_with_zeros(const std::string& text, int64_t from, int64_t n) {
    NoGrad ng;
    Tensor e = clip->text->embed(tok->tokenize_batch({text}, clip->config().context_length)).select(0, 0).clone();
    if (n > 0) e.narrow(0, from, n).copy_(Tensor::zeros({n, e.size(1)}, e.dtype(), e.device()));
    return e;
  }

  std::unique_ptr<clip::ClipModel> clip;
  std::unique_ptr<clip::Tokenizer> tok;
  Tensor images;
};

// ---- KgCoOp ----

TEST(RecipeTemplates, KgCoOpDiffersFromCoOpOnlyOnDtd) {
  EXPECT_EQ(data::kgcoop_template("dtd"), "a photo of a {}, a type of texture.");
  EXPECT_EQ(data::kgcoop_template("DescribableTextures"), "a photo of a {}, a type of texture.");
  for (const char* d : {"oxford_pets", "eurosat", "food101", "imagenet", "caltech101", "world"})
    EXPECT_EQ(data::kgcoop_template(d), data::coop_template(d)) << d;
  // ProGrad's own table (BeierZhu/Prompt-align trainers/prograd.py).
  EXPECT_EQ(data::prograd_template("oxford_pets"), "a type of pet, a photo of a {}.");
  EXPECT_EQ(data::prograd_template("dtd"), "a texture of {}.");
  EXPECT_EQ(data::prograd_template("Food101"), "a type of food, a photo of {}.");
  EXPECT_EQ(data::prograd_template("eurosat"), "a centered satellite photo of {}.");
  EXPECT_EQ(data::prograd_template("world"), "a photo of a {}.");
}

TEST_F(RecipeFidelity, KgCoOpPullsTowardsItsOwnDtdTemplate) {
  Config cfg = default_config();
  cfg.set("TRAINER.COOP.CTX_INIT", "a photo of a");
  const std::vector<std::string> names{"cat", "dog"};
  auto ctx = context(cfg, "dtd");
  auto m = methods::create_method("KgCoOp");
  m->build(ctx, names);
  methods::TrainBatch b;
  b.images = images;
  b.labels = Tensor::from_vector(V{0, 1, 0, 1, 0, 1, 0, 1}, {8});
  const double kg = m->loss(b).metric("kg");
  NoGrad ng;
  const Tensor text = m->text_features();
  auto kg_against = [&](const std::vector<std::string>& texts) {
    return 1.0 - mean(sum(mul(text, text_of(texts)), {1})).item();
  };
  EXPECT_NEAR(kg, kg_against({"a photo of a cat, a type of texture.", "a photo of a dog, a type of texture."}), 1e-6);
  EXPECT_GT(std::abs(kg - kg_against({"cat texture.", "dog texture."})), 1e-4);  // CoOp's DTD template
}

// ---- ProGrad ----

TEST_F(RecipeFidelity, ProGradStartsFromZerosThenTheTemplateWords) {
  Config cfg = default_config();
  cfg.merge_from_file(test::source_dir() / "configs" / "trainers" / "ProGrad" / "vit_b16_ctxv1.yaml");
  EXPECT_EQ(cfg.get_int("TRAINER.COOP.N_CTX"), 16);  // the released scripts' NCTX=16
  cfg.set("TRAINER.COOP.N_CTX", 6);                  // the tiny CLIP reads 16 tokens
  auto m = methods::create_method("ProGrad");
  m->build(context(cfg, "dtd"), {"red circle", "dog"});
  methods::PromptLearner& learner = dynamic_cast<methods::CoOp&>(*m).learner();
  ASSERT_EQ(learner.ctx.shape(), (Shape{6, clip->config().text.width}));
  // "a texture of": 3 words, 3 tokens, in the last 3 of 6 rows; the prompt "X X X a texture of <class>.".
  const Tensor expected = embedding_with_zeros("X X X a texture of red circle.", 1, 3);
  EXPECT_ALL_CLOSE(learner.ctx, expected.narrow(0, 1, 6), 0.0, 0.0);
  EXPECT_ALL_CLOSE(learner.prompts().assemble(learner.ctx, methods::ClassTokenPosition::End).select(0, 0), expected,
                   0.0, 0.0);
}

TEST_F(RecipeFidelity, ProGradKeepsTheExtraTokensOfACommaWordFrozenAfterTheContext) {
  // "a type of pet, a photo of a" has 8 words; with the tiny vocabulary "pet," is 3 tokens. The released
  // learner copies the first 8 tokens into the context and leaves the other 3 in the prompt after it.
  Config cfg = default_config();
  cfg.set("TRAINER.COOP.CTX_INIT", true);
  cfg.set("TRAINER.COOP.N_CTX", 8);
  auto m = methods::create_method("ProGrad");
  m->build(context(cfg, "oxford_pets"), {"cat", "dog"});
  methods::PromptLearner& learner = dynamic_cast<methods::CoOp&>(*m).learner();
  const Tensor expected = embedding_with_zeros(" a type of pet, a photo of a cat.", 1, 0);
  ASSERT_EQ(learner.ctx.size(0), 8);
  EXPECT_ALL_CLOSE(learner.ctx, expected.narrow(0, 1, 8), 0.0, 0.0);
  EXPECT_ALL_CLOSE(learner.prompts().assemble(learner.ctx, methods::ClassTokenPosition::End).select(0, 0), expected,
                   0.0, 0.0);
  // More words than tokens to learn, or a class token moved past the frozen extra tokens: refused.
  cfg.set("TRAINER.COOP.N_CTX", 7);
  EXPECT_ERROR_CONTAINS(methods::create_method("ProGrad")->build(context(cfg, "oxford_pets"), {"cat"}),
                        "N_CTX 7 is smaller than the 8 words");
  cfg.set("TRAINER.COOP.N_CTX", 8);
  cfg.set("TRAINER.COOP.CLASS_TOKEN_POSITION", "middle");
  EXPECT_ERROR_CONTAINS(methods::create_method("ProGrad")->build(context(cfg, "oxford_pets"), {"cat"}),
                        "only CLASS_TOKEN_POSITION end");
}

TEST_F(RecipeFidelity, ProGradDistilsFromItsOwnTemplates) {
  Config cfg = default_config();
  cfg.set("TRAINER.COOP.CTX_INIT", true);
  cfg.set("TRAINER.COOP.N_CTX", 8);
  const std::vector<std::string> names{"cat", "dog"};
  auto ctx = context(cfg, "oxford_pets");
  auto m = methods::create_method("ProGrad");
  m->build(ctx, names);
  methods::TrainBatch b;
  b.images = images;
  b.labels = Tensor::from_vector(V{0, 1, 0, 1, 0, 1, 0, 1}, {8});
  const double kl = m->loss(b).metric("kl");
  NoGrad ng;
  const double s = clip->logit_scale_value();
  const Tensor image = methods::frozen_image_features(ctx, images);
  const std::vector<double> student = mul(matmul(image, m->text_features().t()), s).to_vector<double>();
  // T = 1: mean over images of Σ_k −p0_k·log softmax(z)_k, p0 = softmax of the teacher's logits.
  auto kl_against = [&](const std::vector<std::string>& texts) {
    const std::vector<double> teacher = mul(matmul(image, text_of(texts).t()), s).to_vector<double>();
    double total = 0;
    for (size_t i = 0; i < 8; ++i) {
      const double* z = &student[2 * i];
      const double* t = &teacher[2 * i];
      const double zmax = std::max(z[0], z[1]), tmax = std::max(t[0], t[1]);
      const double zlse = zmax + std::log(std::exp(z[0] - zmax) + std::exp(z[1] - zmax));
      const double tsum = std::exp(t[0] - tmax) + std::exp(t[1] - tmax);
      for (int k = 0; k < 2; ++k) total -= std::exp(t[k] - tmax) / tsum * (z[k] - zlse);
    }
    return total / 8;
  };
  EXPECT_NEAR(kl, kl_against({"a type of pet, a photo of a cat.", "a type of pet, a photo of a dog."}), 1e-5);
  EXPECT_GT(std::abs(kl - kl_against({"a photo of a cat, a type of pet.", "a photo of a dog, a type of pet."})),
            1e-4);  // CoOp's template
}

// ---- MetaPrompt ----

TEST_F(RecipeFidelity, MetaPromptFrozenClassifierUsesTheRawClassNames) {
  Config cfg = default_config();
  cfg.set("TRAINER.META.LAYERS", 2);
  const std::vector<std::string> names{"red_cat", "dog"};
  auto ctx = context(cfg, "caltech101");
  auto m = methods::create_method("MetaPrompt");
  m->build(ctx, names);
  m->prepare_eval(names, methods::ClassSplit::Base);
  const Tensor z = m->eval_logits(images);
  NoGrad ng;
  const double s = clip->logit_scale_value();
  const Tensor z_t = mul(matmul(methods::frozen_image_features(ctx, images), m->text_features().t()), s);
  auto z_with = [&](const std::vector<std::string>& texts) {
    return mul(add(mul(matmul(m->image_features(images), text_of(texts).t()), s), z_t), 0.5);
  };
  EXPECT_ALL_CLOSE(z, z_with({"a photo of a red_cat", "a photo of a dog"}), 1e-5, 1e-5);
  EXPECT_FALSE(test::all_close(z, z_with({"a photo of a red cat", "a photo of a dog"}), 1e-5, 1e-5));
}

TEST(MetaPromptRecipes, ThePaperRecipesRunTheReleasedMetaStepAndTheWorldsTheCleanOne) {
  const fs::path configs = test::source_dir() / "configs";
  auto legacy = [&](const fs::path& file) {
    Config c = default_config();
    c.merge_from_file(configs / file);
    return c.get_bool("METAPROMPT.LEGACY_RESTORE");
  };
  EXPECT_TRUE(legacy("trainers/MetaPrompt/vit_b16_b2n.yaml"));
  EXPECT_TRUE(legacy("trainers/MetaPrompt/vit_b16_dg.yaml"));
  EXPECT_TRUE(legacy("trainers/Meta_B2N/vit_b16.yaml"));  // the released configs, as released
  EXPECT_TRUE(legacy("trainers/Meta_DG/vit_b16.yaml"));
  EXPECT_FALSE(legacy("world/MetaPrompt.yaml"));
  EXPECT_FALSE(legacy("world/dg/MetaPrompt_DG.yaml"));
}

// One B2N training step (in-domain step, then the two class-half episodes) computed by hand beside the
// method, for the clean restore and for the released one.
class MetaStepByHand : public RecipeFidelity {
 protected:
  static constexpr double kLr = 0.05, kMomentum = 0.9, kDecay = 5e-4, kMetaStep = 0.2;
  const std::vector<std::string> names{"red circle", "blue square", "green triangle", "small star", "dog", "cat"};
  const V labels{0, 1, 2, 3, 4, 5, 1, 3};

  std::unique_ptr<methods::Method> build(const Config& cfg) {
    auto m = methods::create_method("MetaPrompt");
    m->build(context(cfg, ""), names);
    // Class order 4,1,3 | 0,5,2: group 0 = {4, 1, 3}, group 1 = {0, 5, 2}.
    dynamic_cast<methods::MetaPrompt&>(*m).set_class_order_for_testing(
        [](int64_t, int64_t) { return V{4, 1, 3, 0, 5, 2}; });
    return m;
  }

  // torch.optim.SGD on one tensor (dampening 0, no Nesterov): d = g + wd·p; buf = d the first time, else
  // μ·buf + d; p ← p − lr·buf.
  static void sgd(Tensor& p, const Tensor& g, Tensor& buf) {
    const Tensor d = add(g, mul(p, kDecay));
    buf = buf.defined() ? add(mul(buf, kMomentum), d) : d;
    p = sub(p, mul(buf, kLr));
  }

  // Returns {text prompts, vision prompts} after one step computed by hand.
  std::pair<Tensor, Tensor> by_hand(bool legacy) {
    Config cfg = default_config();
    cfg.set("TRAINER.META.LAYERS", 2);
    auto ref = build(cfg);  // used only for its forward passes at the prompts set below
    auto params = ref->trainable_parameters();
    Tensor live_text = params[0].second, live_vision = params[1].second;
    Tensor pt = live_text.clone(), pv = live_vision.clone(), bt, bv;
    const auto ctx = context(cfg, "");
    const double s = clip->logit_scale_value();
    const Tensor f0 = methods::frozen_image_features(ctx, images);
    const Tensor w0 = text_of({"a photo of a red circle", "a photo of a blue square", "a photo of a green triangle",
                               "a photo of a small star", "a photo of a dog", "a photo of a cat"});
    auto set = [&](const Tensor& t, const Tensor& v) {
      NoGrad ng;
      live_text.copy_(t);
      live_vision.copy_(v);
    };
    auto ce = [&](const Tensor& logits, const V& y) {
      return cross_entropy(logits, Tensor::from_vector(y, {int64_t(y.size())}));
    };
    // In-domain: CE(z) + CE(z_V) + CE(z_T) over the batch, both prompts.
    set(pt, pv);
    const Tensor z_v = mul(matmul(ref->image_features(images), w0.t()), s);
    const Tensor z_t = mul(matmul(f0, ref->text_features().t()), s);
    const Tensor loss = add(add(ce(mul(add(z_v, z_t), 0.5), labels), ce(z_v, labels)), ce(z_t, labels));
    const TensorList g = grad_of(loss, {live_text, live_vision});
    sgd(pt, g[0], bt);
    sgd(pv, g[1], bv);
    // An episode's loss on the text prompts: z_T of `samples` over the group's classes, local labels.
    auto text_grad = [&](const V& samples, const V& local, const V& classes) {
      set(pt, pv);
      const Tensor f = index_select(f0, 0, Tensor::from_vector(samples, {int64_t(samples.size())}));
      return grad_of(ce(mul(matmul(f, ref->text_features(classes).t()), s), local), {live_text})[0];
    };
    struct Episode {
      V support, support_local, support_classes, query, query_local, query_classes;
    };
    // Labels 0 1 2 3 4 5 1 3 at positions 0..7. Group 0 = {4,1,3}: positions 1,3,4,6,7, local 1,2,0,1,2;
    // group 1 = {0,5,2}: positions 0,2,5, local 0,2,1.
    const std::vector<Episode> episodes = {
        {{0, 2, 5}, {0, 2, 1}, {0, 5, 2}, {1, 3, 4, 6, 7}, {1, 2, 0, 1, 2}, {4, 1, 3}},
        {{1, 3, 4, 6, 7}, {1, 2, 0, 1, 2}, {4, 1, 3}, {0, 2, 5}, {0, 2, 1}, {0, 5, 2}},
    };
    Tensor snapshot = pt.clone(), grad_sum;
    bool aliased = false;  // released code: after `ctx.data = snapshot` the two share storage
    for (const Episode& e : episodes) {
      sgd(pt, text_grad(e.support, e.support_local, e.support_classes), bt);  // the inner step
      if (legacy) sgd(pv, zeros_like(pv), bv);  // a zeroed gradient: momentum and decay still move it
      if (aliased) snapshot = pt.clone();       // the in-place step wrote into the snapshot too
      const Tensor gq = text_grad(e.query, e.query_local, e.query_classes);
      grad_sum = grad_sum.defined() ? add(grad_sum, gq) : gq;
      pt = snapshot.clone();  // the restore
      aliased = legacy;
    }
    pt = sub(pt, mul(grad_sum, kLr * kMetaStep));
    return {pt, pv};
  }

  std::pair<Tensor, Tensor> by_method(bool legacy) {
    Config cfg = default_config();
    cfg.set("TRAINER.META.LAYERS", 2);
    cfg.set("METAPROMPT.LEGACY_RESTORE", legacy);
    auto m = build(cfg);
    std::vector<Tensor> params;
    for (auto& [n, p] : m->trainable_parameters()) params.push_back(p);
    optim::SGD opt(params, optim::SgdOptions{.lr = kLr, .momentum = kMomentum, .weight_decay = kDecay});
    methods::TrainBatch b;
    b.images = images;
    b.labels = Tensor::from_vector(labels, {8});
    const auto r = m->train_step(b, opt);
    EXPECT_EQ(r.metric("meta_episodes"), 2.0);
    return {params[0].clone(), params[1].clone()};
  }
};

TEST_F(MetaStepByHand, CleanRestore) {
  const auto [t, v] = by_method(false);
  const auto [t_ref, v_ref] = by_hand(false);
  EXPECT_ALL_CLOSE(t, t_ref, 1e-5, 1e-8);
  EXPECT_ALL_CLOSE(v, v_ref, 1e-5, 1e-8);
}

TEST_F(MetaStepByHand, ReleasedRestore) {
  const auto [t, v] = by_method(true);
  const auto [t_ref, v_ref] = by_hand(true);
  EXPECT_ALL_CLOSE(t, t_ref, 1e-5, 1e-8);
  EXPECT_ALL_CLOSE(v, v_ref, 1e-5, 1e-8);
  // The two variants differ in both prompts (the kept inner step; the frozen vision prompts' drift).
  const auto [t_clean, v_clean] = by_hand(false);
  EXPECT_FALSE(test::all_close(t_ref, t_clean, 1e-4, 1e-7));
  EXPECT_FALSE(test::all_close(v_ref, v_clean, 1e-7, 0.0));
}

// ---- DPC ----

TEST(DpcStage1Recipe, DefaultIsTheCoOpRunTheReleasedConfigsName) {
  Config run = default_config();
  run.set("DATASET.NAME", "caltech101");
  run.set("DATASET.NUM_SHOTS", 16);
  run.set("DATASET.SUBSAMPLE_CLASSES", "base");
  run.set("SEED", 2);
  const Config s1 = methods::dpc::stage1_config(run, "CoOp", test::scratch_dir("dpc_stage1_recipe"));
  EXPECT_EQ(methods::dpc::backbone_config_file(run, "CoOp").filename(), "stage1_CoOp_vit_b16_ep100_nctx4.yaml");
  // CoOp vit_b16_ep100.yaml with N_CTX 4, CSC False, class token at the end, no CTX_INIT.
  EXPECT_EQ(s1.get_int("OPTIM.MAX_EPOCH"), 100);
  EXPECT_EQ(s1.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 32);
  EXPECT_DOUBLE_EQ(s1.get_float("OPTIM.LR"), 0.002);
  EXPECT_EQ(s1.get_int("TRAINER.COOP.N_CTX"), 4);
  EXPECT_FALSE(s1.get_bool("TRAINER.COOP.CSC"));
  EXPECT_EQ(s1.get_string("TRAINER.COOP.CLASS_TOKEN_POSITION"), "end");
  EXPECT_EQ(s1.get_string("TRAINER.COOP.CTX_INIT"), "");
  EXPECT_EQ(s1.get_int("DATASET.NUM_SHOTS"), 16);  // the run's protocol keys
  EXPECT_EQ(s1.get_int("SEED"), 2);
  // Selectable: CoOp's own base-to-new recipe one key away.
  run.set("DPC.BACKBONE_CONFIG", "trainers/CoOp/vit_b16_ctxv1.yaml");
  const Config other = methods::dpc::stage1_config(run, "CoOp", test::scratch_dir("dpc_stage1_recipe2"));
  EXPECT_EQ(other.get_int("OPTIM.MAX_EPOCH"), 200);
  EXPECT_EQ(other.get_string("TRAINER.COOP.CTX_INIT"), "a photo of a");
}

}  // namespace
}  // namespace clipt
