// What `clipt report` reads back from run folders. Every clipt command that makes a run leaves files
// behind (see methods/trainer): results.json (the run's evaluations and identity), metrics.jsonl (one JSON
// object per logged step, per epoch and per evaluation), and, for protocol runs, a small record written
// last (<output>/<name>/seed<k>/b2n.json, dg.json or xd.json; their presence means the run finished).
// `clipt eval` writes <run>/eval/sharpness.json. The protocols' own table files (<output>/b2n.json,
// dg.json, xd.json) are summaries of the records and are not read: the report recomputes them, with the
// spread over seeds.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace clipt::report {

// One epoch of a run's metrics.jsonl; NaN where the run did not record the value.
struct EpochPoint {
  int64_t epoch = 0;  // 1-based
  double loss = 0, train_accuracy = 0, lr = 0;
};

// One logged step (every TRAIN.PRINT_FREQ steps and the last of each epoch) at its position in epochs
// (epoch e, iteration i of n → e - 1 + i / n).
struct StepPoint {
  double position = 0;
  double loss = 0, lr = 0;
};

struct Evaluation {
  std::string split, subsample;  // test | val; all | base | new
  double accuracy = 0;           // percent
};

// A run folder: results.json and the curves of its metrics.jsonl.
struct TrainedRun {
  std::filesystem::path dir;
  std::string method, dataset, train_subsample;
  int64_t seed = 0, shots = 0, epochs = 0;
  std::vector<Evaluation> evaluations;
  std::vector<EpochPoint> epoch_curve;  // the last record of each epoch, in epoch order
  std::vector<StepPoint> step_curve;
};

// A protocol run's record. `sweep` is the protocol's output folder (the record's folder is
// <sweep>/<name>/seed<k>): runs of one sweep share a recipe, so tables group by it.
struct B2nRecord {
  std::filesystem::path dir, sweep;
  std::string method, dataset;
  int64_t seed = 0;
  double base = 0, novel = 0;  // percent
  bool is_baseline = false;    // the wrapped method's numbers measured in the same run (DPC's stage 1)
};

struct DgRecord {
  std::filesystem::path dir, sweep;
  std::string method, dataset, target;
  std::vector<std::string> sources;
  int64_t seed = 0, shots = 0;
  double accuracy = 0;
};

struct XdRecord {
  std::filesystem::path dir, sweep;
  std::string method, role, dataset, source;  // role: source | target; source: the training dataset
  int64_t seed = 0, shots = 0;
  double accuracy = 0;
};

struct SharpnessRecord {
  std::filesystem::path file;
  std::string method, dataset;
  int64_t seed = 0, epoch = 0;
  double rho = 0, loss = 0, perturbed_loss = 0, sharpness = 0, grad_norm = 0;
  std::vector<Evaluation> evaluations;
};

struct RunCollection {
  std::vector<TrainedRun> runs;
  std::vector<B2nRecord> b2n;
  std::vector<DgRecord> dg;
  std::vector<XdRecord> xd;
  std::vector<SharpnessRecord> sharpness;
  std::vector<std::string> warnings;  // e.g. a metrics.jsonl cut short by a killed run
  bool empty() const { return runs.empty() && b2n.empty() && dg.empty() && xd.empty() && sharpness.empty(); }
};

// Walks every folder under `roots` (checkpoint folders skipped) and reads what it finds, in path order.
// A root that does not exist, or a file that is not what clipt writes, is an Error naming the file (and
// line): a report that quietly left a run out would show means over fewer seeds than the researcher ran.
// clipt writes results.json and the records atomically, so a broken one was damaged after the run; the
// one thing skipped (with a warning naming file and line) is a metrics.jsonl line that is not JSON: that log
// is appended to line by line, and a run killed while writing one leaves it cut short.
RunCollection collect_runs(const std::vector<std::filesystem::path>& roots);

// Reads a run's metrics.jsonl into its curves. A line that is not JSON (cut short by a killed run) is skipped
// with a warning naming the file and line; a JSON line that is not a record clipt writes is an Error.
void read_metrics(const std::filesystem::path& file, TrainedRun& run, std::vector<std::string>& warnings);

}  // namespace clipt::report
