// `clipt train`: the command line of the peers' train.py, so their scripts run with `python train.py`
// replaced by `clipt train`:
//   --root --seed --trainer --config-file --dataset-config-file --output-dir --eval-only --model-dir
//   --load-epoch --no-train --resume --source-domains --target-domains --transforms --backbone --head
//   plus --model DIR (a converted CLIP directory) and --device, then KEY VALUE config overrides.
#include <fmt/core.h>

#include "apps/train_args.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "engine/dist/communicator.h"
#include "methods/trainer/interrupt.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/trainer.h"

namespace clipt::apps {

int cmd_train(const CommandArgs& argv) {
  const ParsedTrainArgs parsed = parse_train_args(argv, {"profile"});
  world::register_world_datasets();  // DATASET.NAME world, as in b2n/eval
  const Args* args = parsed.args.get();
  const Config cfg = trainer::build_run_config(parsed.train);
  const std::filesystem::path out = cfg.get_string("OUTPUT_DIR");
  // Data parallel (mpirun): rank 0 writes the run folder; the other ranks log nothing.
  const bool root = dist::world().rank() == 0;
  if (root) {
    std::filesystem::create_directories(out);
    cfg.save(out / "config.yaml");
  }
  trainer::RunLog log(root ? out : std::filesystem::path(), !root);
  auto& stop = trainer::install_interrupt_handler();
  trainer::Trainer t(cfg, log, &stop);
  t.set_profile_steps(args->get_int("profile", 0));
  std::vector<trainer::EvalResult> results;
  const auto subsample = data::parse_subsample(cfg.get_string("DATASET.SUBSAMPLE_CLASSES"));
  const std::string split = cfg.get_string("TEST.SPLIT");
  if (args->flag("eval-only")) {
    t.load(args->require("model-dir"), args->get_int("load-epoch", -1));
    results.push_back(t.evaluate(subsample, split));
  } else if (!args->flag("no-train")) {
    t.train();
    if (!cfg.get_bool("TEST.NO_TEST")) results.push_back(t.evaluate(subsample, split));
  }
  if (!results.empty()) {
    t.write_results(results, out / "results.json");
    if (root) log.info("results written to {}", (out / "results.json").string());
  }
  return 0;
}

}  // namespace clipt::apps
