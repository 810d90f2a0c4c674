// The base-to-new protocol under two ranks (what `mpirun -np 2 clipt b2n ...` runs): every rank trains and
// evaluates, rank 0 alone writes the run folder (one results.json, one record, one log) and the tables,
// and the numbers equal the one-process protocol's. A rerun reads the record back on every rank.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/dist/communicator.h"
#include "methods/trainer/b2n.h"
#include "tests/common/test_util.h"
#include "tests/dist/ranks/ranks_fixture.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;
using test::comm;

trainer::B2nOptions b2n_options(const fs::path& data, const fs::path& out) {
  trainer::B2nOptions o;
  o.base.trainer = "CoOp";
  o.base.root = data.string();
  o.base.model = (test::golden_dir() / "clip_tiny").string();
  o.base.device = "cpu";
  // The keys of dp_run_config that the protocol does not set itself.
  const Config cfg = test::dp_run_config(data, out, {});
  for (const char* key : {"TRAINER.COOP.N_CTX", "TRAINER.COOP.PREC", "DATASET.NUM_SHOTS", "INPUT.SIZE",
                          "INPUT.TRANSFORMS", "OPTIM.NAME", "OPTIM.LR", "OPTIM.MAX_EPOCH", "OPTIM.LR_SCHEDULER",
                          "DATALOADER.TRAIN_X.BATCH_SIZE", "DATALOADER.TEST.BATCH_SIZE", "DATALOADER.NUM_WORKERS"})
    o.base.opts.insert(o.base.opts.end(), {key, cfg.get(key).repr()});
  o.datasets = {"split_json"};
  o.seeds = {1};
  o.output_dir = out;
  o.quiet_runs = true;
  return o;
}

int64_t count_lines_containing(const fs::path& file, const std::string& text) {
  std::ifstream in(file);
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(text) != std::string::npos;
  return n;
}

TEST(DataParallelProtocol, BaseToNewUnderTwoRanksWritesOnceAndEqualsOneProcess) {
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  const fs::path data = test::make_colour_dataset();
  trainer::B2nTable reference;
  {
    auto single = dist::make_single_process();
    dist::ScopedWorld one_process(*single);
    const fs::path out = test::scratch_dir("ref-rank" + std::to_string(comm().rank()));
    trainer::RunLog log({}, true);
    reference = trainer::run_b2n(b2n_options(data, out), log);
  }
  const fs::path out = test::shared_scratch_dir("b2n");
  trainer::RunLog log = trainer::RunLog::for_rank(out, true, comm().is_root());
  const trainer::B2nTable table = trainer::run_b2n(b2n_options(data, out), log);
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(table.rows[0].base, reference.rows[0].base);
  EXPECT_DOUBLE_EQ(table.rows[0].novel, reference.rows[0].novel);
  comm().barrier();

  const fs::path run = out / "split_json" / "seed1";
  for (const char* file : {"b2n.json", "results.json", "config.yaml", "log.txt"})
    EXPECT_TRUE(fs::exists(run / file)) << file;
  for (const char* file : {"b2n.json", "b2n.md", "b2n.csv"}) EXPECT_TRUE(fs::exists(out / file)) << file;
  // One writer: the run's log holds each line once (rank 1 logged nothing), the results are rank 0's.
  EXPECT_EQ(count_lines_containing(run / "log.txt", "data parallel: 2 ranks"), 1);
  EXPECT_EQ(count_lines_containing(run / "log.txt", "=> test on split_json"), 2);  // base, new
  std::ifstream in(run / "b2n.json");
  const nlohmann::json record = nlohmann::json::parse(in);
  EXPECT_DOUBLE_EQ(record.at("base").get<double>(), reference.rows[0].base);
  EXPECT_DOUBLE_EQ(record.at("new").get<double>(), reference.rows[0].novel);

  // A rerun finds the record on rank 0, and every rank skips the run.
  const auto before = fs::last_write_time(run / "results.json");
  const trainer::B2nTable again = trainer::run_b2n(b2n_options(data, out), log);
  EXPECT_DOUBLE_EQ(again.rows[0].base, reference.rows[0].base);
  EXPECT_EQ(fs::last_write_time(run / "results.json"), before);
}

}  // namespace
}  // namespace clipt
