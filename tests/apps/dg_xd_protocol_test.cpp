// The DG (leave-one-domain-out) and cross-dataset protocols: the table arithmetic against hand-computed
// values, and small end-to-end runs on a tiny generated world with the tiny random CLIP of
// tests/golden/clip_tiny (ZeroshotCLIP and CoOp, one epoch): which domains each run trains and tests on,
// how many images, that finished runs are read back, and the tables and files written. Also base-to-new's
// shots (16 unless overridden) and its refusal of a run folder made with another recipe.
#include <fstream>
#include <set>

#include "apps/cli.h"
#include "apps/world_xd.h"
#include "data/domains.h"
#include "data/world/benchmark.h"
#include "data/world/world_datasets.h"
#include "methods/trainer/b2n.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/dg.h"
#include "methods/trainer/trainer.h"
#include "methods/trainer/xd.h"
#include "tests/common/test_util.h"

namespace clipt::trainer {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// The lines of a log.txt that start with `prefix` (a sweep's progress lines).
std::vector<std::string> lines_starting(const fs::path& log, const std::string& prefix) {
  std::ifstream in(log);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(prefix)) out.push_back(line);
  return out;
}

TEST(DgProtocol, TableArithmetic) {
  DgTable t;
  t.method = "CoOp";
  t.dataset = "pacs";
  t.shots = 5;
  t.rows = {{"art_painting", {"cartoon", "photo", "sketch"}, {1, 2, 3}, {90.0, 91.0, 95.0}, 0},
            {"cartoon", {"art_painting", "photo", "sketch"}, {1, 2, 3}, {80.0, 82.0, 84.0}, 0},
            {"photo", {}, {1, 2, 3}, {99.0, 99.5, 100.0}, 0},
            {"sketch", {}, {1, 2, 3}, {70.25, 70.25, 70.25}, 0}};
  summarise(t);
  EXPECT_DOUBLE_EQ(t.rows[0].accuracy, 92.0);
  EXPECT_DOUBLE_EQ(t.rows[1].accuracy, 82.0);
  EXPECT_DOUBLE_EQ(t.rows[2].accuracy, 99.5);
  EXPECT_DOUBLE_EQ(t.rows[3].accuracy, 70.25);
  EXPECT_DOUBLE_EQ(t.average, (92.0 + 82.0 + 99.5 + 70.25) / 4);  // 85.9375
  const std::string md = t.markdown();
  EXPECT_NE(md.find("| Method | art_painting | cartoon | photo | sketch | Avg |"), std::string::npos) << md;
  EXPECT_NE(md.find("| CoOp | 92.00 | 82.00 | 99.50 | 70.25 | 85.94 |"), std::string::npos) << md;
  EXPECT_NE(md.find("5 shots per class per source domain"), std::string::npos) << md;
  EXPECT_NE(t.csv().find("CoOp,pacs,5,art_painting,cartoon photo sketch,92.0000,1 2 3,90 91 95"), std::string::npos)
      << t.csv();
  EXPECT_DOUBLE_EQ(t.to_json()["average"].get<double>(), 85.9375);
  // Several methods in one table; different targets are refused.
  DgTable z = t;
  z.method = "ZeroshotCLIP";
  for (auto& r : z.rows) r.per_seed = {50, 60, 70};
  summarise(z);
  const std::string both = dg_comparison_markdown({z, t});
  EXPECT_NE(both.find("| ZeroshotCLIP | 60.00 | 60.00 | 60.00 | 60.00 | 60.00 |"), std::string::npos) << both;
  z.rows.pop_back();
  EXPECT_ERROR_CONTAINS(dg_comparison_markdown({z, t}), "different targets");
  DgTable empty_row = t;
  empty_row.rows[0].per_seed.clear();
  EXPECT_ERROR_CONTAINS(summarise(empty_row), "art_painting");
}

