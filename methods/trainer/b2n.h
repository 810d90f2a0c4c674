// The base-to-new protocol (CoCoOp): for each dataset × seed, train on the base classes (16 shots by
// default, as every peer's base2new script passes DATASET.NUM_SHOTS 16), evaluate on the base and the new
// test classes; per dataset the mean base and new accuracy
// over seeds and their harmonic mean; the average row is the HM of the averaged base and new. Runs
// already finished in the output folder are read back, not rerun, so a sweep can be resumed.
#pragma once
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "methods/trainer/protocol_recipe.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/run_log.h"

namespace clipt::trainer {

// The protocol's shots when neither --shots, a config file nor a DATASET.NUM_SHOTS override sets them.
inline constexpr int64_t kB2nDefaultShots = 16;

struct B2nOptions {
  TrainArgs base;                     // trainer, config file, root, model, device, overrides
  std::vector<std::string> datasets;  // registry or Dassl names
  std::vector<int64_t> seeds{1, 2, 3};
  // --shots K: DATASET.NUM_SHOTS of every run (over the config files); unset: kB2nDefaultShots unless a
  // config file or a DATASET.NUM_SHOTS override sets it.
  std::optional<int64_t> shots;
  ConfigFileFor config_file_for;             // per-dataset config files (over base.config_file)
  std::filesystem::path output_dir;          // runs go to <output>/<dataset>/seed<k>
  std::filesystem::path dataset_config_dir;  // configs/datasets: <name>.yaml used when present
  const std::atomic<bool>* stop = nullptr;
  bool quiet_runs = false;          // keep per-run progress out of the console (still in log.txt)
  bool replace_stale_runs = false;  // a run folder made with another recipe is redone, not an error
};

struct B2nRow {
  std::string dataset;
  double base = 0, novel = 0, hm = 0;  // percent; mean over seeds (HM of the means)
  std::vector<int64_t> seeds;
};

struct B2nTable {
  std::string method;
  std::vector<B2nRow> rows;
  B2nRow average;  // HM of the averaged base and new
  // The wrapped method's rows measured in the same runs (DPC's stage-1 backbone), when every run
  // reported one (Method::baseline): empty, or one table printed above this one.
  std::vector<B2nTable> baseline;
  std::string markdown() const;
  std::string csv() const;
  nlohmann::json to_json() const;
};

double harmonic_mean(double base, double novel);

// The arguments of the run of `dataset` × `seed`: the sweep's, with the protocol's keys (DATASET.NAME,
// SUBSAMPLE_CLASSES base, the shots), the seed, the run folder and the dataset's config files (its
// config_file_for entry, else the sweep's --config-file).
TrainArgs b2n_run_args(const B2nOptions& options, const std::string& dataset, int64_t seed);

// Runs (or reads back) every dataset × seed and writes b2n.md/.csv/.json to the output folder.
B2nTable run_b2n(const B2nOptions& options, RunLog& log);

}  // namespace clipt::trainer
