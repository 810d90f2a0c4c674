// Host reads of tensor values in the training step (issue 19): on a GPU every item()/to_vector() waits for
// the stream, so encoding the class prompts must read nothing back (the end-of-text positions and the
// truncation length come from the host token ids), and a training step reads nothing (its loss and metrics
// stay on the device until the trainer reads a window of steps, tests/methods/trainer_test.cpp). The
// CPU backend makes the same reads a device would, so the counter shows them here.
#include "engine/ops/random.h"
#include "methods/method.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

struct TinyCoOp {
  std::unique_ptr<clip::ClipModel> clip = clip::load_clip(test::golden_dir() / "clip_tiny");
  clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny");
  Config cfg = default_config();
  std::unique_ptr<methods::Method> method;
  explicit TinyCoOp(const std::string& trainer = "CoOp") {
    cfg.set("TRAINER.COOP.N_CTX", int64_t(4));
    cfg.set("TRAINER.COCOOP.N_CTX", int64_t(4));
    method = methods::create_method(trainer);
    method->build({clip.get(), &tok, &cfg, "", Device::cpu(), 1, ""}, {"red circle", "blue square", "a dog", "star"});
  }
};

TEST(HostReads, EncodingClassPromptsReadsNothingBack) {
  TinyCoOp f;
  NoGrad ng;
  for (const std::vector<int64_t>& rows : {std::vector<int64_t>{}, std::vector<int64_t>{2, 0}}) {
    const int64_t before = host_value_reads();
    const Tensor t = f.method->text_features(rows);
    EXPECT_EQ(host_value_reads() - before, 0) << "text features of " << rows.size() << " rows read device values";
    EXPECT_EQ(t.size(0), rows.empty() ? 4 : 2);
  }
}

TEST(HostReads, EotPositionsFromHostIdsAreTheArgmaxOfTheIds) {
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{5, 9, 671, 0, 0,  //
                                                              5, 671, 0, 0, 0,  //
                                                              5, 3, 4, 8, 671},
                                         {3, 5});
  const clip::EotPositions e = clip::EotPositions::of_ids(ids, Device::cpu());
  EXPECT_TRUE(test::bit_equal(e.positions, argmax(ids, 1)));
  EXPECT_EQ(e.longest, 4);
  EXPECT_EQ(e.shortest, 1);
  const clip::EotPositions from_tensor(argmax(ids, 1));  // bounds read from the tensor: the same
  EXPECT_EQ(from_tensor.longest, 4);
  EXPECT_EQ(from_tensor.shortest, 1);
  EXPECT_ERROR_CONTAINS(clip::EotPositions::of_ids(ids.reshape({15}), Device::cpu()), "host token ids");
}

TEST(HostReads, TrainingStepsReadNothingBack) {
  // The default step (CoOp) and one whose loss carries device metrics (KgCoOp): neither waits for the
  // device; the trainer reads loss and accuracy once per window of steps.
  for (const std::string trainer : {"CoOp", "KgCoOp"}) {
    TinyCoOp f(trainer);
    std::vector<Tensor> params;
    for (auto& [n, p] : f.method->trainable_parameters()) params.push_back(p);
    optim::SGD sgd(params, {.lr = 0.01, .momentum = 0.9});
    Generator gen(3);
    methods::TrainBatch b;
    b.images = randn({2, 3, 32, 32}, gen);
    b.labels = Tensor::from_vector(std::vector<int64_t>{1, 3}, {2});
    f.method->train_step(b, sgd);  // warm-up
    const int64_t before = host_value_reads();
    const methods::StepResult r = f.method->train_step(b, sgd);
    EXPECT_EQ(host_value_reads() - before, 0) << trainer << ": the step read device values";
    ASSERT_TRUE(r.loss.defined());
    EXPECT_EQ(r.loss.dim(), 0);
    EXPECT_FALSE(r.loss.requires_grad()) << "the reported loss keeps the step's tape alive";
    EXPECT_TRUE(std::isfinite(r.loss.item()));
    for (const auto& [k, v] : r.metrics) EXPECT_FALSE(v.requires_grad()) << trainer << " metric " << k;
  }
}

}  // namespace
}  // namespace clipt