TEST(XdProtocol, TableArithmeticAndTargets) {
  XdTable t;
  t.method = "CoOp";
  t.source = {"imagenet", false, {1, 2}, {71.0, 72.0}, 0};
  t.targets = {{"imagenetv2", true, {1, 2}, {64.0, 65.0}, 0},
               {"imagenet_a", true, {1, 2}, {50.0, 52.0}, 0},
               {"caltech101", false, {1, 2}, {93.0, 94.0}, 0},
               {"eurosat", false, {1, 2}, {40.0, 48.0}, 0},
               {"dtd", false, {1, 2}, {44.0, 44.0}, 0}};
  summarise(t);
  EXPECT_DOUBLE_EQ(t.source.accuracy, 71.5);
  EXPECT_DOUBLE_EQ(t.domain_shift_average, (64.5 + 51.0) / 2);
  EXPECT_DOUBLE_EQ(t.cross_dataset_average, (93.5 + 44.0 + 44.0) / 3);
  const std::string md = t.markdown();
  EXPECT_NE(md.find("| Method | imagenet (source) | imagenetv2 | imagenet_a | Avg |"), std::string::npos) << md;
  EXPECT_NE(md.find("| CoOp | 71.50 | 64.50 | 51.00 | 57.75 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| CoOp | 71.50 | 93.50 | 44.00 | 44.00 | 60.50 |"), std::string::npos) << md;
  EXPECT_NE(t.csv().find("CoOp,Average (cross-dataset),average,60.5000"), std::string::npos) << t.csv();
  // A group without targets has no average row, and null in the JSON.
  XdTable shift_only = t;
  shift_only.targets.resize(2);
  summarise(shift_only);
  EXPECT_EQ(shift_only.csv().find("cross-dataset"), std::string::npos) << shift_only.csv();
  EXPECT_TRUE(shift_only.to_json()["cross_dataset_average"].is_null());
  EXPECT_EQ(shift_only.markdown().find("Cross-dataset"), std::string::npos);
  EXPECT_TRUE(is_domain_shift_target("imagenet", "imagenet_r"));
  EXPECT_FALSE(is_domain_shift_target("imagenet", "ucf101"));
  EXPECT_TRUE(is_domain_shift_target("world", "world_sketch"));
  EXPECT_FALSE(is_domain_shift_target("world", "worldwide"));
  const auto imagenet_targets = default_xd_targets("ImageNet");
  ASSERT_EQ(imagenet_targets.size(), 14u);
  EXPECT_EQ(imagenet_targets[0], "imagenetv2");
  EXPECT_EQ(imagenet_targets[4], "caltech101");
  EXPECT_EQ(imagenet_targets[13], "ucf101");
  EXPECT_ERROR_CONTAINS(default_xd_targets("dtd"), "--targets");
}

// ---- End to end on a tiny world with the tiny random CLIP ----

fs::path tiny_clip() { return test::golden_dir() / "clip_tiny"; }

world::ClassSet tiny_classes() {
  return {{world::Colour::Red, world::Colour::Blue}, {world::Shape::Circle, world::Shape::Square}};
}

TrainArgs tiny_args(const std::string& trainer, const fs::path& root) {
  TrainArgs a;
  a.trainer = trainer;
  a.root = root.string();
  a.model = tiny_clip().string();
  a.device = "cpu";
  a.opts = {"INPUT.SIZE",
            "(32, 32)",
            "INPUT.TRANSFORMS",
            "['random_resized_crop', 'random_flip', 'normalize']",
            "OPTIM.MAX_EPOCH",
            "1",
            "OPTIM.LR",
            "0.002",
            "DATALOADER.TRAIN_X.BATCH_SIZE",
            "4",
            "DATALOADER.TEST.BATCH_SIZE",
            "16",
            "DATALOADER.NUM_WORKERS",
            "0",
            "TRAINER.COOP.N_CTX",
            "2",
            "TRAINER.COOP.PREC",
            "fp32",
            "TRAIN.PRINT_FREQ",
            "1000"};
  return a;
}

class TinyWorld : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(tiny_clip() / "model.safetensors")) GTEST_SKIP() << "no tiny CLIP at " << tiny_clip().string();
    world::register_world_datasets();
  }
};

// The tiny class set as a CoOp-layout world benchmark (1 val and 2 test images per class).
fs::path tiny_world(const std::string& name, int train_per_class) {
  const fs::path root = test::scratch_dir(name);
  world::BenchmarkSpec spec;
  spec.classes = tiny_classes();
  spec.train_per_class = train_per_class;
  spec.val_per_class = 1;
  spec.test_per_class = 2;
  spec.image_size = 32;
  world::write_benchmark(root, spec);
  return root;
}

