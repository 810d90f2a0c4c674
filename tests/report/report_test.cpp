// clipt report: tables computed from fixture run folders (written here, in the layout the protocols
// write) equal hand-computed means and population standard deviations; the HTML page is self-contained;
// every SVG is well-formed XML; curves read back from metrics.jsonl.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/cli.h"
#include "methods/report/report_builder.h"
#include "methods/report/svg_chart.h"
#include "tests/common/test_util.h"
#include "tests/report/xml_check.h"

namespace clipt::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("clipt_report_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void b2n_record(const fs::path& sweep, const std::string& method, const std::string& dataset, int seed, double base,
                double novel, json extra = json::object()) {
  json j = {{"dataset", dataset}, {"seed", seed}, {"method", method}, {"base", base}, {"new", novel}, {"hm", 0}};
  j.update(extra);
  write(sweep / dataset / ("seed" + std::to_string(seed)) / "b2n.json", j.dump());
}

// A b2n sweep of CoOp over two datasets (3 and 2 seeds), its table file (ignored by the report), a DPC sweep
// whose records carry its stage-1 baseline, a DG sweep and an xd sweep.
fs::path make_fixture() {
  const fs::path root = fresh_dir("runs");
  const fs::path coop = root / "b2n" / "CoOp";
  b2n_record(coop, "CoOp", "d1", 1, 70, 60);
  b2n_record(coop, "CoOp", "d1", 2, 72, 61);
  b2n_record(coop, "CoOp", "d1", 3, 74, 65);
  b2n_record(coop, "CoOp", "d2", 1, 80, 50);
  b2n_record(coop, "CoOp", "d2", 2, 90, 70);
  write(coop / "b2n.json", json{{"method", "CoOp"}, {"datasets", json::array()}}.dump());
  b2n_record(root / "b2n" / "DPC", "DPC", "d1", 1, 75, 61,
             {{"baseline", {{"method", "CoOp"}, {"base", 71.0}, {"new", 61.0}, {"hm", 0}}}});
  const fs::path dg = root / "dg" / "MetaPrompt";
  auto dg_record = [&](const std::string& target, int seed, double acc) {
    write(dg / target / ("seed" + std::to_string(seed)) / "dg.json", json{{"dataset", "world_dg"},
                                                                          {"method", "MetaPrompt"},
                                                                          {"target", target},
                                                                          {"sources", {"x", "y"}},
                                                                          {"seed", seed},
                                                                          {"shots", 5},
                                                                          {"accuracy", acc}}
                                                                         .dump());
  };
  dg_record("a", 1, 40);
  dg_record("a", 2, 50);
  dg_record("b", 1, 30);
  const fs::path xd = root / "xd" / "CoOp";
  auto xd_record = [&](const std::string& dataset, int seed, double acc) {
    json j = {{"role", dataset == "world" ? "source" : "target"},
              {"dataset", dataset},
              {"method", "CoOp"},
              {"seed", seed},
              {"shots", 16},
              {"accuracy", acc}};
    if (dataset != "world") j["source"] = "world";
    write(xd / dataset / ("seed" + std::to_string(seed)) / "xd.json", j.dump());
  };
  xd_record("world", 1, 60);
  xd_record("world", 2, 62);
  xd_record("world_sketch", 1, 30);
  xd_record("world_sketch", 2, 34);
  xd_record("caltech101", 1, 10);
  // One trained run with its results and metrics: epoch 2 logged twice (resumed; the last wins), and a
  // last line cut short by a killed process.
  const fs::path run = coop / "d1" / "seed1";
  write(run / "results.json", json{{"method", "CoOp"},
                                   {"dataset", "d1"},
                                   {"seed", 1},
                                   {"shots", 16},
                                   {"train_subsample", "base"},
                                   {"epochs", 2},
                                   {"evaluations",
                                    {{{"split", "test"}, {"subsample", "base"}, {"accuracy", 70.0}},
                                     {{"split", "test"}, {"subsample", "new"}, {"accuracy", 60.0}}}}}
                                  .dump());
  write(run / "metrics.jsonl",
        "{\"type\":\"step\",\"epoch\":1,\"iteration\":2,\"step\":2,\"loss\":2.0,\"lr\":0.002}\n"
        "{\"type\":\"step\",\"epoch\":1,\"iteration\":4,\"step\":4,\"loss\":1.8,\"lr\":0.002}\n"
        "{\"type\":\"epoch\",\"epoch\":1,\"loss\":1.9,\"train_accuracy\":40.0,\"lr\":0.002}\n"
        "{\"type\":\"epoch\",\"epoch\":2,\"loss\":9.9,\"train_accuracy\":null,\"lr\":0.001}\n"
        "{\"type\":\"eval\",\"result\":{\"accuracy\":70.0}}\n"
        "{\"type\":\"epoch\",\"epoch\":2,\"loss\":1.5,\"train_accuracy\":50.0,\"lr\":0.001}\n"
        "{\"type\":\"epo");
  write(run / "checkpoints" / "results.json", "not JSON: checkpoint folders are not read");
  return root;
}

