// `clipt scale` as bench/scaling.sh runs it: the command on one rank (the baseline), then under two ranks
// with --baseline. The JSON's bookkeeping is checked, not its timings: the two ranks split the global
// batch, the step's collectives are counted (the gradient all-reduce and the class-sharded text tower's;
// loss and accuracy are reduced once per print window), compute + communication + waiting add up to the
// step, and the speed-up and efficiency are
// the ratios of the two runs' images/s.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/cli.h"
#include "apps/commands.h"
#include "engine/dist/communicator.h"
#include "tests/common/test_util.h"
#include "tests/dist/ranks/ranks_fixture.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;
using test::comm;

int run_clipt(std::vector<std::string> args) {
  args.insert(args.begin(), "clipt");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return apps::run_cli(int(argv.size()), argv.data());
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::vector<std::string> scale_args(const fs::path& data) {
  return {"scale",
          "--trainer",
          "CoOp",
          "--root",
          data.string(),
          "--model",
          (test::golden_dir() / "clip_tiny").string(),
          "--device",
          "cpu",
          "--steps",
          "3",
          "--warmup",
          "1",
          "--batch",
          "4",
          "DATASET.NAME",
          "split_json",
          "DATASET.NUM_SHOTS",
          "4",
          "INPUT.SIZE",
          "(32, 32)",
          "TRAINER.COOP.N_CTX",
          "4",
          "TRAINER.COOP.PREC",
          "fp32",
          "DATALOADER.NUM_WORKERS",
          "0"};
}

TEST(ScaleCommand, TwoRanksAgainstTheOneRankBaseline) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = test::make_colour_dataset();
  const fs::path shared = test::shared_scratch_dir("scale");
  const fs::path one = shared / "one.json", two = shared / "two.json";
  if (comm().is_root()) {
    auto single = dist::make_single_process();
    dist::ScopedWorld one_process(*single);
    auto args = scale_args(data);
    args.insert(args.end(), {"--json", one.string()});
    ASSERT_EQ(run_clipt(args), 0);
  }
  comm().barrier();
  auto args = scale_args(data);
  args.insert(args.end(), {"--baseline", one.string(), "--json", two.string()});
  ASSERT_EQ(run_clipt(args), 0);
  comm().barrier();

  const nlohmann::json b = read_json(one), j = read_json(two);
  EXPECT_EQ(b["world_size"], 1);
  EXPECT_EQ(j["world_size"], 2);
  EXPECT_EQ(j["backend"], "mpi");
  EXPECT_EQ(j["global_batch"], 4);
  EXPECT_EQ(j["per_rank_batch"], 2);
  EXPECT_EQ(j["steps"], 3);
  EXPECT_NEAR(j["images_per_s"].get<double>(), 4.0 * 3 / j["seconds"].get<double>(), 1e-9);
  const auto& ms = j["ms_per_step"];
  // compute + communication + waiting is the ranks' mean wall time, total the slowest rank's: never more
  // (how much less depends on the load, so no lower bound but that all three are counted).
  const double parts = ms["compute"].get<double>() + ms["communication"].get<double>() + ms["waiting"].get<double>();
  EXPECT_LE(parts, ms["total"].get<double>() * (1 + 1e-9));
  EXPECT_GT(ms["compute"].get<double>(), 0);
  EXPECT_GE(ms["waiting"].get<double>(), 0);
  EXPECT_GT(ms["communication"].get<double>(), 0);
  // Per step: the context gradient's all-reduce and the sharded text tower's gather and reduce-scatter.
  EXPECT_GE(j["collectives_per_step"].get<double>(), 2.0);
  EXPECT_GE(j["bytes_per_step"].get<double>(), 4.0 * 32 * 4);  // at least the context gradient (f32, width 32)
  EXPECT_EQ(b["collectives_per_step"].get<double>(), 0.0);     // one rank: no collective reaches a backend
  EXPECT_NEAR(j["speedup"].get<double>(), j["images_per_s"].get<double>() / b["images_per_s"].get<double>(), 1e-9);
  EXPECT_NEAR(j["efficiency"].get<double>(), j["speedup"].get<double>() / 2, 1e-12);
  EXPECT_EQ(j["baseline"]["images_per_s"], b["images_per_s"]);
  // CPU time: every rank works during its steps, and the work split is the ratio of the two runs' figures.
  EXPECT_GT(b["cpu_ms_per_step_per_rank"].get<double>(), 0);
  EXPECT_GT(j["cpu_ms_per_step_per_rank"].get<double>(), 0);
  EXPECT_EQ(b["cpu_ms_per_step_in_collectives"].get<double>(), 0.0);
  const double in_collectives = j["cpu_ms_per_step_in_collectives"].get<double>();
  EXPECT_GT(in_collectives, 0);
  EXPECT_LT(in_collectives, j["cpu_ms_per_step_per_rank"].get<double>());
  EXPECT_NEAR(
      j["work_split"].get<double>(),
      b["cpu_ms_per_step_per_rank"].get<double>() / (j["cpu_ms_per_step_per_rank"].get<double>() - in_collectives),
      1e-9);
  EXPECT_EQ(j["loader_workers"], 0);
  EXPECT_TRUE(j["load_average"].contains("before") && j["load_average"].contains("after"));
}

// Runs `clipt scale` on both ranks against a --baseline file holding `json` (written by rank 0) and expects
// the error `message`, raised before anything is measured.
void expect_baseline_refused(const std::string& scratch, const std::string& json, const std::string& message) {
  const fs::path data = test::make_colour_dataset();
  const fs::path shared = test::shared_scratch_dir(scratch);
  if (comm().is_root()) test::write_text(shared / "one.json", json);
  comm().barrier();
  auto args = scale_args(data);
  args.insert(args.end(), {"--baseline", (shared / "one.json").string()});
  testing::internal::CaptureStderr();
  EXPECT_ERROR_CONTAINS(apps::cmd_scale(std::vector<std::string>(args.begin() + 1, args.end())), message);
  testing::internal::GetCapturedStderr();
}

TEST(ScaleCommand, ABaselineOfAnotherBatchIsRefused) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  expect_baseline_refused("scale-mismatch", R"({"method": "CoOp", "global_batch": 8, "images_per_s": 10.0,
        "world_size": 1, "threads_per_rank": 1, "backend": "single",
        "ms_per_step": {"total": 1, "compute": 1, "communication": 0, "waiting": 0}})",
                          "--baseline ran CoOp with global batch 8, this run CoOp with 4");
}

// A JSON that is not a `clipt scale --json` output is refused before anything runs, naming the missing key.
TEST(ScaleCommand, ABaselineWithoutTheTableFieldsIsRefused) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  expect_baseline_refused("scale-partial", R"({"method": "CoOp", "global_batch": 4, "images_per_s": 10.0,
        "world_size": 1, "threads_per_rank": 1, "backend": "single"})",
                          "has no number \"ms_per_step.total\"");
}

}  // namespace
}  // namespace clipt
