// `clipt xd --trainer NAME [--config-file F] [--dataset-config-file F] [--source imagenet] [--targets a,b]
//   [--shots 16] [--seeds 1,2,3] --root DIR [--output-dir DIR] [--model DIR] [--device D] [KEY VALUE...]`:
// cross-dataset transfer and domain shift (methods/trainer/xd.h): train on all classes of the source, then
// evaluate the trained model unchanged on each target with the target's class names; prints the
// paper-style table (source, domain-shift targets, cross-dataset targets, averages) and writes xd.md /
// xd.csv / xd.json. With `--source world` the targets default to the world's style copies, written on
// demand under --root.
#include "methods/trainer/xd.h"

#include <fmt/core.h>

#include "apps/list_option.h"
#include "apps/protocol_recipe_args.h"
#include "apps/train_args.h"
#include "apps/world_xd.h"
#include "data/dataset.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "engine/dist/communicator.h"
#include "methods/method.h"
#include "methods/trainer/interrupt.h"
#include "methods/trainer/run_config.h"

namespace clipt::apps {

int cmd_xd(const CommandArgs& argv0) {
  CommandArgs argv = argv0;
  const ProtocolRecipeArgs recipe = take_protocol_recipe_args(argv);
  const ParsedTrainArgs parsed = parse_train_args(argv, {"source", "targets", "shots", "seeds", "dataset-config-dir"});
  const Args& args = *parsed.args;
  world::register_world_datasets();
  trainer::XdOptions o;
  o.base = parsed.train;
  o.config_file_for = resolve_protocol_configs(recipe, o.base, "xd");
  CLIPT_CHECK(!o.base.trainer.empty(), "xd: pass --trainer NAME (or a --recipe that names one)");
  o.source = data::find_dataset(args.get_or("source", "imagenet")).name;
  o.targets = split_commas(args.get_or("targets", ""));
  o.shots = args.get_int("shots", 16);
  o.seeds = parse_seeds(args.get_or("seeds", "1,2,3"), "xd");
  o.dataset_config_dir = args.get_or("dataset-config-dir", (config_dir() / "datasets").string());
  o.output_dir = o.base.output_dir.empty()
                     ? std::filesystem::path("output/xd") / o.source / methods::canonical_method_name(o.base.trainer)
                     : std::filesystem::path(o.base.output_dir);
  o.stop = &trainer::install_interrupt_handler();
  // Data parallel (mpirun): every rank trains and evaluates, rank 0 alone logs and writes.
  const bool root_rank = dist::world().is_root();
  trainer::RunLog log = trainer::RunLog::for_rank(o.output_dir, false, root_rank);
  if (o.source == "world") {
    // The root the runs will read (--root, else DATASET.ROOT of the config files).
    const std::filesystem::path root = trainer::build_run_config(o.base).get_string("DATASET.ROOT");
    const auto targets = o.targets.empty() ? trainer::default_xd_targets(o.source) : o.targets;
    if (root_rank)
      for (const auto& name : ensure_world_style_copies(root, targets))
        log.info("wrote the world copy {} under {}", name, root.string());
    dist::world().barrier();  // the other ranks read the copies once they are written
  }
  const trainer::XdTable table = trainer::run_xd(o, log);
  log.line("");
  log.line(table.markdown());
  log.info("table, CSV and JSON written to {}", o.output_dir.string());
  return 0;
}

}  // namespace clipt::apps
