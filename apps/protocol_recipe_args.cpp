#include "apps/protocol_recipe_args.h"

#include "engine/core/error.h"
#include "methods/method.h"

namespace clipt::apps {

namespace {

// Every `--name value` / `--name=value` of `argv`, removed from it.
std::vector<std::string> take_all(CommandArgs& argv, const std::string& name) {
  std::vector<std::string> values;
  const std::string flag = "--" + name, prefix = flag + "=";
  for (size_t i = 0; i < argv.size();) {
    if (argv[i] == flag) {
      CLIPT_CHECK(i + 1 < argv.size(), "option {} needs a value", flag);
      values.push_back(argv[i + 1]);
      argv.erase(argv.begin() + int64_t(i), argv.begin() + int64_t(i) + 2);
    } else if (argv[i].starts_with(prefix)) {
      values.push_back(argv[i].substr(prefix.size()));
      argv.erase(argv.begin() + int64_t(i));
    } else {
      ++i;
    }
  }
  return values;
}

}  // namespace

ProtocolRecipeArgs take_protocol_recipe_args(CommandArgs& argv) {
  ProtocolRecipeArgs r;
  r.config_file_for = take_all(argv, "config-file-for");
  const auto recipes = take_all(argv, "recipe");
  CLIPT_CHECK(recipes.size() <= 1, "--recipe is given {} times; give one recipe file", recipes.size());
  if (!recipes.empty()) r.recipe = recipes.front();
  return r;
}

trainer::ConfigFileFor resolve_protocol_configs(const ProtocolRecipeArgs& given, trainer::TrainArgs& base,
                                                const char* command) {
  trainer::ConfigFileFor out;
  if (!given.recipe.empty()) {
    const trainer::ProtocolRecipe recipe = trainer::read_protocol_recipe(given.recipe);
    if (!recipe.trainer.empty()) {
      if (base.trainer.empty()) base.trainer = recipe.trainer;
      CLIPT_CHECK(methods::canonical_method_name(base.trainer) == methods::canonical_method_name(recipe.trainer),
                  "{}: --trainer {} but the recipe {} is for {}", command, base.trainer, given.recipe, recipe.trainer);
    }
    if (base.config_file.empty()) base.config_file = recipe.config_file;
    out = recipe.config_file_for;
  }
  for (const auto& [dataset, file] : trainer::parse_config_file_for(given.config_file_for)) out[dataset] = file;
  return out;
}

}  // namespace clipt::apps
