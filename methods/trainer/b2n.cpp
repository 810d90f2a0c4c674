#include "methods/trainer/b2n.h"

#include "data/dataset.h"
#include "data/subsample.h"
#include "methods/method.h"
#include "methods/trainer/progress.h"
#include "methods/trainer/protocol_runs.h"
#include "methods/trainer/trainer.h"

namespace clipt::trainer {

double harmonic_mean(double b, double n) { return b + n > 0 ? 2 * b * n / (b + n) : 0.0; }

namespace {

// One dataset × seed: trained and evaluated, or read back from its b2n.json.
nlohmann::json run_one(const B2nOptions& o, const std::string& dataset, int64_t seed, RunLog& log) {
  const auto dir = protocol_run_dir(o.output_dir, dataset, seed);
  const auto record = dir / "b2n.json";
  const Config cfg = current_run_config(b2n_run_args(o, dataset, seed), dir, o.replace_stale_runs, log);
  if (auto j = read_finished_run(record, "rerun this dataset and seed", [&](const nlohmann::json& done) {
        log.info("{} seed {}: finished earlier (base {:.2f}, new {:.2f}) — {}", dataset, seed,
                 done.at("base").get<double>(), done.at("new").get<double>(), record.string());
      }))
    return *j;
  const auto run = start_protocol_run(cfg, dir, o.quiet_runs, o.stop);
  Trainer& t = run->trainer;
  t.train();
  const EvalResult base = t.evaluate(data::Subsample::Base);
  const EvalResult novel = t.evaluate(data::Subsample::New);
  t.write_results({base, novel}, dir / "results.json");
  nlohmann::json j = {{"dataset", dataset},
                      {"seed", seed},
                      {"method", methods::canonical_method_name(o.base.trainer)},
                      {"shots", cfg.get_int("DATASET.NUM_SHOTS")},
                      {"train_images", data::subsample_classes(t.splits(), data::Subsample::Base).train.size()},
                      {"base", base.accuracy},
                      {"new", novel.accuracy},
                      {"hm", harmonic_mean(base.accuracy, novel.accuracy)}};
  if (auto b = t.method().baseline(); b && b->accuracy.count("base") && b->accuracy.count("new")) {
    const double bb = b->accuracy.at("base"), bn = b->accuracy.at("new");
    j["baseline"] = {{"method", b->method}, {"base", bb}, {"new", bn}, {"hm", harmonic_mean(bb, bn)}};
    log.info("{} seed {}: {} (the wrapped method, same run): base {:.2f}  new {:.2f}  HM {:.2f}", dataset, seed,
             b->method, bb, bn, harmonic_mean(bb, bn));
  }
  write_run_record(record, j);
  log.info("{} seed {}: base {:.2f}  new {:.2f}  HM {:.2f}", dataset, seed, base.accuracy, novel.accuracy,
           harmonic_mean(base.accuracy, novel.accuracy));
  return j;
}

}  // namespace

TrainArgs b2n_run_args(const B2nOptions& o, const std::string& dataset, int64_t seed) {
  TrainArgs a = o.base;
  a.seed = seed;
  a.output_dir = protocol_run_dir(o.output_dir, dataset, seed).string();
  a.config_file = config_file_for(o.config_file_for, dataset, a.config_file);
  if (a.dataset_config_file.empty()) a.dataset_config_file = dataset_config_in(o.dataset_config_dir, dataset);
  a.protocol_defaults.insert(a.protocol_defaults.end(), {"DATASET.NUM_SHOTS", std::to_string(kB2nDefaultShots)});
  if (o.shots) {
    for (size_t i = 0; i + 1 < a.opts.size(); i += 2)
      CLIPT_CHECK(a.opts[i] != "DATASET.NUM_SHOTS" || a.opts[i + 1] == std::to_string(*o.shots),
                  "b2n: --shots {} and DATASET.NUM_SHOTS {} disagree; give one of them", *o.shots, a.opts[i + 1]);
    a.opts.insert(a.opts.end(), {"DATASET.NUM_SHOTS", std::to_string(*o.shots)});
  }
  a.opts.insert(a.opts.end(), {"DATASET.NAME", dataset, "DATASET.SUBSAMPLE_CLASSES", "base"});
  return a;
}

std::string B2nTable::markdown() const {
  std::string s;
  for (const auto& b : baseline) s += b.markdown() + "\n";
  s += fmt::format("| {} | Base | New | HM |\n|---|---|---|---|\n", method);
  for (const auto& r : rows) s += fmt::format("| {} | {:.2f} | {:.2f} | {:.2f} |\n", r.dataset, r.base, r.novel, r.hm);
  if (rows.size() > 1)
    s += fmt::format("| **Average** | {:.2f} | {:.2f} | {:.2f} |\n", average.base, average.novel, average.hm);
  return s;
}

std::string B2nTable::csv() const {
  std::string s = "method,dataset,base,new,hm,seeds\n";
  auto line = [&](const B2nRow& r) {
    s += fmt::format("{},{},{:.4f},{:.4f},{:.4f},{}\n", method, r.dataset, r.base, r.novel, r.hm,
                     fmt::join(r.seeds, " "));
  };
  for (const auto& r : rows) line(r);
  line(average);
  for (const auto& b : baseline) {  // its rows, without the header
    const std::string rows_csv = b.csv();
    s += rows_csv.substr(rows_csv.find('\n') + 1);
  }
  return s;
}

nlohmann::json B2nTable::to_json() const {
  nlohmann::json j = {{"method", method}, {"datasets", nlohmann::json::array()}};
  auto row = [](const B2nRow& r) {
    return nlohmann::json{{"dataset", r.dataset}, {"base", r.base}, {"new", r.novel}, {"hm", r.hm}, {"seeds", r.seeds}};
  };
  for (const auto& r : rows) j["datasets"].push_back(row(r));
  j["average"] = row(average);
  if (!baseline.empty()) j["baseline"] = baseline.front().to_json();
  return j;
}

B2nTable run_b2n(const B2nOptions& o, RunLog& log) {
  CLIPT_CHECK(!o.datasets.empty(), "b2n: no dataset given");
  CLIPT_CHECK(!o.seeds.empty(), "b2n: no seed given");
  // Every dataset name is checked before the first run trains, not when the sweep reaches it.
  for (const auto& dataset : o.datasets) data::find_dataset(dataset);
  B2nTable table;
  table.method = methods::canonical_method_name(o.base.trainer);
  // The wrapped method's rows (DPC's backbone), kept when every run reports the same one.
  std::vector<B2nRow> baseline_rows;
  std::string baseline_method;
  bool baseline_complete = true;
  // The sweep's overall ETA, one line per finished run.
  Progress sweep(
      fmt::format("b2n {}", table.method), int64_t(o.datasets.size() * o.seeds.size()),
      [&log](const std::string& l) { log.line(l); }, 1, nullptr);
  for (const auto& dataset : o.datasets) {
    B2nRow row, brow;
    row.dataset = brow.dataset = dataset;
    for (int64_t seed : o.seeds) {
      const nlohmann::json j = run_one(o, dataset, seed, log);
      sweep.advance();
      row.base += j.at("base").get<double>();
      row.novel += j.at("new").get<double>();
      row.seeds.push_back(seed);
      if (j.contains("baseline")) {
        const std::string m = j["baseline"].at("method").get<std::string>();
        if (baseline_method.empty()) baseline_method = m;
        baseline_complete = baseline_complete && m == baseline_method;
        brow.base += j["baseline"].at("base").get<double>();
        brow.novel += j["baseline"].at("new").get<double>();
        brow.seeds.push_back(seed);
      } else {
        baseline_complete = false;
      }
    }
    row.base /= double(o.seeds.size());
    row.novel /= double(o.seeds.size());
    row.hm = harmonic_mean(row.base, row.novel);
    table.rows.push_back(row);
    if (!brow.seeds.empty()) {
      brow.base /= double(brow.seeds.size());
      brow.novel /= double(brow.seeds.size());
      brow.hm = harmonic_mean(brow.base, brow.novel);
      baseline_rows.push_back(brow);
    }
  }
  table.average.dataset = "Average";
  for (const auto& r : table.rows) {
    table.average.base += r.base / double(table.rows.size());
    table.average.novel += r.novel / double(table.rows.size());
  }
  table.average.hm = harmonic_mean(table.average.base, table.average.novel);
  table.average.seeds = o.seeds;
  if (!baseline_rows.empty() && baseline_complete) {
    B2nTable b;
    b.method = baseline_method;
    b.rows = baseline_rows;
    b.average.dataset = "Average";
    for (const auto& r : b.rows) {
      b.average.base += r.base / double(b.rows.size());
      b.average.novel += r.novel / double(b.rows.size());
    }
    b.average.hm = harmonic_mean(b.average.base, b.average.novel);
    b.average.seeds = o.seeds;
    table.baseline.push_back(b);
  }
  write_table_files(o.output_dir, "b2n", table);
  return table;
}

}  // namespace clipt::trainer
