#include "methods/report/report_builder.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/core/error.h"
#include "engine/io/atomic_dir.h"
#include "engine/io/atomic_file.h"
#include "methods/report/svg_chart.h"

namespace clipt::report {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPicturesDir = "report-files";

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:.2f}", v) : std::string("–"); }

std::string seeds_text(const std::vector<int64_t>& seeds) { return fmt::format("{}", fmt::join(seeds, ",")); }

// A file-name-safe form of a label.
std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += char(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "x" : out;
}

// A picture's file name, unique within the report.
std::string picture_name(std::map<std::string, int>& used, const std::string& stem) {
  const int n = used[stem]++;
  return n == 0 ? stem + ".svg" : fmt::format("{}-{}.svg", stem, n + 1);
}

void add_b2n(Document& doc, const std::vector<B2nSummary>& tables, std::map<std::string, int>& names) {
  if (tables.empty()) return;
  doc.heading(2, "Base-to-new generalisation");
  doc.paragraph(
      "Train on the base classes (the first half by label), test on the base and the new classes. Per dataset: mean "
      "± standard deviation over seeds (np.std, as the papers' parse_test_res.py); HM is the harmonic mean of the "
      "mean base and mean new accuracy, its ± the spread of the per-seed HMs. The average row is the harmonic mean "
      "of the base and new accuracies averaged over datasets (the papers' rule).");
  DocTable overview{{"Method", "Base", "New", "HM", "Datasets", "Seeds"}, {}, {}};
  BarChart bars;
  bars.title = "Base-to-new, average over datasets";
  bars.y_label = "accuracy (%)";
  bars.series = {"Base", "New", "HM"};
  for (const B2nSummary& t : tables) {
    std::vector<int64_t> seeds;
    for (const auto& r : t.rows)
      for (int64_t s : r.seeds)
        if (std::find(seeds.begin(), seeds.end(), s) == seeds.end()) seeds.push_back(s);
    std::sort(seeds.begin(), seeds.end());
    overview.rows.push_back({t.label, pct(t.average_base), pct(t.average_novel), pct(t.average_hm),
                             std::to_string(t.rows.size()), seeds_text(seeds)});
    bars.groups.push_back(t.label);
    bars.values.push_back({t.average_base, t.average_novel, t.average_hm});
    // Whiskers only where the average is one dataset's mean over seeds.
    bars.errors.push_back(t.rows.size() == 1
                              ? std::vector<double>{t.rows[0].base.std, t.rows[0].novel.std, t.rows[0].seed_hm.std}
                              : std::vector<double>{});
  }
  doc.table(overview);
  doc.picture({picture_name(names, "b2n-average"), bar_chart_svg(bars),
               "Base, new and HM accuracy of each method (average over datasets; whiskers: std over seeds)."});
  // Per dataset, the HM of every method side by side (when there is more than one dataset).
  std::vector<std::string> datasets;
  for (const B2nSummary& t : tables)
    for (const auto& r : t.rows)
      if (std::find(datasets.begin(), datasets.end(), r.dataset) == datasets.end()) datasets.push_back(r.dataset);
  if (datasets.size() > 1) {
    doc.heading(3, "HM per dataset");
    DocTable by_dataset{{"Dataset"}, {}, {}};
    for (const B2nSummary& t : tables) by_dataset.header.push_back(t.label);
    for (const std::string& d : datasets) {
      std::vector<std::string> row{d};
      for (const B2nSummary& t : tables) {
        auto it = std::find_if(t.rows.begin(), t.rows.end(), [&](const B2nSummaryRow& r) { return r.dataset == d; });
        row.push_back(it == t.rows.end() ? "" : pct(it->hm));
      }
      by_dataset.rows.push_back(row);
    }
    doc.table(by_dataset);
  }
  for (const B2nSummary& t : tables) {
    doc.heading(3, t.label);
    doc.paragraph(fmt::format("Runs in `{}`.", t.sweep.string()));
    DocTable table{{"Dataset", "Base", "New", "HM", "Seeds"}, {}, {}};
    for (const auto& r : t.rows)
      table.rows.push_back({r.dataset, format_mean_std(r.base), format_mean_std(r.novel),
                            r.seed_hm.n > 1 ? fmt::format("{:.2f} ± {:.2f}", r.hm, r.seed_hm.std) : pct(r.hm),
                            seeds_text(r.seeds)});
    table.bold.assign(table.rows.size(), false);
    table.rows.push_back({"Average", pct(t.average_base), pct(t.average_novel), pct(t.average_hm), ""});
    table.bold.push_back(true);
    doc.table(table);
  }
}

