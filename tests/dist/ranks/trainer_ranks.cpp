// Data-parallel training on two MPI ranks equals one process with the same global batch: each rank
// trains a run with the job's communicator and, as the reference, the same run alone
// (dist::make_single_process), then compares the trainable tensors (1e-5, fp32) and the base and new
// accuracies (identical), for every method that shapes its step differently (SAM, ProGrad, MetaPrompt's
// meta step in both restore modes, DPC's second stage with its stage 1 trained in the same job). The class-sharded text
// tower is on (the default with two ranks); a separate test checks that it equals the replicated tower, forward and
// gradient.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

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

// DPC's image database (SPLE.PIC_LIB) over the colour dataset: every image its split.json lists, train, val
// and test (9 per class, against the 4 few-shot ones), under its class name, as paths relative to the
// images folder, which the method finds from the first training image. Written by rank 0 next to the data
// both ranks read.
std::string dpc_library(const fs::path& data) {
  const fs::path file = data / "dpc_library.json";
  if (comm().is_root()) {
    std::ifstream in(data / "split.json");
    const nlohmann::json split = nlohmann::json::parse(in);
    std::map<std::string, nlohmann::json> by_class;  // class name → [label, [paths]]
    for (const char* part : {"train", "val", "test"})
      for (const auto& row : split.at(part)) {  // [relative path, label, class name]
        auto& entry = by_class[row.at(2).get<std::string>()];
        if (entry.is_null()) entry = {row.at(1), nlohmann::json::array()};
        entry[1].push_back(row.at(0));
      }
    nlohmann::json train = nlohmann::json::array();
    for (const auto& [name, entry] : by_class) train.push_back({{name, entry}});
    test::write_text(file, nlohmann::json{{"train", train}}.dump());
  }
  comm().barrier();
  return file.string();
}

// The smallest number of hard negatives a DPC run's logged steps had (its metrics.jsonl; one line per step).
double fewest_negatives(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  double fewest = 1e9;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("type", "") == "step" && j.contains("negatives"))
      fewest = std::min(fewest, j["negatives"].get<double>());
  }
  return fewest;
}

TEST_P(DataParallelTraining, TwoRanksEqualOneProcessWithTheSameGlobalBatch) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const std::string& name = GetParam().name;
  const bool dg = name == "MetaPromptDG";
  const fs::path data = dg ? test::make_colour_dg_dataset() : test::make_colour_dataset();
  std::vector<std::string> overrides = GetParam().overrides;
  if (name.starts_with("DPC"))
    overrides.insert(overrides.end(), {"DPC.BACKBONE_CONFIG", stage1_yaml(name == "DPCOverMaPLe" ? "MaPLe" : "CoOp")});
  if (name == "DPCLibraryNegatives") overrides.insert(overrides.end(), {"SPLE.PIC_LIB", dpc_library(data)});
  auto single = dist::make_single_process();
  const fs::path reference_dir = test::scratch_dir("ref-rank" + std::to_string(comm().rank()));
  const test::RunOutcome reference =
      test::train_and_evaluate(test::dp_run_config(data, reference_dir, overrides), single.get());
  // The case is there for the steps with fewer negatives than ranks (every rank then encodes them all):
  // make sure the run had some (the selection is the same in both runs).
  if (name == "DPCFewerNegativesThanRanks") EXPECT_LT(fewest_negatives(reference_dir), 2.0);
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
                      // Three base classes and 4 anchors: most steps find 0 or 1 negatives, fewer than the 2 ranks.
                      DpCase{"DPCFewerNegativesThanRanks",
                             {"TRAINER.NAME", "DPC", "OPTIM.LR", "0.01", "TRAIN.PRINT_FREQ", "1", "SPLE.STACK.WEIGHT",
                              "0.2", "SPLE.STACK.WEIGHT_FOR_NEW", "0.0"}},
                      // Negatives from an image database (the rank's share loaded from the library's samples).
                      DpCase{"DPCLibraryNegatives",
                             {"TRAINER.NAME", "DPC", "DPC.NEGATIVES", "library", "DATASET.SUBSAMPLE_CLASSES", "all",
                              "OPTIM.LR", "0.01", "SPLE.STACK.WEIGHT", "0.2", "SPLE.STACK.WEIGHT_FOR_NEW", "0.0"}},
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
    // Entries that cancel (0.87 in a gradient whose largest entry is 75) carry the fp32 rounding of the
    // large ones: the absolute tolerance follows the gradient's scale (the two sum the same terms in
    // different orders and GEMM shapes, so they differ by a few ulps of the largest entry).
    const double scale = max(abs(g[0])).item();
    EXPECT_ALL_CLOSE(gs[0], g[0], 1e-5, 1e-6 * scale);
  }
}

}  // namespace
}  // namespace clipt
