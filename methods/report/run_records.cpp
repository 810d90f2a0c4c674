#include "methods/report/run_records.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/core/error.h"

namespace clipt::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  CLIPT_CHECK(in.good(), "report: cannot open {}", file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const fs::path& file) {
  try {
    return json::parse(read_text(file));
  } catch (const json::exception& e) { fail("report: {} is not valid JSON ({})", file.string(), e.what()); }
}

// A number field; JSON null (how NaN is written) and absence read as NaN.
double number_or_nan(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}

// Field access that names the file (and line) on a missing or mistyped field.
template <typename T> T field(const json& j, const char* key, const std::string& where) {
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    fail("report: {} has no valid \"{}\" field; is it a file clipt wrote?", where, key);
  }
}
template <typename T> T field(const json& j, const char* key, const fs::path& file) {
  return field<T>(j, key, file.string());
}

std::vector<Evaluation> read_evaluations(const json& j, const fs::path& file) {
  std::vector<Evaluation> out;
  if (!j.contains("evaluations")) return out;
  for (const json& e : j.at("evaluations"))
    out.push_back({field<std::string>(e, "split", file), field<std::string>(e, "subsample", file),
                   field<double>(e, "accuracy", file)});
  return out;
}

fs::path sweep_of(const fs::path& run_dir) { return run_dir.parent_path().parent_path(); }

void read_results(const fs::path& file, RunCollection& out) {
  const json j = read_json(file);
  TrainedRun r;
  r.dir = file.parent_path();
  r.method = field<std::string>(j, "method", file);
  r.dataset = field<std::string>(j, "dataset", file);
  r.seed = j.value("seed", int64_t(0));
  r.shots = j.value("shots", int64_t(0));
  r.epochs = j.value("epochs", int64_t(0));
  r.train_subsample = j.value("train_subsample", std::string("all"));
  r.evaluations = read_evaluations(j, file);
  if (fs::exists(r.dir / "metrics.jsonl")) read_metrics(r.dir / "metrics.jsonl", r, out.warnings);
  out.runs.push_back(std::move(r));
}

// b2n.json is both a run's record (<sweep>/<dataset>/seed<k>/b2n.json: "seed", "base", "new") and the
// sweep's table (<sweep>/b2n.json: "datasets"); only records are read. Likewise dg.json and xd.json.
void read_protocol_file(const fs::path& file, const std::string& protocol, RunCollection& out) {
  const json j = read_json(file);
  if (!j.is_object() || !j.contains("seed")) return;  // a sweep's table
  const fs::path dir = file.parent_path();
  if (protocol == "b2n") {
    B2nRecord r{dir,
                sweep_of(dir),
                field<std::string>(j, "method", file),
                field<std::string>(j, "dataset", file),
                field<int64_t>(j, "seed", file),
                field<double>(j, "base", file),
                field<double>(j, "new", file),
                false};
    out.b2n.push_back(r);
    if (j.contains("baseline")) {  // DPC's stage-1 method, measured in the same run
      const json& b = j.at("baseline");
      r.method = field<std::string>(b, "method", file);
      r.base = field<double>(b, "base", file);
      r.novel = field<double>(b, "new", file);
      r.is_baseline = true;
      out.b2n.push_back(r);
    }
  } else if (protocol == "dg") {
    out.dg.push_back({dir, sweep_of(dir), field<std::string>(j, "method", file), field<std::string>(j, "dataset", file),
                      field<std::string>(j, "target", file), field<std::vector<std::string>>(j, "sources", file),
                      field<int64_t>(j, "seed", file), field<int64_t>(j, "shots", file),
                      field<double>(j, "accuracy", file)});
  } else {
    const std::string role = field<std::string>(j, "role", file);
    const std::string dataset = field<std::string>(j, "dataset", file);
    out.xd.push_back({dir, sweep_of(dir), field<std::string>(j, "method", file), role, dataset,
                      role == "source" ? dataset : field<std::string>(j, "source", file),
                      field<int64_t>(j, "seed", file), field<int64_t>(j, "shots", file),
                      field<double>(j, "accuracy", file)});
  }
}

