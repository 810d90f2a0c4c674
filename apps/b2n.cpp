// `clipt b2n --trainer NAME [--config-file F] [--config-file-for DATASET=F]... [--recipe F] --datasets a,b,...
//   [--seeds 1,2,3] [--shots K] --root DIR
//   --output-dir DIR [--model DIR] [--device D] [KEY VALUE...]`: the base-to-new protocol; prints the
// Markdown table and writes b2n.md / b2n.csv / b2n.json. Finished runs are skipped on a rerun. 16 shots
// unless --shots, a config file or DATASET.NUM_SHOTS says otherwise.
#include "methods/trainer/b2n.h"

#include <fmt/core.h>

#include <sstream>

#include "apps/protocol_recipe_args.h"
#include "apps/train_args.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "engine/dist/communicator.h"
#include "methods/trainer/interrupt.h"

namespace clipt::apps {

namespace {
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}
}  // namespace

int cmd_b2n(const CommandArgs& argv0) {
  CommandArgs argv = argv0;
  const ProtocolRecipeArgs recipe = take_protocol_recipe_args(argv);
  const ParsedTrainArgs parsed = parse_train_args(argv, {"datasets", "seeds", "shots", "dataset-config-dir"});
  const Args& args = *parsed.args;
  world::register_world_datasets();
  trainer::B2nOptions o;
  o.base = parsed.train;
  o.config_file_for = resolve_protocol_configs(recipe, o.base, "b2n");
  CLIPT_CHECK(!o.base.trainer.empty(), "b2n: pass --trainer NAME (or a --recipe that names one)");
  o.datasets = split_list(args.require("datasets"));
  o.seeds.clear();
  for (const auto& s : split_list(args.get_or("seeds", "1,2,3"))) {
    try {
      o.seeds.push_back(std::stoll(s));
    } catch (const std::exception&) { fail("b2n: seed '{}' is not an integer", s); }
  }
  if (args.get("shots")) o.shots = args.get_int("shots", trainer::kB2nDefaultShots);
  o.output_dir = o.base.output_dir.empty() ? std::filesystem::path("output/b2n") / o.base.trainer
                                           : std::filesystem::path(o.base.output_dir);
  o.dataset_config_dir = args.get_or("dataset-config-dir", (config_dir() / "datasets").string());
  o.stop = &trainer::install_interrupt_handler();
  // Data parallel (mpirun): every rank trains and evaluates, rank 0 alone logs and writes.
  const bool root = dist::world().is_root();
  trainer::RunLog log = trainer::RunLog::for_rank(o.output_dir, false, root);
  const trainer::B2nTable table = trainer::run_b2n(o, log);
  log.line("\n" + table.markdown());
  log.info("table, CSV and JSON written to {}", o.output_dir.string());
  return 0;
}

}  // namespace clipt::apps
