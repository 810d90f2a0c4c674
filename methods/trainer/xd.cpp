#include "methods/trainer/xd.h"

#include "data/dataset.h"
#include "methods/method.h"
#include "methods/trainer/progress.h"
#include "methods/trainer/protocol_runs.h"
#include "methods/trainer/trainer.h"

namespace clipt::trainer {

namespace {

const std::vector<std::string> kImagenetVariants = {"imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r"};
// CoCoOp's cross-dataset table, in its column order.
const std::vector<std::string> kCrossDatasets = {"caltech101", "oxford_pets",   "stanford_cars", "oxford_flowers",
                                                 "food101",    "fgvc_aircraft", "sun397",        "dtd",
                                                 "eurosat",    "ucf101"};
const std::vector<std::string> kWorldShifts = {"world_sketch", "world_cartoon", "world_texture", "world_noisy"};

std::string registry_name(const std::string& name) { return data::find_dataset(name).name; }

constexpr const char* kRedoHint = "redo this run";  // how to get past a corrupt record

std::string source_dataset_config(const XdOptions& o, const std::string& source) {
  if (!o.base.dataset_config_file.empty()) return o.base.dataset_config_file;
  return dataset_config_in(o.dataset_config_dir, source);
}

// Trains on all classes of the source (or reads the finished run back) and evaluates on its test split.
nlohmann::json run_source(const XdOptions& o, const std::string& source, int64_t seed, RunLog& log) {
  const auto dir = protocol_run_dir(o.output_dir, source, seed);
  const auto record = dir / "xd.json";
  TrainArgs a = o.base;
  a.seed = seed;
  a.output_dir = dir.string();
  a.dataset_config_file = source_dataset_config(o, source);
  a.config_file = config_file_for(o.config_file_for, source, a.config_file);
  a.opts.insert(a.opts.end(), {"DATASET.NAME", source, "DATASET.NUM_SHOTS", std::to_string(o.shots),
                               "DATASET.SUBSAMPLE_CLASSES", "all"});
  const Config cfg = current_run_config(a, dir, false, log);
  if (auto j = read_finished_run(record, kRedoHint, [&](const nlohmann::json& done) {
        CLIPT_CHECK(done.value("shots", int64_t(-2)) == o.shots && done.value("role", "") == "source",
                    "{} was made with other settings (shots {}, role {}); use another --output-dir", record.string(),
                    done.value("shots", int64_t(-2)), done.value("role", ""));
        log.info("{} seed {}: trained earlier (accuracy {:.2f}) — {}", source, seed, done.at("accuracy").get<double>(),
                 record.string());
      }))
    return *j;
  const auto run = start_protocol_run(cfg, dir, o.quiet_runs, o.stop);
  Trainer& t = run->trainer;
  t.train();
  const EvalResult r = t.evaluate(data::Subsample::All);
  t.write_results({r}, dir / "results.json");
  nlohmann::json j = {
      {"role", "source"},       {"dataset", source},     {"method", methods::canonical_method_name(o.base.trainer)},
      {"seed", seed},           {"shots", o.shots},      {"classes", r.num_classes},
      {"test_images", r.total}, {"accuracy", r.accuracy}};
  write_run_record(record, j);
  log.info("{} seed {}: source accuracy {:.2f}", source, seed, r.accuracy);
  return j;
}

// Evaluates the source run of `seed` unchanged on `target` (CoOp's --eval-only --model-dir).
nlohmann::json run_target(const XdOptions& o, const std::string& source, const std::string& target, int64_t seed,
                          RunLog& log) {
  const auto source_dir = protocol_run_dir(o.output_dir, source, seed);
  const auto dir = protocol_run_dir(o.output_dir, target, seed);
  const auto record = dir / "xd.json";
  TrainArgs a = o.base;
  a.seed = seed;
  a.output_dir = dir.string();
  a.dataset_config_file = source_dataset_config(o, source);                   // the source run's input pipeline
  a.config_file = config_file_for(o.config_file_for, source, a.config_file);  // and its recipe
  // Evaluation only: the target's test split with its own classes; no few-shot sampling.
  a.opts.insert(a.opts.end(), {"DATASET.NAME", target, "DATASET.NUM_SHOTS", "-1", "DATASET.SUBSAMPLE_CLASSES", "all"});
  const Config cfg = current_run_config(a, dir, false, log);
  if (auto j = read_finished_run(record, kRedoHint, [&](const nlohmann::json& done) {
        CLIPT_CHECK(done.value("source", "") == source && done.value("shots", int64_t(-2)) == o.shots,
                    "{} was made for source {} with {} shots, not {} with {}; use another --output-dir",
                    record.string(), done.value("source", ""), done.value("shots", int64_t(-2)), source, o.shots);
        log.info("{} seed {}: evaluated earlier ({:.2f}) — {}", target, seed, done.at("accuracy").get<double>(),
                 record.string());
      }))
    return *j;
  const auto run = start_protocol_run(cfg, dir, o.quiet_runs, o.stop);
  Trainer& t = run->trainer;
  std::string loaded = "none (no trainable parameters)";
  if (!t.method().trainable_parameters().empty()) {
    const int64_t epoch = Trainer::latest_checkpoint(source_dir);
    CLIPT_CHECK(epoch > 0, "xd: the source run {} has no checkpoint to evaluate on {}", source_dir.string(), target);
    t.load(source_dir, epoch);
    loaded = Trainer::checkpoint_path(source_dir, epoch).string();
  }
  const EvalResult r = t.evaluate(data::Subsample::All);
  t.write_results({r}, dir / "results.json");
  nlohmann::json j = {{"role", "target"},       {"dataset", target},
                      {"source", source},       {"method", methods::canonical_method_name(o.base.trainer)},
                      {"seed", seed},           {"shots", o.shots},
                      {"checkpoint", loaded},   {"classes", r.num_classes},
                      {"test_images", r.total}, {"accuracy", r.accuracy}};
  write_run_record(record, j);
  log.info("{} seed {}: accuracy {:.2f} ({} classes, {} images)", target, seed, r.accuracy, r.num_classes, r.total);
  return j;
}

bool has_group(const XdTable& t, bool domain_shift) {
  return std::any_of(t.targets.begin(), t.targets.end(),
                     [&](const XdColumn& c) { return c.domain_shift == domain_shift; });
}

std::string group_table(const XdTable& t, bool domain_shift) {
  std::string head = fmt::format("| Method | {} (source) |", t.source.dataset), rule = "|---|---|",
              row = fmt::format("| {} | {:.2f} |", t.method, t.source.accuracy);
  for (const auto& c : t.targets) {
    if (c.domain_shift != domain_shift) continue;
    head += fmt::format(" {} |", c.dataset);
    rule += "---|";
    row += fmt::format(" {:.2f} |", c.accuracy);
  }
  head += " Avg |";
  rule += "---|";
  row += fmt::format(" {:.2f} |", domain_shift ? t.domain_shift_average : t.cross_dataset_average);
  return head + "\n" + rule + "\n" + row + "\n";
}

}  // namespace

std::vector<std::string> default_xd_targets(const std::string& source) {
  const std::string name = registry_name(source);
  if (name == "imagenet") {
    std::vector<std::string> out = kImagenetVariants;
    out.insert(out.end(), kCrossDatasets.begin(), kCrossDatasets.end());
    return out;
  }
  if (name == "world") return kWorldShifts;
  fail("xd: no default targets for source {}: pass --targets a,b,...", source);
}

bool is_domain_shift_target(const std::string& source, const std::string& target) {
  if (source == "imagenet")
    return std::find(kImagenetVariants.begin(), kImagenetVariants.end(), target) != kImagenetVariants.end();
  return target.size() > source.size() + 1 && target.compare(0, source.size() + 1, source + "_") == 0;
}

void summarise(XdTable& t) {
  auto mean = [](XdColumn& c) { c.accuracy = mean_over_seeds(c.per_seed, fmt::format("xd table: {}", c.dataset)); };
  mean(t.source);
  double sums[2] = {0, 0};
  int counts[2] = {0, 0};
  for (auto& c : t.targets) {
    mean(c);
    sums[c.domain_shift] += c.accuracy;
    counts[c.domain_shift] += 1;
  }
  t.cross_dataset_average = counts[0] ? sums[0] / counts[0] : 0.0;
  t.domain_shift_average = counts[1] ? sums[1] / counts[1] : 0.0;
}

std::string XdTable::markdown() const {
  std::string s =
      fmt::format("{} trained on all classes of {}, evaluated unchanged (accuracy, %)\n", method, source.dataset);
  if (has_group(*this, true)) s += "\nDomain shift\n\n" + group_table(*this, true);
  if (has_group(*this, false)) s += "\nCross-dataset\n\n" + group_table(*this, false);
  return s;
}

std::string XdTable::csv() const {
  std::string s = "method,dataset,role,accuracy,seeds,per_seed\n";
  auto line = [&](const XdColumn& c, const char* role) {
    s += fmt::format("{},{},{},{:.4f},{},{}\n", method, c.dataset, role, c.accuracy, fmt::join(c.seeds, " "),
                     fmt::join(c.per_seed, " "));
  };
  line(source, "source");
  for (const auto& c : targets) line(c, c.domain_shift ? "domain_shift" : "cross_dataset");
  if (has_group(*this, true))
    s += fmt::format("{},Average (domain shift),average,{:.4f},,\n", method, domain_shift_average);
  if (has_group(*this, false))
    s += fmt::format("{},Average (cross-dataset),average,{:.4f},,\n", method, cross_dataset_average);
  return s;
}

nlohmann::json XdTable::to_json() const {
  auto col = [](const XdColumn& c) {
    return nlohmann::json{{"dataset", c.dataset},
                          {"domain_shift", c.domain_shift},
                          {"accuracy", c.accuracy},
                          {"seeds", c.seeds},
                          {"per_seed", c.per_seed}};
  };
  // A group without targets has no average (null), not 0.
  auto average = [this](bool group, double value) {
    return has_group(*this, group) ? nlohmann::json(value) : nlohmann::json();
  };
  nlohmann::json j = {{"method", method},
                      {"source", col(source)},
                      {"targets", nlohmann::json::array()},
                      {"domain_shift_average", average(true, domain_shift_average)},
                      {"cross_dataset_average", average(false, cross_dataset_average)}};
  for (const auto& c : targets) j["targets"].push_back(col(c));
  return j;
}

XdTable run_xd(const XdOptions& o, RunLog& log) {
  CLIPT_CHECK(!o.seeds.empty(), "xd: no seed given");
  reject_protocol_keys(o.base.opts, {"DATASET.NAME", "DATASET.NUM_SHOTS", "DATASET.SUBSAMPLE_CLASSES"}, "xd",
                       "; use --source, --targets and --shots");
  const std::string source = registry_name(o.source);
  std::vector<std::string> targets;
  for (const auto& t : o.targets.empty() ? default_xd_targets(source) : o.targets) {
    const std::string name = registry_name(t);
    CLIPT_CHECK(name != source, "xd: target {} is the source itself", t);
    targets.push_back(name);
  }
  XdTable table;
  table.method = methods::canonical_method_name(o.base.trainer);
  table.source.dataset = source;
  for (const auto& t : targets) {
    XdColumn c;
    c.dataset = t;
    c.domain_shift = is_domain_shift_target(source, t);
    table.targets.push_back(c);
  }
  log.info("{}: train on {} ({} shots per class), evaluate on {}; seeds {}", table.method, source, o.shots,
           fmt::join(targets, ", "), fmt::join(o.seeds, ","));
  // The sweep's overall ETA, one line per seed: a seed is one training run on the source and the evaluations
  // on every target, so seeds take alike and the mean time per seed predicts the rest.
  Progress sweep(
      fmt::format("xd {} from {}", table.method, source), int64_t(o.seeds.size()),
      [&log](const std::string& l) { log.line(l); }, 1, nullptr);
  for (int64_t seed : o.seeds) {
    const nlohmann::json s = run_source(o, source, seed, log);
    table.source.seeds.push_back(seed);
    table.source.per_seed.push_back(s.at("accuracy").get<double>());
    for (auto& c : table.targets) {
      const nlohmann::json j = run_target(o, source, c.dataset, seed, log);
      c.seeds.push_back(seed);
      c.per_seed.push_back(j.at("accuracy").get<double>());
    }
    sweep.advance();
  }
  summarise(table);
  write_table_files(o.output_dir, "xd", table);
  return table;
}

}  // namespace clipt::trainer
