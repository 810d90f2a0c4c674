// `clipt train`: the command line of the peers' train.py, so their scripts run with `python train.py`
// replaced by `clipt train`:
//   --root --seed --trainer --config-file --dataset-config-file --output-dir --eval-only --model-dir
//   --load-epoch --no-train --resume --source-domains --target-domains --transforms --backbone --head
//   plus --model DIR (a converted CLIP directory) and --device, then KEY VALUE config overrides.
// The output folder has one owner at a time (a second process on it fails at once), and a folder whose
// checkpoints were trained under another recipe is refused before anything in it is overwritten.
#include <fmt/core.h>

#include "apps/train_args.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "engine/dist/communicator.h"
#include "engine/io/folder_lock.h"
#include "methods/trainer/interrupt.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/trainer.h"

namespace clipt::apps {

int cmd_train(const CommandArgs& argv) {
  const ParsedTrainArgs parsed = parse_train_args(argv, {"resume", "profile"});
  world::register_world_datasets();  // DATASET.NAME world, as in b2n/eval
  const Args* args = parsed.args.get();
  const Config cfg = trainer::build_run_config(parsed.train);
  const bool eval_only = args->flag("eval-only"), trains = !eval_only && !args->flag("no-train");
  std::filesystem::path model_dir;
  if (eval_only) {
    model_dir = args->require("model-dir");
    CLIPT_CHECK(std::filesystem::exists(model_dir), "--model-dir {} does not exist", model_dir.string());
  }
  const std::filesystem::path out = cfg.get_string("OUTPUT_DIR");
  // Data parallel (mpirun): rank 0 owns and writes the run folder; the other ranks log nothing.
  const bool root = dist::world().rank() == 0;
  std::optional<io::FolderLock> lock;
  int leftovers = 0;
  if (root) {
    lock.emplace(out);
    leftovers = io::remove_stale_temp_files(out);
    if (trains)
      if (const auto from = trainer::Trainer::resume_checkpoint(out); !from.empty())
        trainer::Trainer::check_resumable(cfg, from);
    cfg.save(out / "config.yaml");
  }
  trainer::RunLog log(root ? out : std::filesystem::path(), !root);
  if (leftovers > 0)
    log.info("removed {} temporary file(s) left in {} by an interrupted write", leftovers, out.string());
  auto& stop = trainer::install_interrupt_handler();
  trainer::Trainer t(cfg, log, &stop, model_dir);
  t.set_profile_steps(args->get_int("profile", 0));
  std::vector<trainer::EvalResult> results;
  const auto subsample = data::parse_subsample(cfg.get_string("DATASET.SUBSAMPLE_CLASSES"));
  const std::string split = cfg.get_string("TEST.SPLIT");
  if (eval_only) {
    t.load(model_dir, args->get_int("load-epoch", -1));
    results.push_back(t.evaluate(subsample, split));
  } else if (trains) {
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
