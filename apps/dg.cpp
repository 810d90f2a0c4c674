// `clipt dg --trainer NAME [--config-file F] (--dataset NAME | --dataset-config-file F) [--targets a,b]
//   [--shots 5] [--seeds 1,2,3] --root DIR [--output-dir DIR] [--model DIR] [--device D] [KEY VALUE...]`:
// few-shot leave-one-domain-out domain generalisation (methods/trainer/dg.h). For each target domain ×
// seed it trains on the other domains and tests on the target; prints the per-target and average table
// and writes dg.md / dg.csv / dg.json. Finished runs are skipped on a rerun. The peers' DG dataset
// configs (configs/datasets/dg/*.yaml) work as --dataset-config-file; the protocol sets the domains.
#include "methods/trainer/dg.h"

#include <fmt/core.h>

#include "apps/list_option.h"
#include "apps/protocol_recipe_args.h"
#include "apps/train_args.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "engine/dist/communicator.h"
#include "methods/method.h"
#include "methods/trainer/interrupt.h"
#include "methods/trainer/run_config.h"

namespace clipt::apps {

int cmd_dg(const CommandArgs& argv0) {
  CommandArgs argv = argv0;
  const ProtocolRecipeArgs recipe = take_protocol_recipe_args(argv);
  const ParsedTrainArgs parsed = parse_train_args(argv, {"dataset", "targets", "shots", "seeds"});
  const Args& args = *parsed.args;
  world::register_world_datasets();
  trainer::DgOptions o;
  o.base = parsed.train;
  o.config_file_for = resolve_protocol_configs(recipe, o.base, "dg");
  CLIPT_CHECK(!o.base.trainer.empty(), "dg: pass --trainer NAME (or a --recipe that names one)");
  CLIPT_CHECK(o.base.source_domains.empty() && o.base.target_domains.empty(),
              "dg: the protocol chooses the source domains; pick targets with --targets a,b");
  o.dataset = args.get_or("dataset", "");
  CLIPT_CHECK(!o.dataset.empty() || !o.base.dataset_config_file.empty(),
              "dg: pass --dataset NAME (pacs, vlcs, office_home, domainnet, their *_fs variants, world_dg) or a "
              "--dataset-config-file");
  o.targets = split_commas(args.get_or("targets", ""));
  o.shots = args.get_int("shots", 5);
  o.seeds = parse_seeds(args.get_or("seeds", "1,2,3"), "dg");
  if (o.base.output_dir.empty()) {  // MetaPrompt's DG/<dataset>/<trainer>/<cfg>_shots_<k> layout, without <cfg>
    const std::string dataset =
        o.dataset.empty() ? trainer::build_run_config(o.base).get_string("DATASET.NAME") : o.dataset;
    o.output_dir = std::filesystem::path("output/dg") / dataset / methods::canonical_method_name(o.base.trainer) /
                   fmt::format("shots_{}", o.shots);
  } else {
    o.output_dir = o.base.output_dir;
  }
  o.stop = &trainer::install_interrupt_handler();
  // Data parallel (mpirun): every rank trains and evaluates, rank 0 alone logs and writes.
  const bool root = dist::world().is_root();
  trainer::RunLog log = trainer::RunLog::for_rank(o.output_dir, false, root);
  const trainer::DgTable table = trainer::run_dg(o, log);
  log.line("");
  log.line(table.markdown());
  log.info("table, CSV and JSON written to {}", o.output_dir.string());
  return 0;
}

}  // namespace clipt::apps
