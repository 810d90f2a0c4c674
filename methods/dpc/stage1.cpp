#include "methods/dpc/stage1.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "data/subsample.h"
#include "engine/io/checkpoint.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/protocol_runs.h"
#include "methods/trainer/trainer.h"

namespace clipt::methods::dpc {

namespace fs = std::filesystem;

namespace {

fs::path source_dir() { return fs::path(CLIPT_SOURCE_DIR); }
fs::path configs_dir() { return source_dir() / "configs"; }

template <typename... Args> void say(const MethodContext& ctx, fmt::format_string<Args...> f, Args&&... args) {
  if (ctx.log) ctx.log(fmt::format(f, std::forward<Args>(args)...));
}

bool is_clipt_run(const fs::path& dir) { return fs::is_directory(dir) && trainer::Trainer::latest_checkpoint(dir) > 0; }

// results.json of a run (Trainer::write_results), when it holds test evaluations of `epochs` epochs.
std::optional<BaselineResult> read_results(const fs::path& file, int64_t epochs) {
  std::ifstream in(file);
  if (!in.good()) return std::nullopt;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    if (j.value("epochs", int64_t(-1)) != epochs) return std::nullopt;
    BaselineResult r;
    r.method = j.at("method").get<std::string>();
    for (const auto& e : j.at("evaluations"))
      if (e.value("split", "") == "test")
        r.accuracy[e.at("subsample").get<std::string>()] = e.at("accuracy").get<double>();
    if (r.accuracy.empty()) return std::nullopt;
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // unreadable: the caller evaluates again and rewrites it
  }
}

void train_stage1(const MethodContext& ctx, const std::string& backbone, const fs::path& dir) {
  const Config cfg = stage1_config(*ctx.cfg, backbone, dir);
  // Data parallel: stage 1 trains over the same ranks; rank 0 owns the folder (and alone writes in it).
  const bool root = !ctx.comm || ctx.comm->is_root();
  const fs::path saved = dir / "config.yaml";
  if (root) {
    fs::create_directories(dir);
    if (fs::exists(saved)) {
      Config before = default_config();
      before.merge_from_file(saved);
      const std::string key = trainer::first_config_difference(cfg, before);
      CLIPT_CHECK(key.empty(),
                  "DPC stage 1: {} was made with {} = {}, this run would use {}; delete {} to train stage 1 again, "
                  "or set DPC.BACK_CKPT_PATH to reuse it as it is",
                  dir.string(), key, before.get(key).repr(), cfg.get(key).repr(), dir.string());
    }
    cfg.save(saved);
    say(ctx, "DPC stage 1: {} with {} in {}", backbone, backbone_config_file(*ctx.cfg, backbone).string(),
        dir.string());
  }
  trainer::RunLog log = trainer::RunLog::for_rank(dir, ctx.quiet, root);
  trainer::Trainer t(cfg, log, ctx.stop, {}, ctx.comm);
  t.train();
  const fs::path results = dir / "results.json";
  // Whether the evaluations are there: rank 0's reading decides for every rank.
  bool have = root && read_results(results, t.epochs_done()).has_value();
  if (ctx.comm && ctx.comm->world_size() > 1) have = ctx.comm->all_reduce(have ? 1.0 : 0.0, dist::ReduceOp::Max) > 0;
  if (!have) {
    // The backbone's own evaluations, so tables show backbone and backbone + DPC from one run.
    const auto trained_on = data::parse_subsample(cfg.get_string("DATASET.SUBSAMPLE_CLASSES"));
    std::vector<trainer::EvalResult> evals;
    if (trained_on == data::Subsample::Base) {
      evals.push_back(t.evaluate(data::Subsample::Base));
      evals.push_back(t.evaluate(data::Subsample::New));
    } else {
      evals.push_back(t.evaluate(trained_on));
    }
    t.write_results(evals, results);
  }
  // The other ranks read stage 1's checkpoint and results once rank 0 has written them.
  if (ctx.comm && ctx.comm->world_size() > 1) ctx.comm->barrier();
}

// Where the DPC run `run` (a run folder, or one of its checkpoint files) took its stage 1 from: the
// DPC.BACK_CKPT_PATH (or SPLE.BACK_CKPT_PATH) its checkpoint's config names, else <run>/stage1.
struct Stage1Location {
  fs::path dir;
  int64_t epoch = -1;
};
Stage1Location stage1_of_run(const fs::path& run) {
  fs::path folder = run, checkpoint;
  if (fs::is_regular_file(run)) {
    checkpoint = run;
    folder = run.parent_path().parent_path();  // <run>/checkpoints/epoch-N.safetensors
  } else {
    const int64_t e = trainer::Trainer::latest_checkpoint(run);
    CLIPT_CHECK(e > 0, "DPC: {} holds no checkpoint (expected {})", run.string(),
                trainer::Trainer::checkpoint_path(run, 1).string());
    checkpoint = trainer::Trainer::checkpoint_path(run, e);
  }
  Config trained = default_config();
  trained.merge_from_yaml(io::Checkpoint::open(checkpoint).meta().value("config", ""),
                          checkpoint.string() + " (its config)");
  if (const std::string p = trained.get_string("DPC.BACK_CKPT_PATH"); !p.empty())
    return {p, trained.get_int("DPC.BACK_CKPT_EPOCH")};
  if (const std::string p = trained.get_string("SPLE.BACK_CKPT_PATH"); !p.empty())
    return {p, trained.get_int("SPLE.BACK_CKPT_EPOCH")};
  return {folder / "stage1", -1};
}

}  // namespace

