// What the evaluation protocols (b2n.h, dg.h, xd.h) share around their single runs: a run is a folder
// <output>/<name>/seed<k> holding its config.yaml, log, checkpoints, results.json and a small record
// (<protocol>.json) written last, atomically; a rerun of the protocol reads the record back instead of
// training again, so an interrupted sweep resumes. Also the per-seed means and the table files.
#pragma once
#include <atomic>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/io/folder_lock.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/run_log.h"
#include "methods/trainer/trainer.h"

namespace clipt::trainer {

// <output_dir>/<name>/seed<seed>.
std::filesystem::path protocol_run_dir(const std::filesystem::path& output_dir, const std::string& name, int64_t seed);

// The record of a finished run, or nothing when `record` does not exist. `check` validates it (that it
// was made with this run's settings) and may raise; a file that is not JSON, or lacks a field `check`
// reads, is an Error "<record> is corrupt (...); delete it to <rerun_hint>".
std::optional<nlohmann::json> read_finished_run(const std::filesystem::path& record, std::string_view rerun_hint,
                                                const std::function<void(const nlohmann::json&)>& check);

// The first key where two run configs differ, or "". Keys that say where a run lives or which resources
// it uses (OUTPUT_DIR, RESUME, DATALOADER.NUM_WORKERS, CLIPT.DEVICE, CLIPT.DATASET_CONFIG_FILE, TRAIN.PRINT_FREQ,
// CLIPT.MAX_IMAGE_PIXELS) do not count: a run moved or rerun on other hardware is the same run.
std::string first_config_difference(const Config& a, const Config& b);
// The same over the keys that decide a run's weights: evaluation-only keys (TEST.*, DATALOADER.TEST.*)
// do not count either. Whether a checkpoint may be continued under `a`.
std::string first_training_difference(const Config& a, const Config& b);

// The config `args` builds for the run folder `dir`, after making sure that a run already there was
// made with it: its checkpoints must not be resumed, nor its record read back, under another recipe. A
// stale folder is an Error naming the first differing key and both values; with `replace_stale` (the
// demo's own output) it is deleted instead, with a log line, and the run is made again.
Config current_run_config(const TrainArgs& args, const std::filesystem::path& dir, bool replace_stale, RunLog& log);

// A run being made in `dir`: the folder's owner lock (a second process on the same run fails at once),
// its config (from current_run_config) saved as config.yaml, its log and its trainer.
struct ProtocolRun {
  std::unique_ptr<io::FolderLock> lock;  // first: nothing in the folder is touched before it is ours
  RunLog log;
  Trainer trainer;
  ProtocolRun(const Config& cfg, const std::filesystem::path& dir, bool quiet, const std::atomic<bool>* stop);
};
std::unique_ptr<ProtocolRun> start_protocol_run(const Config& cfg, const std::filesystem::path& dir, bool quiet,
                                                const std::atomic<bool>* stop);

// Writes a finished run's record (last, atomically: its presence means the run is complete).
void write_run_record(const std::filesystem::path& record, const nlohmann::json& j);

// <dir>/<name>.yaml when `dir` is set and the file exists, else "" (no dataset config).
std::string dataset_config_in(const std::filesystem::path& dir, const std::string& name);

// Raises "<protocol>: <key> is set by the protocol<hint>" for the first of `keys` among the KEY VALUE
// overrides `opts`.
void reject_protocol_keys(const std::vector<std::string>& opts, std::initializer_list<std::string_view> keys,
                          std::string_view protocol, std::string_view hint);

// The mean of a row's per-seed results; none is an Error "<what> has no result".
double mean_over_seeds(const std::vector<double>& per_seed, const std::string& what);

// <dir>/<stem>.md, .csv and .json of a protocol's table (anything with markdown(), csv() and to_json()).
void write_table_files(const std::filesystem::path& dir, const std::string& stem, const std::string& markdown,
                       const std::string& csv, const nlohmann::json& json);
template <typename Table>
void write_table_files(const std::filesystem::path& dir, const std::string& stem, const Table& table) {
  write_table_files(dir, stem, table.markdown(), table.csv(), table.to_json());
}

}  // namespace clipt::trainer