fs::path tiny_dg_world(const std::string& name) {
  const fs::path root = test::scratch_dir(name);
  world::DgBenchmarkSpec spec;
  spec.classes = tiny_classes();
  spec.domains = {world::Style::Photo, world::Style::Sketch, world::Style::Cartoon};
  spec.train_per_class = 3;
  spec.crossval_per_class = 1;
  spec.image_size = 32;
  world::write_dg_benchmark(root, spec);
  return root;
}

TEST_F(TinyWorld, TrainerSeesSourcesAndTarget) {
  const fs::path root = tiny_dg_world("dg_trainer");
  TrainArgs a = tiny_args("CoOp", root);
  a.output_dir = (root / "run").string();
  a.source_domains = {"cartoon", "photo"};
  a.target_domains = {"sketch"};
  a.opts.insert(a.opts.end(), {"DATASET.NAME", "world_dg", "DATASET.NUM_SHOTS", "2"});
  RunLog log(root / "run", true);
  Trainer t(build_run_config(a), log);
  const auto& s = t.splits();
  EXPECT_EQ(s.domains, (std::vector<std::string>{"cartoon", "photo"}));
  ASSERT_EQ(s.train.size(), 2u * 4u * 2u);  // shots × classes × source domains
  std::set<int64_t> train_domains;
  for (const auto& x : s.train) train_domains.insert(x.domain);
  EXPECT_EQ(train_domains, (std::set<int64_t>{0, 1}));
  ASSERT_EQ(s.test.size(), 4u * 4u);  // the whole target domain: (train + crossval) × classes
  for (const auto& x : s.test) {
    EXPECT_EQ(x.domain, 0);
    EXPECT_NE(x.path.find("/sketch/"), std::string::npos);
  }
  EXPECT_EQ(t.train_classnames().size(), 4u);
}

TEST_F(TinyWorld, DgZeroshotAndCoOp) {
  const fs::path root = tiny_dg_world("dg_protocol");
  RunLog log(root / "log", true);
  DgOptions o;
  o.base = tiny_args("ZeroshotCLIP", root);
  o.dataset = "world_dg";
  o.seeds = {1};
  o.shots = 1;
  o.output_dir = root / "out_zs";
  o.quiet_runs = true;
  const DgTable zs = run_dg(o, log);
  ASSERT_EQ(zs.rows.size(), 3u);
  EXPECT_EQ(zs.rows[0].target, "photo");
  EXPECT_EQ(zs.rows[1].sources, (std::vector<std::string>{"photo", "cartoon"}));
  double sum = 0;
  for (const auto& r : zs.rows) {
    EXPECT_GE(r.accuracy, 0.0);
    EXPECT_LE(r.accuracy, 100.0);
    // 16 test images: an accuracy is a multiple of 100/16.
    EXPECT_NEAR(r.accuracy * 16 / 100, std::round(r.accuracy * 16 / 100), 1e-9) << r.target;
    const auto rec = read_json(o.output_dir / r.target / "seed1" / "dg.json");
    EXPECT_EQ(rec["test_images"].get<int64_t>(), 16);
    EXPECT_EQ(rec["train_images"].get<int64_t>(), 1 * 4 * 2);
    sum += r.accuracy;
  }
  EXPECT_DOUBLE_EQ(zs.average, sum / 3);
  for (const char* f : {"dg.md", "dg.csv", "dg.json"}) EXPECT_TRUE(fs::exists(o.output_dir / f)) << f;
  // The sweep's overall progress: one line per finished run (3 targets × 1 seed) with the ETA.
  const auto progress = lines_starting(root / "log" / "log.txt", "dg ZeroshotCLIP on world_dg [");
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_TRUE(progress[0].starts_with("dg ZeroshotCLIP on world_dg [1/3] 33% elapsed ")) << progress[0];
  EXPECT_NE(progress[0].find(" eta "), std::string::npos) << progress[0];
  EXPECT_TRUE(progress[2].ends_with("eta 0:00:00")) << progress[2];

  // CoOp, two targets, one epoch; a rerun reads the finished runs back instead of training again.
  o.base = tiny_args("CoOp", root);
  o.targets = {"sketch", "cartoon"};
  o.output_dir = root / "out_coop";
  const DgTable coop = run_dg(o, log);
  ASSERT_EQ(coop.rows.size(), 2u);
  EXPECT_EQ(coop.rows[0].target, "sketch");
  const fs::path ckpt = o.output_dir / "sketch" / "seed1" / "checkpoints" / "epoch-1.safetensors";
  ASSERT_TRUE(fs::exists(ckpt));
  const auto stamp = fs::last_write_time(ckpt);
  const DgTable again = run_dg(o, log);
  EXPECT_EQ(fs::last_write_time(ckpt), stamp);
  EXPECT_DOUBLE_EQ(again.average, coop.average);
  // A run made with other settings is neither read back nor resumed: the differing key is named.
  o.shots = 2;
  EXPECT_ERROR_CONTAINS(run_dg(o, log), "was made with DATASET.NUM_SHOTS = 1, this run uses 2");
  // The protocol owns the domain keys.
  o.base.opts.insert(o.base.opts.end(), {"DATASET.SOURCE_DOMAINS", "['photo']"});
  EXPECT_ERROR_CONTAINS(run_dg(o, log), "set by the protocol");
  o.base = tiny_args("CoOp", root);
  o.targets = {"texture"};
  EXPECT_ERROR_CONTAINS(run_dg(o, log), "texture");
}

