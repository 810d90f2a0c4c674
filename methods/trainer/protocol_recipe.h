// Per-dataset configs for the protocols (b2n, dg, xd). The peers train some datasets with another
// config than the rest — CoOp's base-to-new runs ImageNet with vit_b16_ep50_ctxv1 and every other dataset
// with vit_b16_ctxv1 (KaiyangZhou/CoOp scripts/cocoop/base2new_train.sh) — so one sweep may need one
// config per dataset: `--config-file-for DATASET=PATH` (repeatable) or a recipe file (configs/recipes/):
//
//   TRAINER: CoOp                                   # optional; must agree with --trainer
//   CONFIG_FILE: ../../trainers/CoOp/vit_b16_ctxv1.yaml   # the config of every other dataset
//   CONFIG_FILE_FOR:                                # dataset (registry or Dassl name) → config
//     imagenet: ../../trainers/CoOp/vit_b16_ep50_ctxv1.yaml
//
// Relative paths in a recipe are relative to the recipe file's folder. Each run's config.yaml records
// what the chosen file set, and a run folder made with another config is refused as before (per dataset).
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace clipt::trainer {

// Dataset (registry name) → config file.
using ConfigFileFor = std::map<std::string, std::string>;

struct ProtocolRecipe {
  std::string trainer;      // "" when the recipe names none
  std::string config_file;  // "" when the recipe names none
  ConfigFileFor config_file_for;
};

// Reads a recipe file; errors name the file and the offending key, dataset or path.
ProtocolRecipe read_protocol_recipe(const std::filesystem::path& file);

// Parses `--config-file-for` values "DATASET=PATH" (the dataset by registry or Dassl name).
ConfigFileFor parse_config_file_for(const std::vector<std::string>& items);

// The config file of `dataset`'s runs: its entry in `per_dataset`, else `fallback`.
std::string config_file_for(const ConfigFileFor& per_dataset, const std::string& dataset, const std::string& fallback);

}  // namespace clipt::trainer
