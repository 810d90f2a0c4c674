// The few-shot leave-one-domain-out protocol (MetaPrompt's scripts/Meta/dg.sh, TIP version): on a
// multi-domain dataset, for each target domain × seed, train on the other domains (NUM_SHOTS per class per
// source domain) and test on the whole target domain; per target the mean accuracy over seeds, and the
// average over targets. Any method runs it (ZeroshotCLIP, CoOp, MetaPrompt_DG, ...). Runs already finished
// in the output folder are read back, not rerun, so a sweep can be resumed.
#pragma once
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "methods/trainer/protocol_recipe.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/run_log.h"

namespace clipt::trainer {

struct DgOptions {
  TrainArgs base;                    // trainer, config files, root, model, device, overrides
  std::string dataset;               // registry or Dassl name; empty: DATASET.NAME of the config
  std::vector<std::string> targets;  // target domains; empty: every domain in turn
  std::vector<int64_t> seeds{1, 2, 3};
  ConfigFileFor config_file_for;     // per-dataset config files (over base.config_file)
  int64_t shots = 5;                 // per class per source domain (MetaPrompt: 1 or 5); < 1: all images
  std::filesystem::path output_dir;  // runs go to <output>/<target>/seed<k>
  const std::atomic<bool>* stop = nullptr;
  bool quiet_runs = false;  // keep per-run progress out of the console (still in log.txt)
};

struct DgRow {
  std::string target;
  std::vector<std::string> sources;
  std::vector<int64_t> seeds;
  std::vector<double> per_seed;  // percent, in the order of `seeds`
  double accuracy = 0;           // mean over seeds
};

struct DgTable {
  std::string method, dataset;
  int64_t shots = 0;
  std::vector<DgRow> rows;  // one per target domain
  double average = 0;       // mean of the rows' accuracies
  std::string markdown() const;
  std::string csv() const;
  nlohmann::json to_json() const;
};

// Fills each row's mean over seeds and the table's average over targets.
void summarise(DgTable& table);
// One table with a row per method (same dataset and targets): the paper's layout.
std::string dg_comparison_markdown(const std::vector<DgTable>& tables);

// The domains of a multi-domain dataset (reads it once); an Error when it has none.
std::vector<std::string> dataset_domains(const std::string& dataset, const std::filesystem::path& root);

// Runs (or reads back) every target × seed and writes dg.md/.csv/.json to the output folder.
DgTable run_dg(const DgOptions& options, RunLog& log);

}  // namespace clipt::trainer