TEST_F(TinyWorld, XdOnStyleCopies) {
  const fs::path root = tiny_world("xd_world", 3);
  const auto written = apps::ensure_world_style_copies(root, {"world_sketch", "world_noisy"});
  EXPECT_EQ(written, (std::vector<std::string>{"world_sketch", "world_noisy"}));
  EXPECT_TRUE(apps::ensure_world_style_copies(root, {"world_sketch"}).empty());  // already there
  const auto copy = data::read_dataset("world_sketch", root);
  EXPECT_TRUE(copy.test_only);
  EXPECT_EQ(copy.test.size(), 4u * 2u);
  EXPECT_EQ(data::class_names(copy.test), data::class_names(data::read_dataset("world", root).test));

  RunLog log(root / "log", true);
  XdOptions o;
  o.base = tiny_args("CoOp", root);
  o.source = "world";
  o.targets = {"world_sketch", "world_noisy"};
  o.seeds = {1};
  o.shots = 2;
  o.output_dir = root / "out_coop";
  o.quiet_runs = true;
  const XdTable t = run_xd(o, log);
  EXPECT_EQ(t.source.dataset, "world");
  ASSERT_EQ(t.targets.size(), 2u);
  for (const auto& c : t.targets) {
    EXPECT_TRUE(c.domain_shift);
    const auto rec = read_json(o.output_dir / c.dataset / "seed1" / "xd.json");
    EXPECT_EQ(rec["test_images"].get<int64_t>(), 8);
    EXPECT_EQ(rec["classes"].get<int64_t>(), 4);
    // The source run's checkpoint was loaded, not a fresh prompt.
    EXPECT_NE(rec["checkpoint"].get<std::string>().find((o.output_dir / "world" / "seed1" / "checkpoints").string()),
              std::string::npos);
  }
  EXPECT_DOUBLE_EQ(t.domain_shift_average, (t.targets[0].accuracy + t.targets[1].accuracy) / 2);
  EXPECT_EQ(read_json(o.output_dir / "world" / "seed1" / "xd.json")["test_images"].get<int64_t>(), 8);
  for (const char* f : {"xd.md", "xd.csv", "xd.json"}) EXPECT_TRUE(fs::exists(o.output_dir / f)) << f;
  // One progress line per seed (the source's training and the evaluations on every target).
  const auto progress = lines_starting(root / "log" / "log.txt", "xd CoOp from world [");
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_TRUE(progress[0].starts_with("xd CoOp from world [1/1] 100% elapsed ")) << progress[0];

  // Zero-shot CLIP has nothing to load: each target is evaluated with its own class names directly.
  o.base = tiny_args("ZeroshotCLIP", root);
  o.output_dir = root / "out_zs";
  const XdTable z = run_xd(o, log);
  EXPECT_EQ(read_json(o.output_dir / "world_noisy" / "seed1" / "xd.json")["checkpoint"].get<std::string>(),
            "none (no trainable parameters)");
  EXPECT_EQ(z.targets.size(), 2u);
}

