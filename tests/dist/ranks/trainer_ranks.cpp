// Data-parallel training on two MPI ranks equals one process with the same global batch: each rank
// trains a run with the job's communicator and, as the reference, the same run alone
// (dist::make_single_process), then compares the trainable tensors (1e-5, fp32) and the base and new
// accuracies (identical). The class-sharded text tower is on (the default with two ranks); a separate
// test checks that it equals the replicated tower, forward and gradient.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "data/image.h"
#include "engine/dist/communicator.h"
#include "engine/ops/ops.h"
#include "methods/coop/coop.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/trainer.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;

dist::Communicator& comm() { return dist::world(); }

// Six colour classes of 32×32 images (split_json layout): three base classes, so the text shards are
// uneven (1 and 2 classes). Every rank writes its own copy (same bytes) in its own scratch folder.
fs::path make_dataset() {
  const fs::path root = test::scratch_dir("dp-data-rank" + std::to_string(comm().rank()));
  const std::vector<std::string> classes{"red circle", "blue square", "green triangle",
                                         "small star", "grey cross",  "pink heart"};
  const uint8_t colours[6][3] = {{220, 30, 30},  {30, 30, 220},   {30, 200, 40},
                                 {230, 230, 40}, {128, 128, 128}, {240, 120, 200}};
  nlohmann::json split = {
      {"train", nlohmann::json::array()}, {"val", nlohmann::json::array()}, {"test", nlohmann::json::array()}};
  for (int c = 0; c < 6; ++c) {
    fs::create_directories(root / "images" / std::to_string(c));
    for (int i = 0; i < 9; ++i) {
      data::Image img(32, 32);
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x)
          for (int k = 0; k < 3; ++k)
            img.at(x, y, k) = uint8_t(std::clamp(colours[c][k] + (x * 7 + y * 3 + i * 11) % 41 - 20, 0, 255));
      const std::string rel = std::to_string(c) + "/" + std::to_string(i) + ".png";
      data::write_png(root / "images" / rel, img);
      split[i < 5 ? "train" : i < 6 ? "val" : "test"].push_back({rel, c, classes[size_t(c)]});
    }
  }
  std::ofstream(root / "split.json") << split.dump();
  return root;
}

Config run_config(const fs::path& data, const fs::path& out, const std::vector<std::string>& method) {
  Config cfg = default_config();
  std::vector<std::string> list = {"TRAINER.COOP.N_CTX",
                                   "4",
                                   "TRAINER.COOP.PREC",
                                   "fp32",
                                   "TRAINER.MAPLE.N_CTX",
                                   "2",
                                   "TRAINER.MAPLE.PROMPT_DEPTH",
                                   "2",
                                   "TRAINER.MAPLE.PREC",
                                   "fp32",
                                   "DATASET.NAME",
                                   "split_json",
                                   "DATASET.ROOT",
                                   data.string(),
                                   "DATASET.NUM_SHOTS",
                                   "4",
                                   "DATASET.SUBSAMPLE_CLASSES",
                                   "base",
                                   "INPUT.SIZE",
                                   "(32, 32)",
                                   "INPUT.TRANSFORMS",
                                   "['random_resized_crop', 'random_flip', 'normalize']",
                                   "OPTIM.NAME",
                                   "sgd",
                                   "OPTIM.LR",
                                   "0.05",
                                   "OPTIM.MAX_EPOCH",
                                   "2",
                                   "OPTIM.LR_SCHEDULER",
                                   "cosine",
                                   "DATALOADER.TRAIN_X.BATCH_SIZE",
                                   "4",
                                   "DATALOADER.TEST.BATCH_SIZE",
                                   "5",
                                   "DATALOADER.NUM_WORKERS",
                                   "0",
                                   "OUTPUT_DIR",
                                   out.string(),
                                   "SEED",
                                   "1",
                                   "TRAIN.PRINT_FREQ",
                                   "100",
                                   "CLIPT.MODEL_DIR",
                                   (test::golden_dir() / "clip_tiny").string(),
                                   "CLIPT.DEVICE",
                                   "cpu"};
  list.insert(list.end(), method.begin(), method.end());
  cfg.merge_from_list(list);
  cfg.freeze();
  return cfg;
}

struct RunOutcome {
  std::vector<Tensor> params;
  trainer::EvalResult base, novel;
};

RunOutcome train_and_evaluate(const Config& cfg, dist::Communicator* c) {
  trainer::RunLog log({}, true);
  trainer::Trainer t(cfg, log, nullptr, {}, c);
  t.train();
  RunOutcome o;
  for (auto& [n, p] : t.method().trainable_parameters()) o.params.push_back(p.detach().clone());
  o.base = t.evaluate(data::Subsample::Base);
  o.novel = t.evaluate(data::Subsample::New);
  return o;
}

