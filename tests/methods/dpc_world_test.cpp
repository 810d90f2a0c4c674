// DPC end to end through the base-to-new protocol on a small built-in world (10 classes: 5 base, as
// EuroSAT) with the tiny CLIP fixture: one `b2n --trainer DPC` trains stage 1 (CoOp) in <run>/stage1,
// stage 2 on its prompt, evaluates base and new in the same run, reports the backbone's row next to
// DPC's, and with ω_n = 0 gets the backbone's new-class accuracy exactly. Then stage 2 alone over the
// existing stage-1 run (DPC.BACK_CKPT_PATH), and the peers' PyTorch path rejected with a clear error.
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/world/world_datasets.h"
#include "engine/io/checkpoint.h"
#include "methods/trainer/b2n.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/trainer.h"
#include "models/world/ensure_world.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
}

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

struct SmallWorld {
  fs::path root;
  fs::path dataset_yaml, dpc_yaml, coop_yaml;
  explicit SmallWorld(const std::string& name)
      : root(test::scratch_dir(name)),
        dataset_yaml(root / "dataset.yaml"),
        dpc_yaml(root / "dpc.yaml"),
        coop_yaml(root / "coop.yaml") {
    world_setup::WorldParams p;
    p.benchmark.classes = {
        {world::Colour::Red, world::Colour::Blue},
        {world::Shape::Circle, world::Shape::Square, world::Shape::Triangle, world::Shape::Star, world::Shape::Heart}};
    p.benchmark.train_per_class = 4;
    p.benchmark.val_per_class = 1;
    p.benchmark.test_per_class = 4;
    p.benchmark.image_size = 32;
    p.write_dg = false;
    p.tokenizer.corpus_captions = 2000;
    world_setup::ensure_world(root, p);
    world::register_world_datasets();
    write(dataset_yaml, R"(DATASET:
  NAME: "world"
  NUM_SHOTS: 4
DATALOADER:
  TRAIN_X:
    BATCH_SIZE: 4
  TEST:
    BATCH_SIZE: 8
  NUM_WORKERS: 1
INPUT:
  SIZE: (32, 32)
  TRANSFORMS: ["random_resized_crop", "random_flip", "normalize"]
  RRCROP_SCALE: (0.5, 1.0)
)");
    write(coop_yaml, R"(OPTIM:
  NAME: "sgd"
  LR: 0.01
  MAX_EPOCH: 2
  LR_SCHEDULER: "cosine"
TRAINER:
  COOP:
    N_CTX: 4
    PREC: "fp32"
)");
    write(dpc_yaml,
          "OPTIM:\n  NAME: \"sgd\"\n  LR: 0.002\n  MAX_EPOCH: 2\n  LR_SCHEDULER: \"cosine\"\n"
          "TRAINER:\n  COOP:\n    PREC: \"fp32\"\n"
          "SPLE:\n  INFER_TOPK: 8\n  STACK:\n    MODE: \"converse\"\n    WEIGHT: 0.2\n    WEIGHT_FOR_NEW: 0.0\n"
          "DPC:\n  BACKBONE: \"CoOp\"\n  BACKBONE_CONFIG: \"" +
              coop_yaml.string() + "\"\n");
  }
  trainer::B2nOptions options(const fs::path& out, std::vector<std::string> opts = {}) const {
    trainer::B2nOptions o;
    o.base.trainer = "DPC";
    o.base.config_file = dpc_yaml.string();
    o.base.dataset_config_file = dataset_yaml.string();
    o.base.root = root.string();
    o.base.model = (test::golden_dir() / "clip_tiny").string();
    o.base.device = "cpu";
    o.base.opts = std::move(opts);
    o.datasets = {"world"};
    o.seeds = {1};
    o.output_dir = out;
    o.quiet_runs = true;
    return o;
  }
};