fs::path backbone_config_file(const Config& run_cfg, const std::string& backbone) {
  const std::string given = run_cfg.get_string("DPC.BACKBONE_CONFIG");
  if (!given.empty()) {
    const fs::path p(given);
    if (fs::is_regular_file(p)) return fs::absolute(p);
    if (p.is_relative()) {
      if (fs::is_regular_file(configs_dir() / p)) return configs_dir() / p;
      if (fs::is_regular_file(source_dir() / p)) return source_dir() / p;
    }
    fail("DPC.BACKBONE_CONFIG: '{}' does not exist (looked in the current folder and in {})", given,
         configs_dir().string());
  }
  if (run_cfg.get_string("DATASET.NAME") == "world") {
    const fs::path p = configs_dir() / "world" / (backbone + ".yaml");
    CLIPT_CHECK(fs::is_regular_file(p), "DPC stage 1: no world recipe for {} ({}); set DPC.BACKBONE_CONFIG", backbone,
                p.string());
    return p;
  }
  // CoOp: the stage 1 the released DPC configs point at (see the file's header); the others: their peers'
  // base-to-new recipe.
  static const std::map<std::string, std::string> peer_recipes = {
      {"CoOp", "DPC/stage1_CoOp_vit_b16_ep100_nctx4.yaml"},
      {"KgCoOp", "KgCoOp/vit_b16_ep100_ctxv1.yaml"},
      {"MaPLe", "MaPLe/vit_b16_c2_ep5_batch4_2ctx.yaml"},
      {"IVLP", "IVLP/vit_b16_c2_ep5_batch4_2+2ctx.yaml"},
  };
  if (auto it = peer_recipes.find(backbone); it != peer_recipes.end()) return configs_dir() / "trainers" / it->second;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(configs_dir() / "trainers" / backbone, ec))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  CLIPT_CHECK(files.size() == 1,
              "DPC stage 1: no default recipe for backbone {} ({} files in {}); set DPC.BACKBONE_CONFIG to its config "
              "file",
              backbone, files.size(), (configs_dir() / "trainers" / backbone).string());
  return files[0];
}

Config stage1_config(const Config& run_cfg, const std::string& backbone, const fs::path& dir) {
  Config c = default_config();
  const std::string dataset_file = run_cfg.get_string("CLIPT.DATASET_CONFIG_FILE");
  if (!dataset_file.empty()) c.merge_from_file(dataset_file);
  c.merge_from_file(backbone_config_file(run_cfg, backbone));
  static const std::vector<std::string> shared_groups = {"DATASET.", "INPUT.", "MODEL.", "CLIPT."};
  static const std::vector<std::string> shared_keys = {"SEED", "DATALOADER.NUM_WORKERS", "DATALOADER.TEST.BATCH_SIZE"};
  for (const auto& key : run_cfg.keys()) {
    bool shared = std::find(shared_keys.begin(), shared_keys.end(), key) != shared_keys.end();
    for (const auto& g : shared_groups) shared = shared || key.starts_with(g);
    if (shared) c.set(key, run_cfg.get(key));
  }
  c.set("TRAINER.NAME", backbone);
  c.set("OUTPUT_DIR", dir.string());
  c.freeze();
  return c;
}

