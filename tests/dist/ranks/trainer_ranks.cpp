// Data-parallel training on two MPI ranks equals one process with the same global batch: each rank
// trains a run with the job's communicator and, as the reference, the same run alone
// (dist::make_single_process), then compares the trainable tensors (1e-5, fp32) and the base and new
// accuracies (identical), for every method that shapes its step differently (SAM, ProGrad, MetaPrompt's
// meta step in both restore modes, DPC's second stage with its stage 1 trained in the same job). The class-sharded text
// tower is on (the default with two ranks); a separate test checks that it equals the replicated tower, forward and
// gradient.
#include <gtest/gtest.h>

#include "engine/dist/communicator.h"
#include "engine/ops/ops.h"
#include "methods/coop/coop.h"
#include "methods/trainer/trainer.h"
#include "tests/common/test_util.h"
#include "tests/dist/ranks/ranks_fixture.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;
using test::comm;

// A method and its keys; `name` names the test case.
struct DpCase {
  std::string name;
  std::vector<std::string> overrides;
};
void PrintTo(const DpCase& c, std::ostream* os) { *os << c.name; }

// The stage 1 of the DPC cases: CoOp (or MaPLe, whose image features depend on its prompts, so DPC's
// anchors and negatives go through the gather on the tape), trained inside the DPC run (under the same
// ranks), 2 epochs.
std::string stage1_yaml(const std::string& backbone) {
  const fs::path file = test::scratch_dir("stage1-rank" + std::to_string(comm().rank())) / (backbone + ".yaml");
  test::write_text(file,
                   "OPTIM:\n  NAME: \"sgd\"\n  LR: 0.05\n  MAX_EPOCH: 2\n  LR_SCHEDULER: \"cosine\"\n"
                   "DATALOADER:\n  TRAIN_X:\n    BATCH_SIZE: 4\n"
                   "TRAINER:\n  COOP:\n    N_CTX: 4\n    PREC: \"fp32\"\n"
                   "  MAPLE:\n    N_CTX: 2\n    PROMPT_DEPTH: 2\n    PREC: \"fp32\"\n");
  return file.string();
}

class DataParallelTraining : public ::testing::TestWithParam<DpCase> {};

TEST_P(DataParallelTraining, TwoRanksEqualOneProcessWithTheSameGlobalBatch) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const bool dg = GetParam().name == "MetaPromptDG";
  const fs::path data = dg ? test::make_colour_dg_dataset() : test::make_colour_dataset();
  std::vector<std::string> overrides = GetParam().overrides;
  if (GetParam().name.starts_with("DPC"))
    overrides.insert(overrides.end(),
                     {"DPC.BACKBONE_CONFIG", stage1_yaml(GetParam().name == "DPC" ? "CoOp" : "MaPLe")});
  auto single = dist::make_single_process();
  const test::RunOutcome reference = test::train_and_evaluate(
      test::dp_run_config(data, test::scratch_dir("ref-rank" + std::to_string(comm().rank())), overrides),
      single.get());
  // The parallel run lives in one folder that both ranks see (rank 0 writes, DPC's stage 1 included).
  const test::RunOutcome parallel =
      test::train_and_evaluate(test::dp_run_config(data, test::shared_scratch_dir("dp"), overrides), &comm());
  test::expect_same_outcome(parallel, reference);
}

// MetaPrompt and DPC on all six classes: MetaPrompt's class halves then hold 3 classes each (two
// episodes per step; with base classes the 1-class half is skipped), and DPC's mining finds negatives
// the batch does not already hold (with 3 classes and 4 anchors it finds almost none).
INSTANTIATE_TEST_SUITE_P(
    Methods, DataParallelTraining,
    ::testing::Values(DpCase{"CoOp", {"TRAINER.NAME", "CoOp"}},
                      DpCase{"GCSCoOp", {"TRAINER.NAME", "GCSCoOp", "OPTIM.NAME", "gcsam"}},
                      DpCase{"ProGrad", {"TRAINER.NAME", "ProGrad", "LOSS.NAME", "prograd"}},
                      DpCase{"MaPLe", {"TRAINER.NAME", "MaPLe"}},
                      DpCase{"MetaPrompt", {"TRAINER.NAME", "MetaPrompt", "DATASET.SUBSAMPLE_CLASSES", "all"}},
                      DpCase{"MetaPromptCleanRestore",
                             {"TRAINER.NAME", "MetaPrompt", "DATASET.SUBSAMPLE_CLASSES", "all",
                              "METAPROMPT.LEGACY_RESTORE", "False"}},
                      // Leave-one-domain-out episodes over the domains of the global batch (two sources).
                      DpCase{"MetaPromptDG",
                             {"TRAINER.NAME", "MetaPrompt_DG", "DATASET.NAME", "world_dg", "DATASET.SOURCE_DOMAINS",
                              "['d0', 'd1']", "DATASET.TARGET_DOMAINS", "['d2']", "DATASET.SUBSAMPLE_CLASSES", "all"}},
                      DpCase{"DPC",
                             {"TRAINER.NAME", "DPC", "DATASET.SUBSAMPLE_CLASSES", "all", "OPTIM.LR", "0.01",
                              "SPLE.STACK.WEIGHT", "0.2", "SPLE.STACK.WEIGHT_FOR_NEW", "0.0"}},
                      DpCase{"DPCOverMaPLe",
                             {"TRAINER.NAME", "DPC", "DPC.BACKBONE", "MaPLe", "DATASET.SUBSAMPLE_CLASSES", "all",
                              "OPTIM.LR", "0.01", "SPLE.STACK.WEIGHT", "0.2", "SPLE.STACK.WEIGHT_FOR_NEW", "0.0"}}),
    [](const auto& info) { return info.param.name; });

TEST(DataParallelTraining, AGlobalBatchThatDoesNotSplitEvenlyIsRefused) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = test::make_colour_dataset();
  trainer::RunLog log({}, true);
  const fs::path out = test::scratch_dir("refused-rank" + std::to_string(comm().rank()));
  EXPECT_ERROR_CONTAINS(
      trainer::Trainer(test::dp_run_config(data, out, {"TRAINER.NAME", "CoOp", "DATALOADER.TRAIN_X.BATCH_SIZE", "3"}),
                       log, nullptr, {}, &comm()),
      "DATALOADER.TRAIN_X.BATCH_SIZE 3 is the global batch and must be divisible by the 2 ranks");
}

// The class-sharded text tower against the replicated one, forward and gradient: CoOp's learnable
// context through the text tower of three classes (shards of 1 and 2 rows), loss_r = Σ w_r ⊙ features.
TEST(ShardedTextTower, EqualsTheReplicatedTowerForwardAndGradient) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = test::make_colour_dataset();
  trainer::RunLog log({}, true);
  const fs::path out = test::scratch_dir("tower-rank" + std::to_string(comm().rank()));
  trainer::Trainer t(test::dp_run_config(data, out, {"TRAINER.NAME", "CoOp"}), log, nullptr, {}, &comm());
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
