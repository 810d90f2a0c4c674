#include "apps/train_args.h"

#include "engine/core/error.h"

namespace clipt::apps {

namespace {

// Options that take several values (Dassl's nargs="+") end at the next option; `--option=a` starts
// the list with a. Given twice is an error, as for every other option.
std::vector<std::string> take_list(std::vector<std::string>& argv, const std::string& option) {
  std::vector<std::string> out;
  bool found = false;
  for (size_t i = 0; i < argv.size();) {
    const bool with_value = argv[i].starts_with(option + "=");
    if (argv[i] != option && !with_value) {
      ++i;
      continue;
    }
    CLIPT_CHECK(!found, "option {} is given twice", option);
    found = true;
    if (with_value) out.push_back(argv[i].substr(option.size() + 1));
    size_t j = i + 1;
    while (j < argv.size() && !argv[j].starts_with("--")) out.push_back(argv[j++]);
    CLIPT_CHECK(!out.empty(), "option {} needs at least one value", option);
    argv.erase(argv.begin() + int64_t(i), argv.begin() + int64_t(j));
  }
  return out;
}

}  // namespace

ParsedTrainArgs parse_train_args(const CommandArgs& argv0, const std::set<std::string>& extra,
                                 const std::set<std::string>& extra_flags) {
  std::vector<std::string> argv = argv0;
  ParsedTrainArgs p;
  trainer::TrainArgs& a = p.train;
  a.source_domains = take_list(argv, "--source-domains");
  a.target_domains = take_list(argv, "--target-domains");
  a.transforms = take_list(argv, "--transforms");
  std::set<std::string> flags{"eval-only", "no-train"};
  flags.insert(extra_flags.begin(), extra_flags.end());
  p.args = std::make_unique<Args>(argv, flags);
  const Args& args = *p.args;
  std::set<std::string> known{"root",       "seed",      "trainer",   "config-file", "dataset-config-file",
                              "output-dir", "eval-only", "model-dir", "load-epoch",  "no-train",
                              "backbone",   "head",      "model",     "device"};
  known.insert(extra.begin(), extra.end());
  known.insert(extra_flags.begin(), extra_flags.end());
  known.insert("resume");  // refused below unless the command takes it
  args.check_known(known);
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
  // Dassl's --resume DIR: continue from the newest checkpoint in DIR (the run writes to --output-dir).
  // Only a single run has one folder to resume from; the protocols resume their runs by themselves.
  if (extra.count("resume")) {
    a.resume = args.get_or("resume", "");
  } else {
    CLIPT_CHECK(!args.get("resume"), "--resume is an option of `clipt train`; rerun this command to resume its runs");
  }
  a.opts = args.positionals();
  return p;
}

std::filesystem::path config_dir() { return std::filesystem::path(CLIPT_SOURCE_DIR) / "configs"; }

}  // namespace clipt::apps