class DataParallelTraining : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(DataParallelTraining, TwoRanksEqualOneProcessWithTheSameGlobalBatch) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = make_dataset();
  const std::string tag = GetParam()[1] + "-rank" + std::to_string(comm().rank());
  auto single = dist::make_single_process();
  const RunOutcome reference =
      train_and_evaluate(run_config(data, test::scratch_dir("ref-" + tag), GetParam()), single.get());
  const RunOutcome parallel = train_and_evaluate(run_config(data, test::scratch_dir("dp-" + tag), GetParam()), &comm());
  ASSERT_EQ(parallel.params.size(), reference.params.size());
  for (size_t i = 0; i < reference.params.size(); ++i) {
    EXPECT_ALL_CLOSE(parallel.params[i], reference.params[i], 1e-5, 1e-5) << "parameter " << i;
  }
  EXPECT_EQ(parallel.base.correct, reference.base.correct);
  EXPECT_EQ(parallel.base.total, reference.base.total);
  EXPECT_EQ(parallel.novel.correct, reference.novel.correct);
  EXPECT_EQ(parallel.novel.total, reference.novel.total);
  EXPECT_DOUBLE_EQ(parallel.base.macro_accuracy, reference.base.macro_accuracy);
}

INSTANTIATE_TEST_SUITE_P(Methods, DataParallelTraining,
                         ::testing::Values(std::vector<std::string>{"TRAINER.NAME", "CoOp"},
                                           std::vector<std::string>{"TRAINER.NAME", "GCSCoOp", "OPTIM.NAME", "gcsam"},
                                           std::vector<std::string>{"TRAINER.NAME", "ProGrad", "LOSS.NAME", "prograd"},
                                           std::vector<std::string>{"TRAINER.NAME", "MaPLe"}),
                         [](const auto& info) { return info.param[1]; });

TEST(DataParallelTraining, MethodsNotYetSplitAreRefusedByName) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = make_dataset();
  trainer::RunLog log({}, true);
  const fs::path out = test::scratch_dir("refused-rank" + std::to_string(comm().rank()));
  EXPECT_ERROR_CONTAINS(
      trainer::Trainer(run_config(data, out, {"TRAINER.NAME", "MetaPrompt"}), log, nullptr, {}, &comm()),
      "MetaPrompt does not run data parallel yet");
  EXPECT_ERROR_CONTAINS(
      trainer::Trainer(run_config(data, out, {"TRAINER.NAME", "CoOp", "DATALOADER.TRAIN_X.BATCH_SIZE", "3"}), log,
                       nullptr, {}, &comm()),
      "DATALOADER.TRAIN_X.BATCH_SIZE 3 is the global batch and must be divisible by the 2 ranks");
}

// The class-sharded text tower against the replicated one, forward and gradient: CoOp's learnable
// context through the text tower of three classes (shards of 1 and 2 rows), loss_r = Σ w_r ⊙ features.
TEST(ShardedTextTower, EqualsTheReplicatedTowerForwardAndGradient) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = make_dataset();
  trainer::RunLog log({}, true);
  const fs::path out = test::scratch_dir("tower-rank" + std::to_string(comm().rank()));
  trainer::Trainer t(run_config(data, out, {"TRAINER.NAME", "CoOp"}), log, nullptr, {}, &comm());
  methods::MethodContext ctx = t.context();
  ASSERT_TRUE(ctx.shard_text) << "sharding is the default with two ranks";
  Tensor context = t.method().trainable_parameters().at(0).second;
  auto& coop_learner = dynamic_cast<methods::CoOp&>(t.method()).learner();
  auto encode = [&](methods::MethodContext c, const std::vector<int64_t>& rows) {
    return coop_learner.text_features(c, coop_learner.prompts(), Tensor(), rows);
  };
  methods::MethodContext replicated = ctx;
  replicated.shard_text = false;
  const float r = float(comm().rank());
  for (const std::vector<int64_t>& rows : {std::vector<int64_t>{}, std::vector<int64_t>{2, 0}}) {
    context.zero_grad();
    Tensor sharded = encode(ctx, rows);
    Tensor weights =
        add(mul(Tensor::arange(sharded.numel(), DType::F32), 0.01 * (r + 1)), 0.5).reshape(sharded.shape());
    sum(mul(sharded, weights)).backward();
    Tensor grad_sharded = context.grad().clone();
    context.zero_grad();
    Tensor full = encode(replicated, rows);
    sum(mul(full, weights)).backward();
    // The replicated gradient is this rank's own loss; the sharded one sums the ranks' losses over each
    // shard and is averaged by the trainer: compare the averages over ranks.
    std::vector<Tensor> g{context.grad().clone()};
    comm().all_reduce(g, dist::ReduceOp::Mean);
    std::vector<Tensor> gs{grad_sharded};
    comm().all_reduce(gs, dist::ReduceOp::Mean);
    EXPECT_ALL_CLOSE(sharded, full, 1e-5, 1e-6);
    EXPECT_ALL_CLOSE(gs[0], g[0], 1e-5, 1e-6);
  }
}

}  // namespace
}  // namespace clipt