TEST(Report, MeanStdIsThePopulationSpread) {
  const MeanStd m = mean_std({70, 72, 74});
  EXPECT_DOUBLE_EQ(m.mean, 72);
  EXPECT_NEAR(m.std, std::sqrt(8.0 / 3.0), 1e-12);
  EXPECT_EQ(m.n, 3);
  EXPECT_EQ(mean_std({5}).std, 0);
  EXPECT_TRUE(std::isnan(mean_std({}).mean));
}

TEST(Report, B2nTablesEqualHandComputedValues) {
  const RunCollection runs = collect_runs({make_fixture()});
  ASSERT_EQ(runs.b2n.size(), 7u);  // 5 CoOp + DPC + DPC's baseline; the sweep's table file is not a record
  const auto tables = summarise_b2n(runs.b2n);
  ASSERT_EQ(tables.size(), 3u);
  // Registry order: CoOp before DPC; the baseline is labelled with the sweep it was measured in.
  const B2nSummary& coop = tables[0];
  EXPECT_EQ(coop.label, "CoOp");
  ASSERT_EQ(coop.rows.size(), 2u);
  EXPECT_EQ(coop.rows[0].dataset, "d1");
  EXPECT_DOUBLE_EQ(coop.rows[0].base.mean, 72);
  EXPECT_NEAR(coop.rows[0].base.std, std::sqrt(8.0 / 3.0), 1e-12);
  EXPECT_DOUBLE_EQ(coop.rows[0].novel.mean, 62);
  EXPECT_NEAR(coop.rows[0].novel.std, std::sqrt(14.0 / 3.0), 1e-12);
  EXPECT_NEAR(coop.rows[0].hm, 2 * 72.0 * 62.0 / 134.0, 1e-12);
  EXPECT_DOUBLE_EQ(coop.rows[1].base.mean, 85);
  EXPECT_DOUBLE_EQ(coop.rows[1].base.std, 5);
  EXPECT_DOUBLE_EQ(coop.rows[1].novel.std, 10);
  // The average row: HM of the averaged base (78.5) and new (61).
  EXPECT_DOUBLE_EQ(coop.average_base, 78.5);
  EXPECT_DOUBLE_EQ(coop.average_novel, 61);
  EXPECT_NEAR(coop.average_hm, 2 * 78.5 * 61 / 139.5, 1e-12);
  bool saw_baseline = false;
  for (const auto& t : tables)
    if (t.is_baseline) {
      saw_baseline = true;
      EXPECT_EQ(t.label, "CoOp (stage 1 of DPC)");
      EXPECT_DOUBLE_EQ(t.average_base, 71);
    }
  EXPECT_TRUE(saw_baseline);

  const std::string md = render_markdown(build_report(runs, {"runs"}), "report-files");
  EXPECT_NE(md.find("| d1 | 72.00 ± 1.63 | 62.00 ± 2.16 | 66.63 ± "), std::string::npos) << md;
  EXPECT_NE(md.find("| d2 | 85.00 ± 5.00 | 60.00 ± 10.00 | 70.34 ± "), std::string::npos) << md;
  EXPECT_NE(md.find("| **Average** | **78.50** | **61.00** | **68.65** |"), std::string::npos) << md;
}