int run_command(std::vector<std::string> args) {
  args.insert(args.begin(), "clipt");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return apps::run_cli(int(argv.size()), argv.data());
}

// The commands as a user types them (zero-shot, so it stays cheap): argument handling, the world copies
// made on demand, and the tables written.
TEST_F(TinyWorld, DgAndXdCommands) {
  const fs::path root = tiny_dg_world("cli");
  world::BenchmarkSpec spec;
  spec.classes = tiny_classes();
  spec.train_per_class = 2;
  spec.val_per_class = 1;
  spec.test_per_class = 2;
  spec.image_size = 32;
  world::write_benchmark(root, spec);
  const std::vector<std::string> common = {
      "--root", root.string(), "--model",  tiny_clip().string(),     "--device", "cpu", "--seeds",
      "1",      "INPUT.SIZE",  "(32, 32)", "DATALOADER.NUM_WORKERS", "0"};
  std::vector<std::string> dg = {"dg",      "--trainer", "ZeroshotCLIP", "--dataset",           "world_dg",
                                 "--shots", "1",         "--output-dir", (root / "dg").string()};
  dg.insert(dg.end(), common.begin(), common.end());
  ASSERT_EQ(run_command(dg), 0);
  const auto table = read_json(root / "dg" / "dg.json");
  EXPECT_EQ(table["method"], "ZeroshotCLIP");
  EXPECT_EQ(table["targets"].size(), 3u);

  std::vector<std::string> xd = {
      "xd",           "--trainer",           "ZeroshotCLIP", "--source", "world", "--targets", "world_cartoon",
      "--output-dir", (root / "xd").string()};
  xd.insert(xd.end(), common.begin(), common.end());
  ASSERT_EQ(run_command(xd), 0);
  EXPECT_TRUE(fs::exists(root / "world_cartoon" / "world_spec.json"));  // written on demand
  EXPECT_EQ(read_json(root / "xd" / "xd.json")["targets"][0]["dataset"], "world_cartoon");

  // Bad input: one error, non-zero exit, no table.
  std::vector<std::string> bad = {"dg",    "--trainer",    "ZeroshotCLIP",         "--dataset",
                                  "world", "--output-dir", (root / "bad").string()};
  bad.insert(bad.end(), common.begin(), common.end());
  EXPECT_EQ(run_command(bad), 1);  // world is not a multi-domain dataset
  EXPECT_FALSE(fs::exists(root / "bad" / "dg.json"));
}

// A finished base-to-new run whose recipe has changed is not read back (nor resumed): the differing key
// and both values are named. The demo's flag redoes it instead.
TEST_F(TinyWorld, B2nRefusesARunMadeWithAnotherRecipeAndTheDemoRedoesIt) {
  const fs::path root = tiny_world("b2n_stale", 2);
  RunLog log(root / "log", true);
  B2nOptions o;
  o.base = tiny_args("CoOp", root);
  o.datasets = {"world"};
  o.seeds = {1};
  o.output_dir = root / "out";
  o.quiet_runs = true;
  run_b2n(o, log);
  const fs::path run = o.output_dir / "world" / "seed1";
  const auto stamp = fs::last_write_time(run / "b2n.json");
  run_b2n(o, log);  // same recipe: read back
  EXPECT_EQ(fs::last_write_time(run / "b2n.json"), stamp);
  o.base.opts.insert(o.base.opts.end(), {"OPTIM.LR", "0.01"});
  EXPECT_ERROR_CONTAINS(run_b2n(o, log), "was made with OPTIM.LR = 0.002, this run uses 0.01");
  o.base.opts.insert(o.base.opts.end(), {"DATALOADER.NUM_WORKERS", "1"});  // resources do not make a run stale
  o.replace_stale_runs = true;
  run_b2n(o, log);
  Config redone = default_config();
  redone.merge_from_file(run / "config.yaml");
  EXPECT_DOUBLE_EQ(redone.get_float("OPTIM.LR"), 0.01);
  o.replace_stale_runs = false;
  o.base.opts.insert(o.base.opts.end(), {"DATALOADER.NUM_WORKERS", "0"});
  const auto redone_stamp = fs::last_write_time(run / "b2n.json");
  run_b2n(o, log);
  EXPECT_EQ(fs::last_write_time(run / "b2n.json"), redone_stamp);
}

