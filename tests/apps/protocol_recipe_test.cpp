// Per-dataset configs in one sweep (methods/trainer/protocol_recipe.h, apps/protocol_recipe_args.h): the
// shipped recipes name existing configs and registered methods, CoOp's trains ImageNet with
// vit_b16_ep50_ctxv1 and every other dataset with vit_b16_ctxv1, --config-file-for wins over a recipe,
// and bad input is one error naming the file, key or dataset.
#include <fstream>

#include "apps/protocol_recipe_args.h"
#include "methods/method.h"
#include "methods/trainer/b2n.h"
#include "tests/common/test_util.h"

namespace clipt::apps {
namespace {

namespace fs = std::filesystem;

fs::path recipes() { return test::source_dir() / "configs" / "recipes"; }
fs::path trainers() { return test::source_dir() / "configs" / "trainers"; }

int64_t epochs_of(const trainer::B2nOptions& o, const std::string& dataset) {
  return trainer::build_run_config(trainer::b2n_run_args(o, dataset, 1)).get_int("OPTIM.MAX_EPOCH");
}

TEST(ProtocolRecipe, ShippedRecipesNameExistingConfigsAndMethods) {
  int count = 0;
  for (const auto& dir : {recipes() / "b2n", recipes() / "dg"})
    for (const auto& e : fs::directory_iterator(dir)) {
      const trainer::ProtocolRecipe r = trainer::read_protocol_recipe(e.path());
      EXPECT_EQ(methods::canonical_method_name(r.trainer), e.path().stem().string()) << e.path();
      EXPECT_TRUE(fs::is_regular_file(r.config_file)) << e.path();
      ++count;
    }
  EXPECT_GE(count, 10);
}

TEST(ProtocolRecipe, CoOpTrainsImageNetWithItsFiftyEpochConfig) {
  CommandArgs argv = {"--recipe", (recipes() / "b2n" / "CoOp.yaml").string(), "--datasets", "imagenet,caltech101"};
  const ProtocolRecipeArgs given = take_protocol_recipe_args(argv);
  EXPECT_EQ(argv, (CommandArgs{"--datasets", "imagenet,caltech101"}));
  trainer::B2nOptions o;
  o.config_file_for = resolve_protocol_configs(given, o.base, "b2n");
  EXPECT_EQ(o.base.trainer, "CoOp");
  EXPECT_EQ(fs::path(o.base.config_file).filename(), "vit_b16_ctxv1.yaml");
  EXPECT_EQ(epochs_of(o, "imagenet"), 50);  // vit_b16_ep50_ctxv1
  EXPECT_EQ(epochs_of(o, "ImageNet"), 50);  // Dassl names too
  EXPECT_EQ(epochs_of(o, "caltech101"), 200);

  // --config-file-for (repeatable, `=` form too) wins over the recipe per dataset; --config-file over its
  // default.
  argv = {"--config-file-for", "caltech101=" + (trainers() / "CoOp" / "vit_b16_ep100.yaml").string(),
          "--recipe=" + (recipes() / "b2n" / "CoOp.yaml").string(),
          "--config-file-for=dtd=" + (trainers() / "CoOp" / "vit_b16_ep50.yaml").string()};
  trainer::B2nOptions p;
  p.base.config_file = (trainers() / "CoOp" / "vit_b16_ep100_ctxv1.yaml").string();
  p.config_file_for = resolve_protocol_configs(take_protocol_recipe_args(argv), p.base, "b2n");
  EXPECT_TRUE(argv.empty());
  EXPECT_EQ(epochs_of(p, "caltech101"), 100);
  EXPECT_EQ(epochs_of(p, "dtd"), 50);
  EXPECT_EQ(epochs_of(p, "imagenet"), 50);
  EXPECT_EQ(epochs_of(p, "eurosat"), 100);  // the command line's --config-file
}

TEST(ProtocolRecipe, BadInputIsOneErrorNamingIt) {
  const fs::path dir = test::scratch_dir("protocol_recipe_bad");
  auto recipe = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  };
  const std::string coop = (trainers() / "CoOp" / "vit_b16_ctxv1.yaml").string();
  EXPECT_ERROR_CONTAINS(trainer::read_protocol_recipe(recipe("a.yaml", "TRAINER: CoOp\nCONFIG_FILES: x\n")),
                        "unknown key CONFIG_FILES");
  EXPECT_ERROR_CONTAINS(trainer::read_protocol_recipe(recipe("b.yaml", "CONFIG_FILE_FOR:\n  imagnet: " + coop + "\n")),
                        "imagnet");
  EXPECT_ERROR_CONTAINS(trainer::read_protocol_recipe(recipe("c.yaml", "CONFIG_FILE: no/such.yaml\n")),
                        "CONFIG_FILE): config file");
  EXPECT_ERROR_CONTAINS(trainer::read_protocol_recipe(dir / "missing.yaml"), "missing.yaml does not exist");
  EXPECT_ERROR_CONTAINS(trainer::parse_config_file_for({"imagenet"}), "expected DATASET=PATH");
  EXPECT_ERROR_CONTAINS(trainer::parse_config_file_for({"imagenet=" + coop, "ImageNet=" + coop}), "given twice");
  EXPECT_ERROR_CONTAINS(trainer::parse_config_file_for({"imagenet=/no/such.yaml"}), "/no/such.yaml does not exist");
  // A --trainer that is not the recipe's method.
  ProtocolRecipeArgs given;
  given.recipe = (recipes() / "b2n" / "CoOp.yaml").string();
  trainer::TrainArgs base;
  base.trainer = "KgCoOp";
  EXPECT_ERROR_CONTAINS(resolve_protocol_configs(given, base, "b2n"), "--trainer KgCoOp but the recipe");
  CommandArgs argv = {"--recipe", "a", "--recipe", "b"};
  EXPECT_ERROR_CONTAINS(take_protocol_recipe_args(argv), "--recipe is given 2 times");
}

}  // namespace
}  // namespace clipt::apps