void read_sharpness(const fs::path& file, RunCollection& out) {
  const json j = read_json(file);
  const json& s = j.contains("sharpness") ? j.at("sharpness") : json::object();
  SharpnessRecord r;
  r.file = file;
  r.method = field<std::string>(j, "method", file);
  r.dataset = field<std::string>(j, "dataset", file);
  r.seed = j.value("seed", int64_t(0));
  r.epoch = j.value("epoch", int64_t(0));
  r.rho = number_or_nan(s, "rho");
  r.loss = number_or_nan(s, "loss");
  r.perturbed_loss = number_or_nan(s, "perturbed_loss");
  r.sharpness = number_or_nan(s, "sharpness");
  r.grad_norm = number_or_nan(s, "grad_norm");
  r.evaluations = read_evaluations(j, file);
  out.sharpness.push_back(std::move(r));
}

}  // namespace

void read_metrics(const fs::path& file, TrainedRun& run, std::vector<std::string>& warnings) {
  const std::string text = read_text(file);
  std::map<int64_t, EpochPoint> epochs;  // a resumed run may log an epoch again: the last record wins
  struct Step {
    int64_t epoch, iteration;
    double loss, lr;
  };
  std::vector<Step> steps;
  std::map<int64_t, int64_t> batches;  // per epoch, the largest logged iteration (the last one is always logged)
  size_t start = 0;
  for (int64_t line_no = 1; start < text.size(); ++line_no) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (line.empty()) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception&) {
      // metrics.jsonl is appended to line by line: a run killed in the middle of a line leaves it cut
      // short (and a resumed run goes on after it). Only that line is lost, so only it is skipped.
      warnings.push_back(
          fmt::format("{} line {} is cut short (a run stopped while writing it); skipped", file.string(), line_no));
      continue;
    }
    const std::string where = fmt::format("{} line {}", file.string(), line_no);
    CLIPT_CHECK(j.is_object(), "report: {} is not a JSON object; is it a file clipt wrote?", where);
    const std::string type = j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
    if (type == "epoch") {
      EpochPoint p;
      p.epoch = field<int64_t>(j, "epoch", where);
      p.loss = number_or_nan(j, "loss");
      p.train_accuracy = number_or_nan(j, "train_accuracy");
      p.lr = number_or_nan(j, "lr");
      epochs[p.epoch] = p;
    } else if (type == "step") {
      Step s{field<int64_t>(j, "epoch", where), field<int64_t>(j, "iteration", where), number_or_nan(j, "loss"),
             number_or_nan(j, "lr")};
      steps.push_back(s);
      batches[s.epoch] = std::max(batches[s.epoch], s.iteration);
    }
  }
  run.epoch_curve.clear();
  for (const auto& [e, p] : epochs) run.epoch_curve.push_back(p);
  run.step_curve.clear();
  for (const Step& s : steps)
    run.step_curve.push_back(
        {double(s.epoch - 1) + double(s.iteration) / double(std::max<int64_t>(batches[s.epoch], 1)), s.loss, s.lr});
  // A resumed run logs its steps again from the resume point: keep them in position order, the last wins.
  std::stable_sort(run.step_curve.begin(), run.step_curve.end(),
                   [](const StepPoint& a, const StepPoint& b) { return a.position < b.position; });
  std::vector<StepPoint> unique;
  for (const StepPoint& p : run.step_curve) {
    if (!unique.empty() && unique.back().position == p.position)
      unique.back() = p;
    else
      unique.push_back(p);
  }
  run.step_curve = std::move(unique);
}

RunCollection collect_runs(const std::vector<fs::path>& roots) {
  CLIPT_CHECK(!roots.empty(), "report: name at least one folder of runs");
  std::vector<fs::path> files;
  for (const fs::path& root : roots) {
    CLIPT_CHECK(fs::exists(root), "report: {} does not exist", root.string());
    CLIPT_CHECK(fs::is_directory(root), "report: {} is a file; name the folder of runs it is in", root.string());
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && it->path().filename() == "checkpoints") {
        it.disable_recursion_pending();  // weights only
        continue;
      }
      if (it->is_regular_file()) files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  RunCollection out;
  for (const fs::path& f : files) {
    const std::string name = f.filename().string();
    try {
      if (name == "results.json")
        read_results(f, out);
      else if (name == "b2n.json" || name == "dg.json" || name == "xd.json")
        read_protocol_file(f, f.stem().string(), out);
      else if (name == "sharpness.json")
        read_sharpness(f, out);
    } catch (const json::exception& e) {  // a field of another type than clipt writes (a string seed, ...)
      fail("report: {} is not a file clipt wrote ({})", f.string(), e.what());
    }
  }
  return out;
}

}  // namespace clipt::report
