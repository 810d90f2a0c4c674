// Resuming with another world size: a run interrupted under two ranks continues under one, and a run
// interrupted as one process continues under two; both end with the weights (1e-5) and accuracies of the
// uninterrupted one-process run. The interruption lands mid-epoch (after global step 5 of 6, epoch 2),
// so the resumed run also replays the epoch's data order from the checkpoint's iteration: the global
// batches, the augmentation and the momentum buffers must not depend on the number of ranks.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/core/error.h"
#include "engine/dist/communicator.h"
#include "methods/trainer/trainer.h"
#include "tests/common/test_util.h"
#include "tests/dist/ranks/ranks_fixture.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;
using test::comm;

// PRINT_FREQ 1: ranks agree on a stop request where they read the steps' losses (once per print window),
// so reading after every step keeps the interruption mid-epoch.
const std::vector<std::string> kCoOp = {"TRAINER.NAME", "CoOp", "OPTIM.MAX_EPOCH", "2", "TRAIN.PRINT_FREQ", "1"};

// Trains in cfg's OUTPUT_DIR until the step after `stop_after` (the stop request is honoured after the
// next step), expecting the interruption.
void train_interrupted(const Config& cfg, dist::Communicator* c, int64_t stop_after) {
  trainer::RunLog log({}, true);
  std::atomic<bool> stop{false};
  trainer::Trainer t(cfg, log, &stop, {}, c);
  t.set_after_step([&](int64_t step) {
    if (step == stop_after) stop = true;
  });
  EXPECT_THROW(t.train(), Interrupted);
}

std::string rank_tag(const std::string& name) { return name + "-rank" + std::to_string(comm().rank()); }

TEST(DataParallelResume, TwoRanksInterruptedResumeAsOneProcess) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = test::make_colour_dataset();
  auto single = dist::make_single_process();
  const test::RunOutcome reference =
      test::train_and_evaluate(test::dp_run_config(data, test::scratch_dir(rank_tag("ref")), kCoOp), single.get());

  const fs::path shared = test::shared_scratch_dir("two-ranks");
  train_interrupted(test::dp_run_config(data, shared, kCoOp), &comm(), 3);
  comm().barrier();  // rank 0 has written the checkpoint
  ASSERT_TRUE(fs::exists(shared / "checkpoints" / "resume.safetensors"));
  // Each rank continues rank 0's folder alone, in a copy of its own.
  const fs::path alone = test::scratch_dir(rank_tag("alone"));
  fs::copy(shared, alone, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  comm().barrier();
  const test::RunOutcome resumed = test::train_and_evaluate(test::dp_run_config(data, alone, kCoOp), single.get());
  test::expect_same_outcome(resumed, reference);
}

TEST(DataParallelResume, OneProcessInterruptedResumesUnderTwoRanks) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = test::make_colour_dataset();
  auto single = dist::make_single_process();
  const test::RunOutcome reference =
      test::train_and_evaluate(test::dp_run_config(data, test::scratch_dir(rank_tag("ref")), kCoOp), single.get());

  // Rank 0 trains alone until the interruption; then both ranks continue its folder.
  const fs::path shared = test::shared_scratch_dir("one-process");
  if (comm().is_root()) train_interrupted(test::dp_run_config(data, shared, kCoOp), single.get(), 3);
  comm().barrier();
  ASSERT_TRUE(fs::exists(shared / "checkpoints" / "resume.safetensors"));
  const test::RunOutcome resumed = test::train_and_evaluate(test::dp_run_config(data, shared, kCoOp), &comm());
  test::expect_same_outcome(resumed, reference);
}

}  // namespace
}  // namespace clipt
