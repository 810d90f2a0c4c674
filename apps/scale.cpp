// `clipt scale`: how a method's training step scales with the ranks it is launched on. Runs the real
// trainer (data, step, gradient averaging; loss and accuracy are reduced once per print window) for --steps steps after
// --warmup unmeasured ones under the launched world size (plain: one rank; mpirun -np N: N ranks), and prints a table
// and JSON: images/s, and per step the time in compute (everything outside collectives: data, forward, backward,
// optimizer), communication (inside the collectives: the time the communicator's timer measures for engine/profile's
// communication phase) and waiting (for the slowest rank: every collective is preceded by a barrier whose time is
// counted apart). With --baseline FILE (the JSON of the same command on one rank) it adds the speed-up and the
// efficiency (speed-up / ranks). The process's CPU time per step (per rank) and the load average are recorded too, and
// with a baseline the work split (the one-rank step's CPU time over a rank's here, outside collectives): it separates
// work that does not divide from a machine that was busy. bench/scaling.sh runs both and writes the figure. Without
// --root it runs on the built-in world with its CLIP and recipe.
#include <fmt/core.h>
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/train_args.h"
#include "apps/world_model.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "engine/dist/dist_ops.h"
#include "engine/io/atomic_file.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/trainer.h"
#include "models/world/ensure_world.h"