Stage1Run prepare_stage1(const MethodContext& ctx, const std::vector<std::string>& classnames) {
  const Config& cfg = *ctx.cfg;
  const std::string backbone = canonical_method_name(cfg.get_string("DPC.BACKBONE"));
  CLIPT_CHECK(backbone != "DPC", "DPC.BACKBONE cannot be DPC itself");
  fs::path given = cfg.get_string("DPC.BACK_CKPT_PATH");
  int64_t epoch = cfg.get_int("DPC.BACK_CKPT_EPOCH");
  const std::string peer_path = cfg.get_string("SPLE.BACK_CKPT_PATH");
  if (given.empty() && !peer_path.empty()) {
    // The peer's key points at a PyTorch run (prompt_learner/model.pth.tar-<epoch>); a clipt run folder
    // given there is accepted, anything else is an error rather than silently training a new stage 1.
    CLIPT_CHECK(
        is_clipt_run(peer_path),
        "SPLE.BACK_CKPT_PATH '{}' is not a clipt run folder (no checkpoints/epoch-<N>.safetensors): the released "
        "code's PyTorch stage-1 checkpoints cannot be read. Set SPLE.BACK_CKPT_PATH \"\" to train stage 1 in this "
        "run, or DPC.BACK_CKPT_PATH to a clipt run of the backbone",
        peer_path);
    given = peer_path;
    epoch = cfg.get_int("SPLE.BACK_CKPT_EPOCH");
  }

  if (given.empty() && !ctx.eval_model_dir.empty()) {
    // Evaluating a trained DPC run from another folder: its stage 1, not a new one trained here.
    const Stage1Location of_run = stage1_of_run(ctx.eval_model_dir);
    given = of_run.dir;
    epoch = of_run.epoch;
    say(ctx, "DPC: evaluating {} over its stage 1 {}", ctx.eval_model_dir, given.string());
  }

  Stage1Run run;
  if (given.empty()) {
    run.dir = fs::path(ctx.output_dir) / "stage1";
    train_stage1(ctx, backbone, run.dir);
    epoch = -1;
  } else {
    run.dir = given;
    CLIPT_CHECK(is_clipt_run(run.dir),
                "DPC.BACK_CKPT_PATH '{}' is not a clipt run folder (no checkpoints/epoch-<N>.safetensors)",
                run.dir.string());
  }
  const int64_t e = epoch >= 0 ? epoch : trainer::Trainer::latest_checkpoint(run.dir);
  run.checkpoint = trainer::Trainer::checkpoint_path(run.dir, e);
  CLIPT_CHECK(fs::exists(run.checkpoint), "DPC stage 1: checkpoint {} does not exist (DPC.BACK_CKPT_EPOCH {})",
              run.checkpoint.string(), epoch);

  const io::Checkpoint ck = io::Checkpoint::open(run.checkpoint);
  const nlohmann::json& meta = ck.meta();
  run.method = meta.value("method", "");
  CLIPT_CHECK(run.method == backbone,
              "DPC stage 1: {} was trained by '{}' but DPC.BACKBONE is '{}'; set DPC.BACKBONE {} to wrap it",
              run.checkpoint.string(), run.method, backbone, run.method);
  const std::string dataset = cfg.get_string("DATASET.NAME");
  CLIPT_CHECK(meta.value("dataset", "") == dataset, "DPC stage 1: {} was trained on '{}', this run is on '{}'",
              run.checkpoint.string(), meta.value("dataset", ""), dataset);
  run.classnames = meta.value("classnames", std::vector<std::string>{});
  CLIPT_CHECK(!run.classnames.empty(), "DPC stage 1: {} names no training classes", run.checkpoint.string());
  if (run.classnames != classnames)
    say(ctx,
        "note: this run's {} training classes differ from stage 1's {} (evaluation only, e.g. --eval-only on new "
        "classes): DPC keeps stage 1's classes and cannot train here",
        classnames.size(), run.classnames.size());
  if (meta.value("seed", uint64_t(0)) != ctx.seed)
    say(ctx, "warning: DPC stage 1 {} used seed {}, this run seed {}: the two stages see different few-shot images",
        run.checkpoint.string(), meta.value("seed", uint64_t(0)), ctx.seed);
  run.config = default_config();
  run.config.merge_from_yaml(meta.value("config", ""), run.checkpoint.string() + " (its config)");
  run.config.freeze();
  run.baseline = read_results(run.dir / "results.json", meta.value("epochs_done", int64_t(0)));
  if (run.baseline) run.baseline->method = run.method;
  return run;
}

}  // namespace clipt::methods::dpc