void add_dg(Document& doc, const std::vector<DgSummary>& tables, std::map<std::string, int>& names) {
  if (tables.empty()) return;
  doc.heading(2, "Domain generalisation (leave one domain out)");
  doc.paragraph(
      "Train on the other domains, test on the target domain: accuracy (%) as mean ± std over seeds; the average "
      "is over target domains.");
  // One table per dataset and shot count, a row per method.
  std::vector<std::pair<std::string, std::vector<const DgSummary*>>> by_setting;
  for (const DgSummary& t : tables) {
    const std::string key = fmt::format("{}, {} shots per class per source domain", t.dataset, t.shots);
    auto it = std::find_if(by_setting.begin(), by_setting.end(), [&](const auto& p) { return p.first == key; });
    if (it == by_setting.end()) it = by_setting.insert(by_setting.end(), {key, {}});
    it->second.push_back(&t);
  }
  for (const auto& [setting, group] : by_setting) {
    doc.heading(3, setting);
    std::vector<std::string> targets;
    for (const DgSummary* t : group)
      for (const auto& r : t->rows)
        if (std::find(targets.begin(), targets.end(), r.target) == targets.end()) targets.push_back(r.target);
    DocTable table{{"Method"}, {}, {}};
    for (const auto& target : targets) table.header.push_back(target);
    table.header.push_back("Average");
    BarChart bars;
    bars.title = setting;
    bars.y_label = "accuracy (%)";
    bars.groups = targets;
    bars.groups.push_back("Average");
    bars.values.assign(bars.groups.size(), {});
    bars.errors.assign(bars.groups.size(), {});
    for (const DgSummary* t : group) {
      bars.series.push_back(t->label);
      std::vector<std::string> row{t->label};
      for (size_t i = 0; i < targets.size(); ++i) {
        auto it =
            std::find_if(t->rows.begin(), t->rows.end(), [&](const DgSummaryRow& r) { return r.target == targets[i]; });
        row.push_back(it == t->rows.end() ? "" : format_mean_std(it->accuracy));
        bars.values[i].push_back(it == t->rows.end() ? NAN : it->accuracy.mean);
        bars.errors[i].push_back(it == t->rows.end() ? NAN : it->accuracy.std);
      }
      row.push_back(pct(t->average));
      bars.values.back().push_back(t->average);
      bars.errors.back().push_back(NAN);
      table.rows.push_back(row);
    }
    doc.table(table);
    doc.picture({picture_name(names, "dg-" + slug(setting.substr(0, setting.find(',')))), bar_chart_svg(bars),
                 "Target-domain accuracy per method (whiskers: std over seeds)."});
  }
}

void add_xd(Document& doc, const std::vector<XdSummary>& tables) {
  if (tables.empty()) return;
  doc.heading(2, "Cross-dataset transfer and domain shift");
  doc.paragraph(
      "Trained on all classes of the source, evaluated unchanged on each target with the target's class names: "
      "accuracy (%) as mean ± std over seeds; averages over the domain-shift and the cross-dataset targets.");
  for (const XdSummary& t : tables) {
    doc.heading(3, fmt::format("{} trained on {}", t.label, t.source.dataset));
    DocTable table{{"Dataset", "Kind", "Accuracy", "Seeds"}, {}, {}};
    table.rows.push_back({t.source.dataset, "source", format_mean_std(t.source.accuracy), seeds_text(t.source.seeds)});
    for (const auto& c : t.targets)
      table.rows.push_back({c.dataset, c.domain_shift ? "domain shift" : "cross-dataset", format_mean_std(c.accuracy),
                            seeds_text(c.seeds)});
    table.bold.assign(table.rows.size(), false);
    if (t.domain_shift_average.n > 0) {
      table.rows.push_back({"Average (domain shift)", "", pct(t.domain_shift_average.mean), ""});
      table.bold.push_back(true);
    }
    if (t.cross_dataset_average.n > 0) {
      table.rows.push_back({"Average (cross-dataset)", "", pct(t.cross_dataset_average.mean), ""});
      table.bold.push_back(true);
    }
    doc.table(table);
  }
}

