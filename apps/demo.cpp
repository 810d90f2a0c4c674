// `clipt demo`: the README's main command. It makes sure the built-in world exists (benchmark images,
// tokenizer) and a CLIP pretrained on it (the committed model in assets/world-clip, else pretrained
// now and cached), then runs the base-to-new protocol on the world for zero-shot CLIP and every method
// with a recipe in configs/world/, and prints the base / new / HM table.
#include <fmt/core.h>

#include <chrono>
#include <sstream>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/train_args.h"
#include "apps/world_model.h"
#include "data/world/world_datasets.h"
#include "engine/core/backend.h"
#include "methods/method.h"
#include "methods/report/report_builder.h"
#include "methods/trainer/b2n.h"
#include "methods/trainer/interrupt.h"
#include "models/world/ensure_world.h"

namespace clipt::apps {

namespace {

// Methods in the order the table shows them: the paper baselines first, then the rest alphabetically.
std::vector<std::string> demo_methods(const std::filesystem::path& recipes) {
  std::vector<std::string> order{"ZeroshotCLIP", "CoOp", "KgCoOp", "CoCoOp"};
  std::vector<std::string> out;
  for (const auto& m : order)
    if (std::filesystem::exists(recipes / (m + ".yaml"))) out.push_back(m);
  for (const auto& m : methods::method_names())
    if (std::find(out.begin(), out.end(), m) == out.end() && std::filesystem::exists(recipes / (m + ".yaml")))
      out.push_back(m);
  return out;
}

}  // namespace

int cmd_demo(const CommandArgs& argv) {
  Args args(argv);
  args.check_known({"device", "world", "out", "seeds", "methods"});
  const auto start = std::chrono::steady_clock::now();
  const std::string device_name = args.get_or("device", cuda_available() ? "cuda" : "cpu");
  const Device device = parse_device(device_name);
  const std::filesystem::path world_root = args.get_or("world", "clipt-world");
  const std::filesystem::path out = args.get_or("out", "clipt-demo");
  const std::filesystem::path recipes = config_dir() / "world";
  auto& stop = trainer::install_interrupt_handler();

  world::register_world_datasets();
  fmt::print("clipt demo: preparing the built-in world in {}\n", world_root.string());
  const auto world = world_setup::ensure_world(world_root);
  const auto model = world_model(world_root, world.tokenizer_dir, device, &stop);
  fmt::print("world benchmark: {} classes ({} base / {} new) | CLIP: {} | device {}\n", world.benchmark.classes.size(),
             (world.benchmark.classes.size() + 1) / 2, world.benchmark.classes.size() / 2, model.string(),
             device.str());

  std::vector<std::string> methods = demo_methods(recipes);
  if (auto only = args.get("methods")) {
    methods.clear();
    std::stringstream in(*only);
    for (std::string m; std::getline(in, m, ',');) methods.push_back(methods::canonical_method_name(m));
  }
  std::vector<int64_t> seeds;
  {
    std::stringstream in(args.get_or("seeds", "1"));
    for (std::string s; std::getline(in, s, ',');) seeds.push_back(std::stoll(s));
  }
  trainer::RunLog log(out);
  std::vector<trainer::B2nTable> tables;
  for (const auto& m : methods) {
    const auto method_start = std::chrono::steady_clock::now();
    trainer::B2nOptions o;
    o.base.trainer = m;
    o.base.config_file = (recipes / (m + ".yaml")).string();
    o.base.dataset_config_file = (recipes / "dataset.yaml").string();
    o.base.root = world_root.string();
    o.base.model = model.string();
    o.base.device = device_name;
    o.datasets = {"world"};
    o.seeds = seeds;
    o.output_dir = out / m;
    o.stop = &stop;
    o.quiet_runs = true;
    o.replace_stale_runs = true;  // after an upgrade changed a recipe, the demo's own runs are redone
    tables.push_back(trainer::run_b2n(o, log));
    log.info("{} done in {:.0f} s", m,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - method_start).count());
  }
  std::string table = "\n| Method | Base | New | HM |\n|---|---|---|---|\n";
  for (const auto& t : tables)
    table +=
        fmt::format("| {} | {:.2f} | {:.2f} | {:.2f} |\n", t.method, t.average.base, t.average.novel, t.average.hm);
  log.line(table);
  log.info("base-to-new on the built-in world, seeds {}; {:.0f} s in all", fmt::join(seeds, ","),
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  log.info("logs, checkpoints and results.json of every run: {}/<method>/world/seed<k>/; tables: {}/<method>/b2n.md",
           out.string(), out.string());
  const report::ReportFiles report = report::report_runs({out}, out);
  for (const auto& w : report.warnings) log.info("report: warning: {}", w);
  log.info("report of these runs (tables, bar charts, training curves): {} (also {})", report.html.string(),
           report.markdown.string());
  return 0;
}

}  // namespace clipt::apps