namespace clipt::apps {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Without --root: the built-in world (made by rank 0 when missing), its CLIP and its recipe.
void use_builtin_world(trainer::TrainArgs& a, const fs::path& world_root, dist::Communicator& comm) {
  std::string model;
  if (comm.is_root()) {
    const world_setup::WorldPaths made = world_setup::ensure_world(world_root);
    if (a.model.empty()) model = world_model(world_root, made.tokenizer_dir, Device::cpu(), nullptr).string();
  }
  model = dist::broadcast_string(comm, model);  // the other ranks read the world once rank 0 has made it
  const fs::path recipes = config_dir() / "world";
  a.root = world_root.string();
  if (a.dataset_config_file.empty()) a.dataset_config_file = (recipes / "dataset.yaml").string();
  if (a.config_file.empty() && fs::exists(recipes / (a.trainer + ".yaml")))
    a.config_file = (recipes / (a.trainer + ".yaml")).string();
  if (a.model.empty()) a.model = model;
}

// A scratch run folder for the trainer (its checkpoints are not kept), the same path on every rank.
fs::path scratch_run_dir(dist::Communicator& comm) {
  std::string dir;
  if (comm.is_root()) {
    dir = (fs::temp_directory_path() / fmt::format("clipt-scale-{}", ::getpid())).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  return dist::broadcast_string(comm, dir);
}

struct Measured {
  double seconds = 0;                      // wall time of the measured steps (the slowest rank's)
  double compute = 0, comm = 0, wait = 0;  // per rank, averaged over ranks, seconds in all
  double cpu = 0;                          // CPU time of the process (all its threads), averaged over ranks
  double cpu_comm = 0;                     // of which inside collectives (the calling thread's)
  double calls = 0, bytes = 0;             // collectives and bytes per rank, in all
};

// User + system CPU seconds of this process so far, all threads (loader workers, MPI progress) included.
// Unlike wall time it barely moves when other processes share the cores, so the split of the step's work
// across ranks can be read off a busy machine: on one rank it is the step's work, on N ranks each rank's
// share of it (plus what a rank spends polling inside collectives).
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// The 1-minute load average: a figure taken while other work ran says so.
double load_average() {
  double load[1] = {-1};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

std::string table(const nlohmann::json& rows) {
  std::string s =
      "| ranks | backend | threads/rank | global batch | images/s | ms/step | compute ms | communication ms | waiting "
      "ms | CPU ms/rank | speed-up | efficiency | work split "
      "|\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    const auto& ms = r.at("ms_per_step");
    s += fmt::format(
        "| {} | {} | {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.2f} | {:.2f} | {} | {} | {} | {} |\n",
        r.at("world_size").get<int>(), r.at("backend").get<std::string>(), r.at("threads_per_rank").get<int>(),
        r.at("global_batch").get<int64_t>(), r.at("images_per_s").get<double>(), ms.at("total").get<double>(),
        ms.at("compute").get<double>(), ms.at("communication").get<double>(), ms.at("waiting").get<double>(),
        r.contains("cpu_ms_per_step_per_rank") ? fmt::format("{:.1f}", r.at("cpu_ms_per_step_per_rank").get<double>())
                                               : "–",
        r.contains("speedup") ? fmt::format("{:.2f}×", r.at("speedup").get<double>()) : "1.00×",
        r.contains("efficiency") ? fmt::format("{:.0f}%", 100 * r.at("efficiency").get<double>()) : "100%",
        r.contains("work_split") ? fmt::format("{:.2f}×", r.at("work_split").get<double>()) : "1.00×");
  }
  return s;
}

}  // namespace

int cmd_scale(const CommandArgs& argv) {
  const ParsedTrainArgs parsed = parse_train_args(argv, {"steps", "warmup", "batch", "world", "baseline", "json"});
  const Args& args = *parsed.args;
  world::register_world_datasets();
  dist::Communicator& comm = dist::world();
  const int ranks = comm.world_size();
  trainer::TrainArgs a = parsed.train;
  CLIPT_CHECK(!a.trainer.empty(), "scale: pass --trainer NAME");
  const int64_t steps = args.get_int("steps", 20), warmup = args.get_int("warmup", 3);
  CLIPT_CHECK(steps >= 1 && warmup >= 0, "scale: --steps must be ≥ 1 and --warmup ≥ 0 (got {} and {})", steps, warmup);
  std::optional<nlohmann::json> baseline;
  if (const auto file = args.get("baseline")) {
    std::ifstream in(*file);
    CLIPT_CHECK(in.good(), "scale: --baseline {} cannot be read", *file);
    try {
      baseline = nlohmann::json::parse(in);
      // Every field the comparison and the table read, checked before the measurement runs.
      for (const char* key : {"images_per_s", "world_size", "threads_per_rank", "global_batch"})
        CLIPT_CHECK(baseline->contains(key) && baseline->at(key).is_number(),
                    "scale: --baseline {} has no number \"{}\": it is not the JSON of `clipt scale --json`", *file,
                    key);
      CLIPT_CHECK(baseline->contains("backend") && baseline->at("backend").is_string(),
                  "scale: --baseline {} has no \"backend\": it is not the JSON of `clipt scale --json`", *file);
      for (const char* key : {"total", "compute", "communication", "waiting"})
        CLIPT_CHECK(baseline->contains("ms_per_step") && baseline->at("ms_per_step").contains(key) &&
                        baseline->at("ms_per_step").at(key).is_number(),
                    "scale: --baseline {} has no number \"ms_per_step.{}\": it is not the JSON of `clipt scale --json`",
                    *file, key);
    } catch (const nlohmann::json::exception& e) {
      fail("scale: --baseline {} is not the JSON of `clipt scale --json` ({})", *file, e.what());
    }
  }
  if (a.root.empty()) use_builtin_world(a, args.get_or("world", "clipt-world"), comm);
  const fs::path run_dir = scratch_run_dir(comm);
  a.output_dir = run_dir.string();
  if (const auto b = args.get("batch")) a.opts.insert(a.opts.end(), {"DATALOADER.TRAIN_X.BATCH_SIZE", *b});
  // Enough epochs for any --steps (the run is stopped after them), no progress lines.
  a.opts.insert(a.opts.end(), {"OPTIM.MAX_EPOCH", "1000000", "TRAIN.PRINT_FREQ", "1000000000"});
  const Config cfg = trainer::build_run_config(a);
  const int64_t batch = cfg.get_int("DATALOADER.TRAIN_X.BATCH_SIZE");
  if (baseline)
    CLIPT_CHECK(baseline->value("global_batch", int64_t(0)) == batch &&
                    baseline->value("method", "") == cfg.get_string("TRAINER.NAME"),
                "scale: --baseline ran {} with global batch {}, this run {} with {}: compare the same step",
                baseline->value("method", "?"), baseline->value("global_batch", int64_t(0)),
                cfg.get_string("TRAINER.NAME"), batch);

  trainer::RunLog log = trainer::RunLog::muted();
  std::atomic<bool> stop{false};
  Measured m;
  double load_before = -1, load_after = -1;
  {
    trainer::Trainer t(cfg, log, &stop, {}, &comm);
    comm.set_measure_wait(ranks > 1);
    int64_t done = 0;
    Clock::time_point start;
    double cpu_start = 0;
    auto start_measuring = [&] {
      comm.reset_stats();
      start = Clock::now();
      cpu_start = process_cpu_seconds();
      load_before = load_average();
    };
    t.set_after_step([&](int64_t) {
      ++done;
      if (done == warmup) start_measuring();
      if (done == warmup + steps) {
        const dist::CommStats s = comm.stats();
        m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        m.cpu = process_cpu_seconds() - cpu_start;
        m.cpu_comm = s.cpu_seconds;
        load_after = load_average();
        m.comm = s.comm_seconds;
        m.wait = s.wait_seconds;
        m.calls = double(s.calls);
        m.bytes = double(s.bytes);
        stop = true;  // honoured where the ranks next read their losses (unmeasured steps)
      }
    });
    if (warmup == 0) start_measuring();  // measured from the first step on
    try {
      t.train();
    } catch (const Interrupted&) {}
    CLIPT_CHECK(done >= warmup + steps, "scale: the run ended after {} steps, before {} warm-up + {} measured ones",
                done, warmup, steps);
    comm.set_measure_wait(false);
    m.compute = m.seconds - m.comm - m.wait;
    const std::vector<double> mean = comm.all_reduce(
        std::vector<double>{m.compute, m.comm, m.wait, m.calls, m.bytes, m.cpu, m.cpu_comm}, dist::ReduceOp::Mean);
    m.compute = mean[0];
    m.comm = mean[1];
    m.wait = mean[2];
    m.calls = mean[3];
    m.bytes = mean[4];
    m.cpu = mean[5];
    m.cpu_comm = mean[6];
    m.seconds = comm.all_reduce(m.seconds, dist::ReduceOp::Max);
  }
  comm.barrier();
  if (!comm.is_root()) return 0;
  fs::remove_all(run_dir);

  const double per_step = 1000.0 / double(steps);
  nlohmann::json j = {{"command", "clipt scale"},
                      {"method", cfg.get_string("TRAINER.NAME")},
                      {"dataset", cfg.get_string("DATASET.NAME")},
                      {"model", cfg.get_string("CLIPT.MODEL_DIR")},
                      {"device", cfg.get_string("CLIPT.DEVICE")},
                      {"backend", comm.backend()},
                      {"world_size", ranks},
                      {"threads_per_rank", omp_get_max_threads()},
                      // Decoding threads beside them (0: each rank decodes its images in its own thread).
                      {"loader_workers", cfg.get_int("DATALOADER.NUM_WORKERS")},
                      {"global_batch", batch},
                      {"per_rank_batch", batch / ranks},
                      {"steps", steps},
                      {"warmup", warmup},
                      {"seconds", m.seconds},
                      {"images_per_s", double(batch * steps) / m.seconds},
                      {"ms_per_step",
                       {{"total", m.seconds * per_step},
                        {"compute", m.compute * per_step},
                        {"communication", m.comm * per_step},
                        {"waiting", m.wait * per_step}}},
                      {"cpu_ms_per_step_per_rank", m.cpu * per_step},
                      {"cpu_ms_per_step_in_collectives", m.cpu_comm * per_step},
                      {"load_average", {{"before", load_before}, {"after", load_after}}},
                      {"collectives_per_step", m.calls / double(steps)},
                      {"bytes_per_step", m.bytes / double(steps)}};
  nlohmann::json rows = nlohmann::json::array();
  if (baseline) {
    const double speedup = j["images_per_s"].get<double>() / baseline->at("images_per_s").get<double>();
    j["baseline"] = *baseline;
    j["speedup"] = speedup;
    j["efficiency"] = speedup / double(ranks);
    // How well the step's work divides, whatever else the machine was doing: the one-rank step's CPU time
    // over one rank's share of it here (the ideal is the number of ranks). A speed-up well below it on a
    // busy machine is the machine; a split below it is work every rank repeats.
    if (baseline->contains("cpu_ms_per_step_per_rank"))
      j["work_split"] =
          baseline->at("cpu_ms_per_step_per_rank").get<double>() / std::max((m.cpu - m.cpu_comm) * per_step, 1e-12);
    nlohmann::json base_row = *baseline;
    base_row.erase("baseline");
    rows.push_back(base_row);
  }
  rows.push_back(j);
  fmt::print("{} training step, {} steps after {} warm-up, {} rank(s):\n{}\n{}\n", j["method"].get<std::string>(),
             steps, warmup, ranks, table(rows), j.dump());
  if (const auto out = args.get("json")) io::write_file_atomic(*out, j.dump(2) + "\n");
  return 0;
}

}  // namespace clipt::apps