// Base-to-new trains on 16 shots per base class unless told otherwise (every peer's base2new script
// passes DATASET.NUM_SHOTS 16): the README's command, read back as the run's config.
TEST(B2nProtocol, SixteenShotsUnlessOverridden) {
  B2nOptions o;  // `clipt b2n --trainer CoOp --config-file configs/trainers/CoOp/vit_b16_ctxv1.yaml
                 //  --datasets caltech101 --seeds 1 --root $DATA --output-dir output/b2n/CoOp`
  o.base.trainer = "CoOp";
  o.base.config_file = (test::source_dir() / "configs" / "trainers" / "CoOp" / "vit_b16_ctxv1.yaml").string();
  o.base.root = "/data";
  o.datasets = {"caltech101"};
  o.seeds = {1};
  o.output_dir = "output/b2n/CoOp";
  o.dataset_config_dir = test::source_dir() / "configs" / "datasets";
  auto shots = [&](const B2nOptions& opts) {
    return build_run_config(b2n_run_args(opts, "caltech101", 1)).get_int("DATASET.NUM_SHOTS");
  };
  const Config cfg = build_run_config(b2n_run_args(o, "caltech101", 1));
  EXPECT_EQ(cfg.get_int("DATASET.NUM_SHOTS"), 16);
  EXPECT_EQ(cfg.get_string("DATASET.SUBSAMPLE_CLASSES"), "base");
  EXPECT_EQ(cfg.get_string("DATASET.NAME"), "caltech101");
  EXPECT_EQ(cfg.get_int("OPTIM.MAX_EPOCH"), 200);
  // DATASET.NUM_SHOTS K, --shots K, or a config file that sets it.
  B2nOptions k = o;
  k.base.opts = {"DATASET.NUM_SHOTS", "8"};
  EXPECT_EQ(shots(k), 8);
  k.shots = 8;
  EXPECT_EQ(shots(k), 8);
  k.shots = 4;
  EXPECT_ERROR_CONTAINS(shots(k), "--shots 4 and DATASET.NUM_SHOTS 8 disagree");
  k.base.opts.clear();
  EXPECT_EQ(shots(k), 4);
  const fs::path file = test::scratch_dir("b2n_shots") / "two_shots.yaml";
  std::ofstream(file) << "DATASET:\n  NUM_SHOTS: 2\n";
  B2nOptions f = o;
  f.base.dataset_config_file = file.string();
  EXPECT_EQ(shots(f), 2);
}

// The same as a user types it, end to end on the tiny world (20 training images per class): each run
// trains on 16 per base class and its config.yaml and record say so.
TEST_F(TinyWorld, B2nCommandTrainsOnSixteenShots) {
  const fs::path root = tiny_world("b2n_shots_cli", 20);
  std::vector<std::string> cmd = {"b2n",
                                  "--trainer",
                                  "ZeroshotCLIP",
                                  "--datasets",
                                  "world",
                                  "--seeds",
                                  "1",
                                  "--root",
                                  root.string(),
                                  "--model",
                                  tiny_clip().string(),
                                  "--device",
                                  "cpu",
                                  "INPUT.SIZE",
                                  "(32, 32)",
                                  "DATALOADER.NUM_WORKERS",
                                  "0"};
  auto run = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> c = cmd;
    c.insert(c.end(), {"--output-dir", (root / out).string()});
    c.insert(c.end(), extra.begin(), extra.end());
    return run_command(c);
  };
  ASSERT_EQ(run("default", {}), 0);
  const fs::path rundir = root / "default" / "world" / "seed1";
  const auto record = read_json(rundir / "b2n.json");
  EXPECT_EQ(record["shots"].get<int64_t>(), 16);
  EXPECT_EQ(record["train_images"].get<int64_t>(), 16 * 2);  // 2 base classes of 4
  Config saved = default_config();
  saved.merge_from_file(rundir / "config.yaml");
  EXPECT_EQ(saved.get_int("DATASET.NUM_SHOTS"), 16);
  ASSERT_EQ(run("four", {"--shots", "4"}), 0);
  EXPECT_EQ(read_json(root / "four" / "world" / "seed1" / "b2n.json")["train_images"].get<int64_t>(), 4 * 2);
  ASSERT_EQ(run("all", {"DATASET.NUM_SHOTS", "-1"}), 0);
  EXPECT_EQ(read_json(root / "all" / "world" / "seed1" / "b2n.json")["train_images"].get<int64_t>(), 20 * 2);
  EXPECT_EQ(run("bad", {"--shots", "4", "DATASET.NUM_SHOTS", "8"}), 1);
  EXPECT_FALSE(fs::exists(root / "bad" / "b2n.json"));
}