std::string evaluations_text(const std::vector<Evaluation>& evals) {
  std::vector<std::string> parts;
  for (const Evaluation& e : evals)
    parts.push_back(fmt::format("{}{} {:.2f}", e.subsample, e.split == "test" ? "" : " (" + e.split + ")", e.accuracy));
  return fmt::format("{}", fmt::join(parts, ", "));
}

void add_sharpness(Document& doc, const std::vector<SharpnessRecord>& records) {
  if (records.empty()) return;
  doc.heading(2, "Sharpness (clipt eval)");
  DocTable table{
      {"Method", "Dataset", "Seed", "Epoch", "rho", "Train loss", "Loss at w+eps", "Sharpness", "Accuracy", "File"},
      {},
      {}};
  for (const SharpnessRecord& r : records)
    table.rows.push_back({r.method, r.dataset, std::to_string(r.seed), std::to_string(r.epoch),
                          fmt::format("{:g}", r.rho), fmt::format("{:.4f}", r.loss),
                          fmt::format("{:.4f}", r.perturbed_loss), fmt::format("{:.4f}", r.sharpness),
                          evaluations_text(r.evaluations), r.file.string()});
  doc.table(table);
}

// Training curves: one picture per method and sweep folder, the runs of that group as series.
void add_curves(Document& doc, const std::vector<TrainedRun>& runs, std::map<std::string, int>& names) {
  struct Group {
    std::string method;
    fs::path root;
    std::vector<const TrainedRun*> runs;
  };
  std::vector<Group> groups;
  for (const TrainedRun& r : runs) {
    if (r.epoch_curve.empty() && r.step_curve.empty()) continue;  // evaluation-only runs
    const fs::path root = r.dir.parent_path().parent_path();
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.method == r.method && g.root == root; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{r.method, root, {}});
    it->runs.push_back(&r);
  }
  if (groups.empty()) return;
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return method_rank(a.method) < method_rank(b.method); });
  doc.heading(2, "Training curves");
  doc.paragraph(
      "Per epoch (dots): the mean training loss, the training accuracy on the batches and the learning rate; thin "
      "lines: the loss of each logged step (every TRAIN.PRINT_FREQ steps). The same scalars are in each run folder "
      "for TensorBoard (`tensorboard --logdir DIR`).");
  for (const Group& g : groups) {
    LineChart loss{"training loss", "epoch", "loss", {}, false}, acc{"training accuracy", "epoch", "%", {}, false},
        lr{"learning rate", "epoch", "lr", {}, false};
    for (size_t k = 0; k < g.runs.size(); ++k) {
      const TrainedRun& r = *g.runs[k];
      const std::string name = r.dir.lexically_relative(g.root).string();
      Series steps{name + " (steps)", {}, {}, false, true, int(k)};
      for (const StepPoint& p : r.step_curve) steps.x.push_back(p.position), steps.y.push_back(p.loss);
      Series l{name, {}, {}, true, false, int(k)}, a = l, s = l;
      for (const EpochPoint& p : r.epoch_curve) {
        l.x.push_back(double(p.epoch)), l.y.push_back(p.loss);
        a.x.push_back(double(p.epoch)), a.y.push_back(p.train_accuracy);
        s.x.push_back(double(p.epoch)), s.y.push_back(p.lr);
      }
      loss.series.push_back(l);
      loss.series.push_back(steps);
      acc.series.push_back(a);
      lr.series.push_back(s);
    }
    const std::string title = fmt::format("{} — {}", g.method, g.root.string());
    doc.heading(3, title);
    doc.picture({picture_name(names, "curves-" + slug(g.method)), panel_row_svg("", {loss, acc, lr}),
                 fmt::format("{}: {} run{}.", g.method, g.runs.size(), g.runs.size() == 1 ? "" : "s")});
  }
}

