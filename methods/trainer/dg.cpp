#include "methods/trainer/dg.h"

#include "data/dataset.h"
#include "data/domains.h"
#include "methods/method.h"
#include "methods/trainer/progress.h"
#include "methods/trainer/protocol_runs.h"
#include "methods/trainer/trainer.h"

namespace clipt::trainer {

namespace {

// The config a run would get, before the protocol's own settings (for DATASET.NAME / DATASET.ROOT).
Config probe_config(const DgOptions& o) {
  TrainArgs a = o.base;
  if (!o.dataset.empty()) a.opts.insert(a.opts.end(), {"DATASET.NAME", o.dataset});
  return build_run_config(a);
}

// One target × seed: trained and evaluated, or read back from its dg.json.
nlohmann::json run_one(const DgOptions& o, const std::string& dataset, const std::vector<std::string>& domains,
                       const std::string& target, int64_t seed, RunLog& log) {
  const data::DomainSelection sel = data::leave_one_domain_out(domains, target);
  const auto dir = protocol_run_dir(o.output_dir, target, seed);
  const auto record = dir / "dg.json";
  TrainArgs a = o.base;
  a.seed = seed;
  a.output_dir = dir.string();
  a.config_file = config_file_for(o.config_file_for, dataset, a.config_file);
  a.source_domains = sel.sources;
  a.target_domains = sel.targets;
  const auto target_index = std::find(domains.begin(), domains.end(), target) - domains.begin();
  // DATASET.ID is what MetaPrompt's *FS datasets read; the domain lists are what Dassl's read.
  a.opts.insert(a.opts.end(), {"DATASET.NAME", dataset, "DATASET.ID", std::to_string(target_index), "DATASET.NUM_SHOTS",
                               std::to_string(o.shots), "DATASET.SUBSAMPLE_CLASSES", "all"});
  const Config cfg = current_run_config(a, dir, false, log);
  if (auto j = read_finished_run(record, "rerun this target and seed", [&](const nlohmann::json& done) {
        CLIPT_CHECK(done.at("dataset").get<std::string>() == dataset && done.at("shots").get<int64_t>() == o.shots &&
                        done.at("sources").get<std::vector<std::string>>() == sel.sources,
                    "{} was made for {} ({} shots, sources {}), not this run ({}, {} shots, sources {}); use another "
                    "--output-dir",
                    record.string(), done.at("dataset").dump(), done.at("shots").dump(), done.at("sources").dump(),
                    dataset, o.shots, fmt::join(sel.sources, ","));
        log.info("{} → {} seed {}: finished earlier ({:.2f}) — {}", fmt::join(sel.sources, ","), target, seed,
                 done.at("accuracy").get<double>(), record.string());
      }))
    return *j;
  const auto run = start_protocol_run(cfg, dir, o.quiet_runs, o.stop);
  Trainer& t = run->trainer;
  t.train();
  const EvalResult r = t.evaluate(data::Subsample::All);
  t.write_results({r}, dir / "results.json");
  nlohmann::json j = {{"dataset", dataset},
                      {"method", methods::canonical_method_name(o.base.trainer)},
                      {"target", target},
                      {"sources", sel.sources},
                      {"seed", seed},
                      {"shots", o.shots},
                      {"train_images", t.splits().train.size()},
                      {"test_images", r.total},
                      {"accuracy", r.accuracy},
                      {"macro_accuracy", r.macro_accuracy}};
  write_run_record(record, j);
  log.info("{} → {} seed {}: accuracy {:.2f} ({} test images)", fmt::join(sel.sources, ","), target, seed, r.accuracy,
           r.total);
  return j;
}

std::string shots_text(int64_t shots) {
  return shots < 1 ? std::string("all images")
                   : fmt::format("{} shot{} per class per source domain", shots, shots == 1 ? "" : "s");
}

}  // namespace

void summarise(DgTable& table) {
  table.average = 0;
  for (auto& r : table.rows) {
    r.accuracy = mean_over_seeds(r.per_seed, fmt::format("dg table: target {}", r.target));
    table.average += r.accuracy;
  }
  if (!table.rows.empty()) table.average /= double(table.rows.size());
}

std::string DgTable::markdown() const { return dg_comparison_markdown({*this}); }

std::string dg_comparison_markdown(const std::vector<DgTable>& tables) {
  CLIPT_CHECK(!tables.empty(), "dg: no table to print");
  const DgTable& first = tables.front();
  std::string s = fmt::format("{}, {}, leave-one-domain-out (target domain accuracy, %)\n\n| Method |", first.dataset,
                              shots_text(first.shots));
  std::string rule = "|---|";
  for (const auto& r : first.rows) {
    s += fmt::format(" {} |", r.target);
    rule += "---|";
  }
  s += " Avg |\n" + rule + "---|\n";
  for (const auto& t : tables) {
    CLIPT_CHECK(t.rows.size() == first.rows.size(), "dg: tables of {} and {} have different targets", first.method,
                t.method);
    s += fmt::format("| {} |", t.method);
    for (size_t i = 0; i < t.rows.size(); ++i) {
      CLIPT_CHECK(t.rows[i].target == first.rows[i].target, "dg: tables of {} and {} have different targets",
                  first.method, t.method);
      s += fmt::format(" {:.2f} |", t.rows[i].accuracy);
    }
    s += fmt::format(" {:.2f} |\n", t.average);
  }
  return s;
}

std::string DgTable::csv() const {
  std::string s = "method,dataset,shots,target,sources,accuracy,seeds,per_seed\n";
  for (const auto& r : rows)
    s += fmt::format("{},{},{},{},{},{:.4f},{},{}\n", method, dataset, shots, r.target, fmt::join(r.sources, " "),
                     r.accuracy, fmt::join(r.seeds, " "), fmt::join(r.per_seed, " "));
  s += fmt::format("{},{},{},Average,,{:.4f},,\n", method, dataset, shots, average);
  return s;
}

nlohmann::json DgTable::to_json() const {
  nlohmann::json j = {{"method", method},
                      {"dataset", dataset},
                      {"shots", shots},
                      {"targets", nlohmann::json::array()},
                      {"average", average}};
  for (const auto& r : rows)
    j["targets"].push_back({{"target", r.target},
                            {"sources", r.sources},
                            {"accuracy", r.accuracy},
                            {"seeds", r.seeds},
                            {"per_seed", r.per_seed}});
  return j;
}

std::vector<std::string> dataset_domains(const std::string& dataset, const std::filesystem::path& root) {
  const data::DatasetSplits all = data::read_dataset(dataset, root);
  CLIPT_CHECK(!all.domains.empty(),
              "{} is not a multi-domain dataset; the DG protocol needs one (pacs, vlcs, office_home, domainnet, their "
              "*_fs variants, world_dg)",
              dataset);
  CLIPT_CHECK(all.domains.size() >= 2, "{} has a single domain: nothing to leave out", dataset);
  return all.domains;
}

DgTable run_dg(const DgOptions& o, RunLog& log) {
  CLIPT_CHECK(!o.seeds.empty(), "dg: no seed given");
  reject_protocol_keys(o.base.opts, {"DATASET.SOURCE_DOMAINS", "DATASET.TARGET_DOMAINS", "DATASET.ID"}, "dg",
                       " (leave-one-domain-out); choose targets with --targets instead");
  const Config probe = probe_config(o);
  const std::string dataset = probe.get_string("DATASET.NAME");
  CLIPT_CHECK(!dataset.empty(), "dg: no dataset: pass --dataset NAME or a --dataset-config-file");
  const std::vector<std::string> domains = dataset_domains(dataset, probe.get_string("DATASET.ROOT"));
  std::vector<std::string> targets = o.targets.empty() ? domains : o.targets;
  for (const auto& t : targets)
    CLIPT_CHECK(std::find(domains.begin(), domains.end(), t) != domains.end(),
                "dg: target domain \"{}\" is not a domain of {} ({})", t, dataset, fmt::join(domains, ", "));

  DgTable table;
  table.method = methods::canonical_method_name(o.base.trainer);
  table.dataset = dataset;
  table.shots = o.shots;
  log.info("{} on {}: {} targets × {} seeds, {}", table.method, dataset, targets.size(), o.seeds.size(),
           shots_text(o.shots));
  // The sweep's overall ETA, one line per finished run (as b2n's).
  Progress sweep(
      fmt::format("dg {} on {}", table.method, dataset), int64_t(targets.size() * o.seeds.size()),
      [&log](const std::string& l) { log.line(l); }, 1, nullptr);
  for (const auto& target : targets) {
    DgRow row;
    row.target = target;
    row.sources = data::leave_one_domain_out(domains, target).sources;
    for (int64_t seed : o.seeds) {
      const nlohmann::json j = run_one(o, dataset, domains, target, seed, log);
      sweep.advance();
      row.per_seed.push_back(j.at("accuracy").get<double>());
      row.seeds.push_back(seed);
    }
    table.rows.push_back(std::move(row));
  }
  summarise(table);
  write_table_files(o.output_dir, "dg", table);
  return table;
}

}  // namespace clipt::trainer
