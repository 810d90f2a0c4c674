// The per-dataset config options shared by the protocol commands (b2n, dg, xd): `--config-file-for
// DATASET=PATH` (repeatable) and `--recipe FILE` (methods/trainer/protocol_recipe.h). They are taken out of
// the command line before the train.py options are parsed (an option given twice would otherwise keep only
// its last value).
#pragma once
#include <string>
#include <vector>

#include "apps/commands.h"
#include "methods/trainer/protocol_recipe.h"
#include "methods/trainer/run_config.h"

namespace clipt::apps {

struct ProtocolRecipeArgs {
  std::vector<std::string> config_file_for;  // the --config-file-for values, in order
  std::string recipe;                        // --recipe FILE, or ""
};

// Removes --config-file-for and --recipe (as `--x value` or `--x=value`) from `argv`.
ProtocolRecipeArgs take_protocol_recipe_args(CommandArgs& argv);

// The per-dataset configs of a sweep: the recipe's, then --config-file-for (which wins per dataset). The
// recipe also supplies the trainer and the default config file where the command line gives none; a
// --trainer that names another method than the recipe's is an error. Call after the datasets are
// registered (the built-in world's names resolve then).
trainer::ConfigFileFor resolve_protocol_configs(const ProtocolRecipeArgs& given, trainer::TrainArgs& base,
                                                const char* command);

}  // namespace clipt::apps