void add_runs(Document& doc, const std::vector<TrainedRun>& runs) {
  if (runs.empty()) return;
  doc.heading(2, "Runs");
  DocTable table{{"Run folder", "Method", "Dataset", "Trained on", "Seed", "Shots", "Epochs", "Accuracy (%)"}, {}, {}};
  for (const TrainedRun& r : runs)
    table.rows.push_back({r.dir.string(), r.method, r.dataset, r.train_subsample, std::to_string(r.seed),
                          r.shots < 0 ? "all" : std::to_string(r.shots), std::to_string(r.epochs),
                          evaluations_text(r.evaluations)});
  doc.table(table);
}

}  // namespace

std::string format_mean_std(const MeanStd& m) {
  if (m.n == 0) return "";
  return m.n > 1 ? fmt::format("{:.2f} ± {:.2f}", m.mean, m.std) : pct(m.mean);
}

Document build_report(const RunCollection& runs, const std::vector<fs::path>& roots) {
  Document doc;
  doc.title = "clipt report";
  std::vector<std::string> where;
  for (const auto& r : roots) where.push_back("`" + r.string() + "`");
  doc.paragraph(
      fmt::format("Runs found under {}: {} run folder{}, {} base-to-new, {} domain-generalisation and {} "
                  "cross-dataset records.",
                  fmt::join(where, ", "), runs.runs.size(), runs.runs.size() == 1 ? "" : "s", runs.b2n.size(),
                  runs.dg.size(), runs.xd.size()));
  for (const auto& w : runs.warnings) doc.paragraph("Warning: " + w);
  std::map<std::string, int> names;
  add_b2n(doc, summarise_b2n(runs.b2n), names);
  add_dg(doc, summarise_dg(runs.dg), names);
  add_xd(doc, summarise_xd(runs.xd));
  add_sharpness(doc, runs.sharpness);
  add_curves(doc, runs.runs, names);
  add_runs(doc, runs.runs);
  return doc;
}

ReportFiles write_report(const Document& doc, const fs::path& out) {
  CLIPT_CHECK(!fs::exists(out) || fs::is_directory(out), "report: {} (where the report goes) is a file, not a folder",
              out.string());
  fs::create_directories(out);
  // The pictures are written as a set into a staging folder and swapped in whole: a second report into the
  // same folder leaves no picture of the first one behind, and a reader never sees half of each.
  ReportFiles files;
  const fs::path pictures = out / kPicturesDir, staged = io::make_staging_directory(pictures);
  try {
    for (const DocPicture* p : doc.pictures()) {
      io::write_file_atomic(staged / p->file, p->svg);
      files.pictures.push_back(pictures / p->file);
    }
    io::replace_directory(staged, pictures);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staged, ec);
    throw;
  }
  files.markdown = out / "report.md";
  files.html = out / "report.html";
  io::write_file_atomic(files.markdown, render_markdown(doc, kPicturesDir));
  io::write_file_atomic(files.html, render_html(doc));
  return files;
}

ReportFiles report_runs(const std::vector<fs::path>& roots, const fs::path& out) {
  const RunCollection runs = collect_runs(roots);
  std::vector<std::string> where;
  for (const auto& r : roots) where.push_back(r.string());
  CLIPT_CHECK(!runs.empty(),
              "report: no clipt run under {} (looked for results.json, b2n.json, dg.json, xd.json, sharpness.json)",
              fmt::join(where, ", "));
  ReportFiles files = write_report(build_report(runs, roots), out);
  files.warnings = runs.warnings;
  return files;
}

}  // namespace clipt::report