// A per-dataset config picks each run's recipe (b2n per dataset, dg per dataset, xd the source's for the
// source run and its evaluations), and a run folder made with another per-dataset config is refused.
TEST_F(TinyWorld, PerDatasetConfigsChooseEachRunsRecipe) {
  const fs::path root = tiny_world("per_dataset", 2);
  auto config_file = [&](const std::string& name, double lr) {
    const fs::path f = root / name;
    std::ofstream(f) << "OPTIM:\n  LR: " << lr << "\n";
    return f.string();
  };
  // The tiny arguments without their OPTIM.LR override, so the config files' learning rates show.
  auto args = [&](const std::string& trainer, const fs::path& at) {
    TrainArgs a = tiny_args(trainer, at);
    const auto lr = std::find(a.opts.begin(), a.opts.end(), "OPTIM.LR");
    a.opts.erase(lr, lr + 2);
    return a;
  };
  auto saved_lr = [](const fs::path& run) {
    Config c = default_config();
    c.merge_from_file(run / "config.yaml");
    return c.get_float("OPTIM.LR");
  };
  RunLog log(root / "log", true);
  B2nOptions o;
  o.base = args("ZeroshotCLIP", root);
  o.base.opts.insert(o.base.opts.end(), {"DATASET.NUM_SHOTS", "1"});
  o.base.config_file = config_file("default.yaml", 0.001);
  o.config_file_for = {{"world", config_file("world.yaml", 0.005)}};
  o.datasets = {"world"};
  o.seeds = {1};
  o.output_dir = root / "b2n";
  o.quiet_runs = true;
  run_b2n(o, log);
  EXPECT_DOUBLE_EQ(saved_lr(o.output_dir / "world" / "seed1"), 0.005);
  run_b2n(o, log);  // same recipe: read back
  o.config_file_for = {{"world", config_file("world_other.yaml", 0.007)}};
  EXPECT_ERROR_CONTAINS(run_b2n(o, log), "was made with OPTIM.LR = 0.005, this run uses 0.007");

  XdOptions x;
  x.base = o.base;
  x.config_file_for = {{"world", config_file("world_xd.yaml", 0.003)}};
  x.source = "world";
  x.targets = {"world_sketch"};
  x.seeds = {1};
  x.shots = 1;
  x.output_dir = root / "xd";
  x.quiet_runs = true;
  apps::ensure_world_style_copies(root, {"world_sketch"});
  x.base.opts = args("ZeroshotCLIP", root).opts;
  run_xd(x, log);
  EXPECT_DOUBLE_EQ(saved_lr(x.output_dir / "world" / "seed1"), 0.003);
  EXPECT_DOUBLE_EQ(saved_lr(x.output_dir / "world_sketch" / "seed1"), 0.003);  // evaluated as trained

  const fs::path dg_root = tiny_dg_world("per_dataset_dg");
  DgOptions d;
  d.base = args("ZeroshotCLIP", dg_root);
  d.base.config_file = o.base.config_file;
  d.config_file_for = {{"world_dg", config_file("world_dg.yaml", 0.004)}};
  d.dataset = "world_dg";
  d.targets = {"sketch"};
  d.seeds = {1};
  d.shots = 1;
  d.output_dir = dg_root / "dg";
  d.quiet_runs = true;
  run_dg(d, log);
  EXPECT_DOUBLE_EQ(saved_lr(d.output_dir / "sketch" / "seed1"), 0.004);
}

}  // namespace
}  // namespace clipt::trainer