TEST(DpcWorld, OneBaseToNewCommandRunsBothStagesAndKeepsTheBackbonesNewAccuracy) {
  SmallWorld w("dpc_world");
  const fs::path out = w.root / "b2n";
  trainer::RunLog log(out, true);
  const trainer::B2nTable table = trainer::run_b2n(w.options(out), log);
  const fs::path run = out / "world" / "seed1";
  ASSERT_TRUE(fs::exists(run / "stage1" / "checkpoints" / "epoch-2.safetensors"));
  ASSERT_TRUE(fs::exists(run / "checkpoints" / "epoch-2.safetensors"));

  // The backbone's evaluations in stage 1 and DPC's in stage 2 come from the same run.
  const auto stage1 = read_json(run / "stage1" / "results.json");
  EXPECT_EQ(stage1["method"], "CoOp");
  double stage1_base = -1, stage1_new = -1;
  for (const auto& e : stage1["evaluations"]) (e["subsample"] == "base" ? stage1_base : stage1_new) = e["accuracy"];
  ASSERT_EQ(table.rows.size(), 1u);
  ASSERT_EQ(table.baseline.size(), 1u);
  EXPECT_EQ(table.baseline[0].method, "CoOp");
  EXPECT_EQ(table.baseline[0].rows[0].base, stage1_base);
  EXPECT_EQ(table.baseline[0].rows[0].novel, stage1_new);
  EXPECT_EQ(table.rows[0].novel, stage1_new) << "omega_n = 0: new classes must be classified by P exactly";
  EXPECT_NE(table.markdown().find("| CoOp | Base | New | HM |"), std::string::npos) << table.markdown();

  // Stage 2's steps: 4 anchors plus negatives of classes not in the batch (5 base classes: at most 4).
  std::ifstream metrics(run / "metrics.jsonl");
  int steps = 0;
  for (std::string line; std::getline(metrics, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] != "step") continue;
    ++steps;
    EXPECT_GE(j["built_batch"].get<double>(), 4);
    EXPECT_LE(j["built_batch"].get<double>(), 8);
  }
  EXPECT_GT(steps, 0);

  // Rerun: read back, nothing retrained.
  const trainer::B2nTable again = trainer::run_b2n(w.options(out), log);
  EXPECT_EQ(again.rows[0].base, table.rows[0].base);
  ASSERT_EQ(again.baseline.size(), 1u);

  // Stage 2 only, over the finished stage-1 run: same stage 1, same new-class accuracy.
  const fs::path out2 = w.root / "b2n_reuse";
  const trainer::B2nTable reuse =
      trainer::run_b2n(w.options(out2, {"DPC.BACK_CKPT_PATH", (run / "stage1").string()}), log);
  EXPECT_FALSE(fs::exists(out2 / "world" / "seed1" / "stage1"));
  EXPECT_EQ(reuse.rows[0].novel, stage1_new);
  EXPECT_EQ(reuse.rows[0].base, table.rows[0].base) << "same stage 1, seed and recipe: the same stage 2";

  // Evaluation only, from a fresh folder (the peers' --eval-only --model-dir pattern): the checkpoint's own
  // stage 1 is used. It used to train a new stage 1 there and then refuse the checkpoint.
  {
    trainer::TrainArgs a = w.options(out).base;
    a.seed = 1;
    a.output_dir = (w.root / "eval_new").string();
    a.opts.insert(a.opts.end(), {"DATASET.NAME", "world", "DATASET.SUBSAMPLE_CLASSES", "new"});
    trainer::RunLog quiet({}, true);
    trainer::Trainer t(trainer::build_run_config(a), quiet, nullptr, run);
    t.load(run, 2);
    EXPECT_EQ(t.evaluate(data::Subsample::New).accuracy, table.rows[0].novel);
    EXPECT_FALSE(fs::exists(w.root / "eval_new" / "stage1"));
  }

  // The released configs' PyTorch stage-1 path is refused, naming the key.
  EXPECT_ERROR_CONTAINS(
      trainer::run_b2n(
          w.options(w.root / "b2n_peer", {"SPLE.BACK_CKPT_PATH", "output/x/prompt_learner/model.pth.tar-50"}), log),
      "SPLE.BACK_CKPT_PATH");
  // A stage-1 run of another method than DPC.BACKBONE is refused too.
  EXPECT_ERROR_CONTAINS(trainer::run_b2n(w.options(w.root / "b2n_kg", {"DPC.BACK_CKPT_PATH", (run / "stage1").string(),
                                                                       "DPC.BACKBONE", "KgCoOp"}),
                                         log),
                        "set DPC.BACKBONE CoOp");
}

TEST(DpcWorld, ResumingBetweenEpochsDrawsTheSameNegativesAsAStraightRun) {
  // The fallback draws and the negatives' images come from (seed, global step) streams: a run stopped
  // after epoch 1 and continued gives the straight run's P' bit for bit.
  SmallWorld w("dpc_world_resume");
  auto config = [&](const fs::path& out, int epochs, const std::string& stage1) {
    trainer::TrainArgs a;
    a.trainer = "DPC";
    a.config_file = w.dpc_yaml.string();
    a.dataset_config_file = w.dataset_yaml.string();
    a.root = w.root.string();
    a.model = (test::golden_dir() / "clip_tiny").string();
    a.device = "cpu";
    a.seed = 1;
    a.output_dir = out.string();
    // single_step with STEPSIZE −1 keeps the rate of epochs 1 and 2 the same whatever MAX_EPOCH is.
    a.opts = {"OPTIM.MAX_EPOCH", std::to_string(epochs),      "OPTIM.LR_SCHEDULER",
              "single_step",     "DATASET.SUBSAMPLE_CLASSES", "base"};
    if (!stage1.empty()) a.opts.insert(a.opts.end(), {"DPC.BACK_CKPT_PATH", stage1});
    return trainer::build_run_config(a);
  };
  const fs::path straight = w.root / "straight", resumed = w.root / "resumed";
  {
    trainer::RunLog log(straight, true);
    trainer::Trainer(config(straight, 2, ""), log).train();
  }
  const std::string stage1 = (straight / "stage1").string();
  for (int epochs : {1, 2}) {
    trainer::RunLog log(resumed, true);
    trainer::Trainer(config(resumed, epochs, stage1), log).train();
  }
  const auto a = io::Checkpoint::open(trainer::Trainer::checkpoint_path(straight, 2));
  const auto b = io::Checkpoint::open(trainer::Trainer::checkpoint_path(resumed, 2));
  EXPECT_TRUE(test::bit_equal(a.get("method.dpc.parallel.ctx"), b.get("method.dpc.parallel.ctx")));
  EXPECT_FALSE(test::bit_equal(a.get("method.dpc.parallel.ctx"), a.get("method_state.dpc.tuned.ctx")))
      << "P' must have moved";
}

}  // namespace
}  // namespace clipt
