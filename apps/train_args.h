// The peers' train.py command line, shared by `clipt train` and `clipt b2n`.
#pragma once
#include <memory>
#include <set>
#include <string>

#include "apps/args.h"
#include "apps/commands.h"
#include "methods/trainer/run_config.h"

namespace clipt::apps {

struct ParsedTrainArgs {
  trainer::TrainArgs train;
  std::unique_ptr<Args> args;  // for the command's own options
};

// Parses --root --seed --trainer --config-file --dataset-config-file --output-dir --eval-only
// --model-dir --load-epoch --no-train --resume --source-domains --target-domains --transforms
// --backbone --head --model --device and trailing KEY VALUE overrides; `extra` adds options of the
// calling command (`extra_flags` those that take no value).
ParsedTrainArgs parse_train_args(const CommandArgs& argv, const std::set<std::string>& extra = {},
                                 const std::set<std::string>& extra_flags = {});

// The configs/ folder of the source tree (recipes such as configs/datasets/<name>.yaml).
std::filesystem::path config_dir();

}  // namespace clipt::apps
