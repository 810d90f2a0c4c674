// Cross-dataset transfer and domain shift (CoOp / CoCoOp): train on all classes of a source dataset
// (ImageNet, 16 shots by default), then evaluate the same trained prompts unchanged on target datasets,
// each with its own class names:
//  - domain shift: the source's classes in another distribution — ImageNetV2, ImageNet-Sketch, and
//    ImageNet-A / -R on the 200 ImageNet classes they contain (the readers relabel them 0..199 by sorted
//    WordNet id with ImageNet's names, so the classifier is rebuilt over those 200 names, as CoOp does);
//    on the built-in world, the single-style copies world_<style>;
//  - cross-dataset: the other datasets (Caltech101 ... UCF101) with their own classes.
// An evaluation is CoOp's `--eval-only --model-dir <source run>`: a trainer built on the target with the
// source run's config, loading the source run's last checkpoint. Per dataset the mean accuracy over
// seeds; the table shows the source, the targets, and the average of each target group. Finished runs and
// evaluations are read back, not redone.
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

struct XdOptions {
  TrainArgs base;                    // trainer, config files, root, model, device, overrides
  std::string source = "imagenet";   // registry or Dassl name
  std::vector<std::string> targets;  // empty: default_xd_targets(source)
  std::vector<int64_t> seeds{1, 2, 3};
  ConfigFileFor config_file_for;             // per-dataset config files: the source's entry trains and evaluates
  int64_t shots = 16;                        // per class of the source's training split
  std::filesystem::path output_dir;          // <output>/<dataset>/seed<k>
  std::filesystem::path dataset_config_dir;  // configs/datasets: <source>.yaml used when present
  const std::atomic<bool>* stop = nullptr;
  bool quiet_runs = false;
};

struct XdColumn {
  std::string dataset;
  bool domain_shift = false;  // a shifted copy of the source's classes (vs another dataset)
  std::vector<int64_t> seeds;
  std::vector<double> per_seed;  // percent
  double accuracy = 0;           // mean over seeds
};

struct XdTable {
  std::string method;
  XdColumn source;
  std::vector<XdColumn> targets;
  double domain_shift_average = 0, cross_dataset_average = 0;  // over the targets of each group (0, and null in the
                                                               // JSON and absent from the CSV, when a group has none)
  std::string markdown() const;
  std::string csv() const;
  nlohmann::json to_json() const;
};

// CoOp/CoCoOp's targets: for ImageNet its four variants then the ten other datasets; for the built-in
// world its style copies (sketch, cartoon, texture, noisy). Other sources: an Error asking for --targets.
std::vector<std::string> default_xd_targets(const std::string& source);
// Whether `target` is a domain-shifted copy of `source` (ImageNet's variants; world_<style> of world;
// generally a registry name starting with "<source>_").
bool is_domain_shift_target(const std::string& source, const std::string& target);

// Means over seeds and the two group averages.
void summarise(XdTable& table);

// Trains (or reads back) the source for every seed, evaluates every target, writes xd.md/.csv/.json.
XdTable run_xd(const XdOptions& options, RunLog& log);

}  // namespace clipt::trainer
