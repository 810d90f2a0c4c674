// `clipt train`: the command line of the peers' train.py, so their scripts run with `python train.py`
// replaced by `clipt train`:
//   --root --seed --trainer --config-file --dataset-config-file --output-dir --eval-only --model-dir
//   --load-epoch --no-train --resume --source-domains --target-domains --transforms --backbone --head
//   plus --model DIR (a converted CLIP directory) and --device, then KEY VALUE config overrides.
#include <fmt/core.h>

#include "apps/args.h"
#include "apps/commands.h"
#include "engine/core/error.h"
#include "methods/trainer/interrupt.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/trainer.h"

namespace clipt::apps {

namespace {

// Options that take several values (Dassl's nargs="+") end at the next option.
std::vector<std::string> take_list(std::vector<std::string>& argv, const std::string& option) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] != option) continue;
    size_t j = i + 1;
    while (j < argv.size() && !argv[j].starts_with("--")) out.push_back(argv[j++]);
    argv.erase(argv.begin() + int64_t(i), argv.begin() + int64_t(j));
    break;
  }
  return out;
}

}  // namespace

trainer::TrainArgs parse_train_args(const CommandArgs& argv0, Args** parsed_out, std::unique_ptr<Args>& holder) {
  std::vector<std::string> argv = argv0;
  trainer::TrainArgs a;
  a.source_domains = take_list(argv, "--source-domains");
  a.target_domains = take_list(argv, "--target-domains");
  a.transforms = take_list(argv, "--transforms");
  holder = std::make_unique<Args>(argv, std::set<std::string>{"eval-only", "no-train"});
  Args& args = *holder;
  args.check_known({"root", "seed", "trainer", "config-file", "dataset-config-file", "output-dir", "eval-only",
                    "model-dir", "load-epoch", "no-train", "resume", "backbone", "head", "model", "device"});
  a.root = args.get_or("root", "");
  a.trainer = args.get_or("trainer", "");
  a.config_file = args.get_or("config-file", "");
  a.dataset_config_file = args.get_or("dataset-config-file", "");
  a.output_dir = args.get_or("output-dir", "");
  a.backbone = args.get_or("backbone", "");
  a.head = args.get_or("head", "");
  a.model = args.get_or("model", "");
  a.device = args.get_or("device", "");
  if (args.get("seed")) a.seed = args.get_int("seed", 0);
  a.resume = args.get("resume").has_value();
  a.opts = args.positionals();
  *parsed_out = &args;
  return a;
}

int cmd_train(const CommandArgs& argv) {
  std::unique_ptr<Args> holder;
  Args* args = nullptr;
  const trainer::TrainArgs a = parse_train_args(argv, &args, holder);
  const Config cfg = trainer::build_run_config(a);
  const std::filesystem::path out = cfg.get_string("OUTPUT_DIR");
  std::filesystem::create_directories(out);
  cfg.save(out / "config.yaml");
  trainer::RunLog log(out);
  auto& stop = trainer::install_interrupt_handler();
  trainer::Trainer t(cfg, log, &stop);
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
    log.info("results written to {}", (out / "results.json").string());
  }
  return 0;
}

}  // namespace clipt::apps