TEST(Report, DgAndXdTablesEqualHandComputedValues) {
  const RunCollection runs = collect_runs({make_fixture()});
  const auto dg = summarise_dg(runs.dg);
  ASSERT_EQ(dg.size(), 1u);
  ASSERT_EQ(dg[0].rows.size(), 2u);
  EXPECT_DOUBLE_EQ(dg[0].rows[0].accuracy.mean, 45);
  EXPECT_DOUBLE_EQ(dg[0].rows[0].accuracy.std, 5);
  EXPECT_DOUBLE_EQ(dg[0].average, 37.5);
  const auto xd = summarise_xd(runs.xd);
  ASSERT_EQ(xd.size(), 1u);
  EXPECT_DOUBLE_EQ(xd[0].source.accuracy.mean, 61);
  ASSERT_EQ(xd[0].targets.size(), 2u);
  for (const auto& c : xd[0].targets) {
    if (c.dataset == "world_sketch") {
      EXPECT_TRUE(c.domain_shift);
      EXPECT_DOUBLE_EQ(c.accuracy.mean, 32);
      EXPECT_DOUBLE_EQ(c.accuracy.std, 2);
    } else {
      EXPECT_FALSE(c.domain_shift);
      EXPECT_DOUBLE_EQ(c.accuracy.mean, 10);
    }
  }
  EXPECT_DOUBLE_EQ(xd[0].domain_shift_average.mean, 32);
  EXPECT_DOUBLE_EQ(xd[0].cross_dataset_average.mean, 10);
  const std::string md = render_markdown(build_report(runs, {"runs"}), "report-files");
  EXPECT_NE(md.find("| MetaPrompt | 45.00 ± 5.00 | 30.00 | 37.50 |"), std::string::npos) << md;
}

TEST(Report, CurvesFromMetrics) {
  const RunCollection runs = collect_runs({make_fixture()});
  ASSERT_EQ(runs.runs.size(), 1u);  // the checkpoints folder is skipped
  const TrainedRun& r = runs.runs[0];
  ASSERT_EQ(r.epoch_curve.size(), 2u);
  EXPECT_DOUBLE_EQ(r.epoch_curve[1].loss, 1.5);  // the later record of epoch 2
  EXPECT_DOUBLE_EQ(r.epoch_curve[1].train_accuracy, 50);
  EXPECT_DOUBLE_EQ(r.epoch_curve[0].lr, 0.002);
  ASSERT_EQ(r.step_curve.size(), 2u);
  EXPECT_DOUBLE_EQ(r.step_curve[0].position, 0.5);  // iteration 2 of 4 in epoch 1
  EXPECT_DOUBLE_EQ(r.step_curve[1].position, 1.0);
  ASSERT_EQ(runs.warnings.size(), 1u);
  EXPECT_NE(runs.warnings[0].find("metrics.jsonl line 7 is cut short"), std::string::npos) << runs.warnings[0];
}

TEST(Report, AMetricsLineCutShortByAKilledRunIsSkippedWithAWarning) {
  // Killed in the middle of a record, then resumed: the resumed run's records follow on the next line.
  const fs::path root = fresh_dir("cut");
  write(root / "run" / "results.json", json{{"method", "CoOp"}, {"dataset", "d1"}, {"seed", 1}}.dump());
  write(root / "run" / "metrics.jsonl",
        "{\"type\":\"epoch\",\"epoch\":1,\"loss\":2.0,\"lr\":0.002}\n"
        "{\"type\":\"epoch\",\"epo\n"
        "{\"type\":\"epoch\",\"epoch\":2,\"loss\":1.0,\"lr\":0.001}\n");
  const RunCollection runs = collect_runs({root});
  ASSERT_EQ(runs.runs.size(), 1u);
  ASSERT_EQ(runs.runs[0].epoch_curve.size(), 2u);
  EXPECT_DOUBLE_EQ(runs.runs[0].epoch_curve[1].loss, 1.0);
  ASSERT_EQ(runs.warnings.size(), 1u);
  EXPECT_EQ(runs.warnings[0], (root / "run" / "metrics.jsonl").string() +
                                  " line 2 is cut short (a run stopped while writing it); skipped");
  // The command prints it on stderr and the page shows it.
  std::vector<std::string> args{"clipt", "report", root.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  EXPECT_EQ(apps::run_cli(int(argv.size()), argv.data()), 0);
  testing::internal::GetCapturedStdout();
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "report: warning: " + runs.warnings[0] + "\n");
  EXPECT_NE(read(root / "report.md").find("Warning: " + runs.warnings[0]), std::string::npos);
}

