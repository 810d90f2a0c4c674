// End to end on a tiny built-in world (2 training images per class, 32-pixel images) with a generated
// CLIP: `clipt b2n --trainer GCSCoOp` trains on the base classes and reports base/new/HM, and
// `clipt eval` on the run reports its training loss, sharpness and accuracies. Checks plumbing, not
// accuracy (the CLIP is random).
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "engine/ops/random.h"
#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"
#include "models/world/ensure_world.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << p;
  return nlohmann::json::parse(in);
}

TEST(GcscoopWorld, BaseToNewThenSharpnessReport) {
  const fs::path root = test::scratch_dir("gcscoop_world");
  world_setup::WorldParams p;
  p.benchmark.train_per_class = 2;
  p.benchmark.val_per_class = 1;
  p.benchmark.test_per_class = 1;
  p.benchmark.image_size = 32;
  p.write_dg = false;
  p.tokenizer.corpus_captions = 500;
  const world_setup::WorldPaths w = world_setup::ensure_world(root, p);

  // A small random CLIP that speaks the world tokenizer.
  const clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(w.tokenizer_dir);
  clip::ClipConfig c;
  c.vocab_size = tok.vocab_size();
  c.text = {64, 2, 2, 128, "quick_gelu", 1e-5};
  c.vision = {64, 2, 2, 128, "quick_gelu", 1e-5};
  c.image_size = 32;
  c.patch_size = 8;
  c.projection_dim = 32;
  Generator gen(3);
  clip::ClipModel model(c, gen);
  const fs::path model_dir = root / "clip";
  clip::save_clip(model, model_dir);
  tok.write_hf_files(model_dir);

  const fs::path out = root / "b2n";
  const std::string configs = (test::source_dir() / "configs" / "world").string();
  const apps::CommandArgs b2n{"--trainer",
                              "GCSCoOp",
                              "--config-file",
                              configs + "/GCSCoOp.yaml",
                              "--dataset-config-file",
                              configs + "/dataset.yaml",
                              "--datasets",
                              "world",
                              "--seeds",
                              "1",
                              "--root",
                              root.string(),
                              "--model",
                              model_dir.string(),
                              "--output-dir",
                              out.string(),
                              "--device",
                              "cpu",
                              "INPUT.SIZE",
                              "(32, 32)",
                              "OPTIM.MAX_EPOCH",
                              "2",
                              "DATASET.NUM_SHOTS",
                              "2",
                              "DATALOADER.TRAIN_X.BATCH_SIZE",
                              "16",
                              "DATALOADER.NUM_WORKERS",
                              "0"};
  ASSERT_EQ(apps::cmd_b2n(b2n), 0);
  const nlohmann::json table = read_json(out / "b2n.json");
  EXPECT_EQ(table.at("method"), "GCSCoOp");
  const auto& avg = table.at("average");
  for (const char* k : {"base", "new", "hm"}) {
    EXPECT_GE(avg.at(k).get<double>(), 0.0) << k;
    EXPECT_LE(avg.at(k).get<double>(), 100.0) << k;
  }
  // The GCSAM step logged its region counts and the loss at the ascent point.
  const fs::path run = out / "world" / "seed1";
  std::ifstream metrics(run / "metrics.jsonl");
  bool saw_step = false;
  for (std::string line; std::getline(metrics, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.at("type") != "step") continue;
    saw_step = true;
    EXPECT_TRUE(j.contains("loss_perturbed"));
    EXPECT_EQ(
        j.at("gcsam_sam").get<double>() + j.at("gcsam_projected").get<double>() + j.at("gcsam_plain").get<double>(),
        1.0);
  }
  EXPECT_TRUE(saw_step);

  ASSERT_EQ(apps::cmd_eval({"--model-dir", run.string(), "--rho", "0.05"}), 0);
  const nlohmann::json report = read_json(run / "eval" / "sharpness.json");
  EXPECT_EQ(report.at("method"), "GCSCoOp");
  EXPECT_EQ(report.at("epoch"), 2);
  EXPECT_DOUBLE_EQ(report.at("sharpness").at("rho").get<double>(), 0.05);
  EXPECT_EQ(report.at("sharpness").at("train_images").get<int64_t>(), 2 * 32);  // 2 shots × 32 base classes
  EXPECT_GE(report.at("sharpness").at("sharpness").get<double>(), 0.0);
  ASSERT_EQ(report.at("evaluations").size(), 2u);  // base and new
  // Deterministic: a second report gives the same numbers.
  ASSERT_EQ(apps::cmd_eval({"--model-dir", run.string(), "--rho", "0.05", "--output-dir", (root / "eval2").string()}),
            0);
  const nlohmann::json again = read_json(root / "eval2" / "sharpness.json");
  EXPECT_EQ(again.at("sharpness"), report.at("sharpness"));
}

}  // namespace
}  // namespace clipt
