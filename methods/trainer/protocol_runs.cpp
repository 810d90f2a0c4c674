#include "methods/trainer/protocol_runs.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <set>

#include "engine/core/error.h"
#include "engine/dist/dist_ops.h"
#include "engine/io/atomic_file.h"
#include "methods/trainer/config_defaults.h"

namespace clipt::trainer {

std::filesystem::path protocol_run_dir(const std::filesystem::path& output_dir, const std::string& name, int64_t seed) {
  return output_dir / name / fmt::format("seed{}", seed);
}

namespace {

// Data parallel (mpirun): rank 0 owns the protocol's folders and files; the other ranks train and
// evaluate with it and write nothing.
bool is_root() { return dist::world().is_root(); }

}  // namespace

std::optional<nlohmann::json> read_finished_run(const std::filesystem::path& record, std::string_view rerun_hint,
                                                const std::function<void(const nlohmann::json&)>& check) {
  // Rank 0 reads the record; every rank follows what it found (a finished run is skipped by all).
  std::string text;
  if (is_root() && std::filesystem::exists(record)) {
    std::ifstream in(record);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (text.empty()) text = " ";  // an empty file is there (and corrupt), not absent
  }
  if (dist::world().world_size() > 1) text = dist::broadcast_string(dist::world(), text);
  if (text.empty()) return std::nullopt;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    check(j);
    return j;
  } catch (const nlohmann::json::exception& e) {
    fail("{} is corrupt ({}); delete it to {}", record.string(), e.what(), rerun_hint);
  }
}

namespace {

// The first key of `a`, except those `skip` names, where the two configs differ; or "".
template <typename Skip> std::string first_difference(const Config& a, const Config& b, Skip skip) {
  for (const auto& key : a.keys())
    if (!skip(key) && !(a.get(key) == b.get(key))) return key;
  return "";
}

bool names_a_place_or_resource(const std::string& key) {
  static const std::set<std::string> ignored = {"OUTPUT_DIR",
                                                "RESUME",
                                                "DATALOADER.NUM_WORKERS",
                                                "CLIPT.DEVICE",
                                                "CLIPT.DATASET_CONFIG_FILE",
                                                "TRAIN.PRINT_FREQ",
                                                "CLIPT.MAX_IMAGE_PIXELS",
                                                "CLIPT.CUDA_GRAPH"};
  return ignored.count(key) > 0;
}

}  // namespace

std::string first_config_difference(const Config& a, const Config& b) {
  return first_difference(a, b, names_a_place_or_resource);
}

std::string first_training_difference(const Config& a, const Config& b) {
  return first_difference(a, b, [](const std::string& key) {
    return names_a_place_or_resource(key) || key.starts_with("TEST.") || key.starts_with("DATALOADER.TEST.");
  });
}

Config current_run_config(const TrainArgs& args, const std::filesystem::path& dir, bool replace_stale, RunLog& log) {
  Config now = build_run_config(args);
  const auto saved = dir / "config.yaml";
  if (!is_root() || !std::filesystem::exists(saved)) return now;  // rank 0 checks (and replaces) the folder
  Config before = default_config();
  before.merge_from_file(saved);
  const std::string key = first_config_difference(now, before);
  if (key.empty()) return now;
  const std::string what = fmt::format("{} was made with {} = {}, this run uses {}", dir.string(), key,
                                       before.get(key).repr(), now.get(key).repr());
  CLIPT_CHECK(replace_stale, "{}; delete {} (or choose another --output-dir) to run it again", what, dir.string());
  log.info("{}: running it again", what);
  std::filesystem::remove_all(dir);
  return now;
}

namespace {

// Takes the folder, clears what killed writes left there and saves the run's config.
std::unique_ptr<io::FolderLock> claim_run_folder(const Config& cfg, const std::filesystem::path& dir) {
  auto lock = std::make_unique<io::FolderLock>(dir, "run the protocol into another --output-dir");
  io::remove_stale_temp_files(dir);
  cfg.save(dir / "config.yaml");
  return lock;
}

}  // namespace

ProtocolRun::ProtocolRun(const Config& cfg, const std::filesystem::path& dir, bool quiet, const std::atomic<bool>* stop)
    : lock(is_root() ? claim_run_folder(cfg, dir) : nullptr),
      log(RunLog::for_rank(dir, quiet, is_root())),
      trainer(cfg, log, stop) {}

std::unique_ptr<ProtocolRun> start_protocol_run(const Config& cfg, const std::filesystem::path& dir, bool quiet,
                                                const std::atomic<bool>* stop) {
  return std::make_unique<ProtocolRun>(cfg, dir, quiet, stop);
}

void write_run_record(const std::filesystem::path& record, const nlohmann::json& j) {
  if (!is_root()) return;
  io::write_file_atomic(record, j.dump(2) + "\n");
}

std::string dataset_config_in(const std::filesystem::path& dir, const std::string& name) {
  if (dir.empty()) return "";
  const auto path = dir / (name + ".yaml");
  return std::filesystem::exists(path) ? path.string() : "";
}

void reject_protocol_keys(const std::vector<std::string>& opts, std::initializer_list<std::string_view> keys,
                          std::string_view protocol, std::string_view hint) {
  for (size_t i = 0; i + 1 < opts.size(); i += 2)
    for (std::string_view key : keys)
      CLIPT_CHECK(opts[i] != key, "{}: {} is set by the protocol{}", protocol, opts[i], hint);
}

double mean_over_seeds(const std::vector<double>& per_seed, const std::string& what) {
  CLIPT_CHECK(!per_seed.empty(), "{} has no result", what);
  double sum = 0;
  for (double a : per_seed) sum += a;
  return sum / double(per_seed.size());
}

void write_table_files(const std::filesystem::path& dir, const std::string& stem, const std::string& markdown,
                       const std::string& csv, const nlohmann::json& json) {
  if (!is_root()) return;
  std::filesystem::create_directories(dir);
  io::write_file_atomic(dir / (stem + ".md"), markdown);
  io::write_file_atomic(dir / (stem + ".csv"), csv);
  io::write_file_atomic(dir / (stem + ".json"), json.dump(2) + "\n");
}

}  // namespace clipt::trainer