TEST(Report, HtmlIsSelfContainedAndSvgsAreWellFormed) {
  const fs::path root = make_fixture();
  const fs::path out = fresh_dir("out");
  const ReportFiles files = report_runs({root}, out);
  const std::string html = read(files.html);
  for (const char* external : {"http:", "https:", "src=", "href=", "<script", "<link", "url(", "@import"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  // Pictures: the b2n bars, the DG bars and one curve panel row, each inline in the page and as a file.
  ASSERT_EQ(files.pictures.size(), 3u);
  size_t inline_svgs = 0;
  for (size_t at = html.find("<svg "); at != std::string::npos; at = html.find("<svg ", at + 1)) ++inline_svgs;
  EXPECT_EQ(inline_svgs, files.pictures.size());
  for (const fs::path& p : files.pictures) {
    const std::string svg = read(p);
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << p;
    EXPECT_EQ(test::xml_error(svg), "") << p;
  }
  const std::string md = read(files.markdown);
  EXPECT_NE(md.find("![Base, new and HM"), std::string::npos);
  EXPECT_NE(md.find("(report-files/b2n-average.svg)"), std::string::npos);
}

TEST(Report, XmlCheckCatchesMistakes) {
  // The checker the SVG test relies on can fail.
  EXPECT_EQ(test::xml_error("<svg><g a=\"1\"/><text>a &amp; b</text></svg>"), "");
  EXPECT_NE(test::xml_error("<svg><g></svg>"), "");
  EXPECT_NE(test::xml_error("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(test::xml_error("<svg a=1></svg>"), "");
  EXPECT_NE(test::xml_error("<svg a=\"1\" a=\"2\"></svg>"), "");
  EXPECT_NE(test::xml_error("<svg></svg><svg></svg>"), "");
  // Names with XML's special characters are escaped.
  LineChart c{"a <b> & \"c\"", "x", "y", {{"s<1>", {1, 2}, {3, NAN}, true, false, -1}}, false};
  EXPECT_EQ(test::xml_error(line_chart_svg(c)), "");
  BarChart b{"t&", "%", {"g<"}, {"s>"}, {{1.0}}, {}, 0, 320};
  EXPECT_EQ(test::xml_error(bar_chart_svg(b)), "");
}

TEST(Report, BadInputIsOneClearError) {
  EXPECT_ERROR_CONTAINS(collect_runs({fresh_dir("x") / "missing"}), "missing does not exist");
  const fs::path empty = fresh_dir("empty");
  write(empty / "notes.txt", "not a run");
  EXPECT_ERROR_CONTAINS(collect_runs({empty / "notes.txt"}), "notes.txt is a file; name the folder of runs");
  EXPECT_ERROR_CONTAINS(report_runs({empty}, empty), "no clipt run under");
  EXPECT_FALSE(fs::exists(empty / "report.md"));
  const fs::path bad = fresh_dir("bad");
  const fs::path record = bad / "CoOp" / "d1" / "seed1" / "b2n.json";
  write(record, "{\"seed\": 1, \"method\": \"CoOp\"}");
  EXPECT_ERROR_CONTAINS(collect_runs({bad}), record.string() + " has no valid \"dataset\" field");
  write(record, "{not json");
  EXPECT_ERROR_CONTAINS(collect_runs({bad}), record.string() + " is not valid JSON");
  fs::remove(record);
  // A results.json whose field has another type than clipt writes: named, not a bare JSON library message.
  const fs::path results = bad / "run" / "results.json";
  write(results, "{\"method\": \"CoOp\", \"dataset\": \"d1\", \"seed\": \"one\"}");
  EXPECT_ERROR_CONTAINS(collect_runs({bad}), results.string() + " is not a file clipt wrote");
  write(results, "[1, 2]");
  EXPECT_ERROR_CONTAINS(collect_runs({bad}), results.string() + " has no valid \"method\" field");
  // metrics.jsonl: a JSON line that is not one of clipt's records is an error naming file and line.
  write(results, "{\"method\": \"CoOp\", \"dataset\": \"d1\", \"seed\": 1}");
  const fs::path metrics = bad / "run" / "metrics.jsonl";
  write(metrics, "{\"type\":\"epoch\",\"epoch\":1,\"loss\":2.0}\n3\n");
  EXPECT_ERROR_CONTAINS(collect_runs({bad}), metrics.string() + " line 2 is not a JSON object");
  write(metrics, "{\"type\":\"step\",\"epoch\":1,\"loss\":2.0}\n");
  EXPECT_ERROR_CONTAINS(collect_runs({bad}), metrics.string() + " line 1 has no valid \"iteration\" field");
  // Nothing is written when the runs cannot be read.
  const fs::path out = fresh_dir("bad_out");
  EXPECT_ERROR_CONTAINS(report_runs({bad}, out), "line 1 has no valid");
  EXPECT_TRUE(fs::is_empty(out));
}

TEST(Report, ASecondReportIntoTheSameFolderReplacesTheFirst) {
  const fs::path out = fresh_dir("twice");
  const ReportFiles first = report_runs({make_fixture()}, out);
  ASSERT_EQ(first.pictures.size(), 3u);
  ASSERT_NE(read(out / "report.md").find("world_sketch"), std::string::npos);
  // The second report covers one trained run only: one picture, and none of the first report's is left.
  const fs::path one = fresh_dir("one_run");
  write(one / "run" / "results.json", json{{"method", "KgCoOp"}, {"dataset", "d1"}, {"seed", 1}}.dump());
  write(one / "run" / "metrics.jsonl", "{\"type\":\"epoch\",\"epoch\":1,\"loss\":2.0,\"lr\":0.002}\n");
  const ReportFiles second = report_runs({one}, out);
  ASSERT_EQ(second.pictures.size(), 1u);
  std::vector<std::string> in_out, pictures;
  for (const auto& e : fs::directory_iterator(out)) in_out.push_back(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(out / "report-files")) pictures.push_back(e.path().filename().string());
  std::sort(in_out.begin(), in_out.end());
  EXPECT_EQ(in_out, (std::vector<std::string>{"report-files", "report.html", "report.md"}));  // no staging left
  EXPECT_EQ(pictures, std::vector<std::string>{second.pictures[0].filename().string()});
  EXPECT_NE(read(out / "report.md").find("KgCoOp"), std::string::npos);
  EXPECT_EQ(read(out / "report.md").find("world_sketch"), std::string::npos);  // the first one's xd table
  // --out naming a file is refused before anything is written.
  write(out / "taken", "x");
  EXPECT_ERROR_CONTAINS(report_runs({one}, out / "taken"), "taken (where the report goes) is a file, not a folder");
}

TEST(Report, Command) {
  const fs::path root = make_fixture();
  const fs::path out = fresh_dir("cli");
  std::vector<std::string> args{"clipt", "report", root.string(), "--out", out.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  const int rc = apps::run_cli(int(argv.size()), argv.data());
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fs::exists(out / "report.html"));
  EXPECT_NE(printed.find("report.html"), std::string::npos);
}

}  // namespace
}  // namespace clipt::report

#include "methods/trainer/run_log.h"
#include "tests/io/tfevents_reader.h"

namespace clipt::report {
namespace {

TEST(Report, RunLogStartsAResumedRunOnAFreshMetricsLine) {
  const fs::path dir = fresh_dir("resumed");
  write(dir / "metrics.jsonl", "{\"type\":\"epoch\",\"epoch\":1,\"loss\":2.0}\n{\"type\":\"epo");  // killed here
  {
    trainer::RunLog log(dir, true);
    log.record({{"type", "epoch"}, {"epoch", 2}, {"loss", 1.0}});
  }
  EXPECT_EQ(read(dir / "metrics.jsonl"),
            "{\"type\":\"epoch\",\"epoch\":1,\"loss\":2.0}\n{\"type\":\"epo\n{\"epoch\":2,\"loss\":1.0,\"type\":"
            "\"epoch\"}\n");
  {
    trainer::RunLog log(dir, true);  // a file that ends with its newline gets nothing added
  }
  TrainedRun run;
  std::vector<std::string> warnings;
  read_metrics(dir / "metrics.jsonl", run, warnings);
  ASSERT_EQ(run.epoch_curve.size(), 2u);
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(Report, RunLogWritesTensorBoardScalars) {
  const fs::path dir = fresh_dir("tb");
  {
    trainer::RunLog log(dir, true);
    log.record({{"type", "step"},
                {"epoch", 1},
                {"iteration", 5},
                {"step", 5},
                {"loss", 1.25},
                {"lr", 0.002},
                {"images_per_s", 10.0},
                {"kg_loss", NAN}});
    log.record({{"type", "epoch"}, {"epoch", 1}, {"loss", 1.5}, {"train_accuracy", 40.0}, {"lr", 0.002}});
    log.record({{"type", "eval"},
                {"result", {{"split", "test"}, {"subsample", "base"}, {"accuracy", 70.5}, {"macro_accuracy", 69.0}}}});
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir / "tensorboard")) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  const auto events = test::read_events(files[0].string());
  std::map<std::string, std::pair<int64_t, float>> got;
  for (size_t i = 1; i < events.size(); ++i) got[events[i].tag] = {events[i].step, events[i].value};
  const std::map<std::string, std::pair<int64_t, float>> expected{
      {"train/loss", {5, 1.25f}},           {"train/lr", {5, 0.002f}},
      {"train/images_per_s", {5, 10.0f}},   {"epoch/loss", {1, 1.5f}},
      {"epoch/train_accuracy", {1, 40.0f}}, {"epoch/lr", {1, 0.002f}},
      {"test/base_accuracy", {1, 70.5f}},   {"test/base_macro_accuracy", {1, 69.0f}}};
  EXPECT_EQ(got, expected);  // the NaN metric is left out
}

}  // namespace
}  // namespace clipt::report
