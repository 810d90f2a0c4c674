// `clipt profile` and `clipt train --profile N` as a user runs them: the JSON summary, trace, roofline and
// report files; module paths of a real (tiny) CLIP; bad options rejected with one error.
#include <gtest/gtest.h>

#include <fstream>

#include "apps/cli.h"
#include "data/world/benchmark.h"
#include "tests/common/test_util.h"

namespace clipt::apps {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = 0;
  std::string out, err;
};

CliRun run_clipt(std::vector<std::string> args) {
  args.insert(args.begin(), "clipt");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  CliRun r;
  r.exit_code = run_cli(int(argv.size()), argv.data());
  std::fflush(stdout);
  r.out = testing::internal::GetCapturedStdout();
  r.err = testing::internal::GetCapturedStderr();
  return r;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t op_events(const nlohmann::json& trace) {
  size_t n = 0;
  for (const auto& e : trace["traceEvents"]) n += e.value("cat", "") == "op";
  return n;
}

fs::path tiny_clip() { return test::golden_dir() / "clip_tiny"; }

TEST(ProfileCommand, CoopTrainingStepOnRandomWeights) {
  const fs::path dir = test::scratch_dir("profile_command");
  const CliRun r = run_clipt({"profile",  "--arch",
                              "world",    "--device",
                              "cpu",      "--steps",
                              "2",        "--warmup",
                              "1",        "--classes",
                              "3",        "--batch",
                              "2",        "--json",
                              "--trace",  (dir / "t.json").string(),
                              "--svg",    (dir / "r.svg").string(),
                              "--report", (dir / "r.md").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["steps"], 2);
  EXPECT_EQ(s["device"], "cpu");
  EXPECT_EQ(s["by_kind"][0]["key"], "gemm");
  for (const char* phase : {"data", "forward", "backward", "optimizer"})
    EXPECT_GT(s["phases"][phase]["ops"].get<double>(), 0) << phase;
  const nlohmann::json trace = read_json(dir / "t.json");
  EXPECT_DOUBLE_EQ(double(op_events(trace)), 2 * s["ops"].get<double>());
  EXPECT_EQ(read_text(dir / "r.svg").rfind("<svg", 0), 0u);
  EXPECT_NE(read_text(dir / "r.md").find("## By op kind"), std::string::npos);
}

TEST(ProfileCommand, ImageTowerOfAConvertedModel) {
  if (!fs::exists(tiny_clip() / "model.safetensors")) GTEST_SKIP() << "no tiny CLIP at " << tiny_clip().string();
  const CliRun r = run_clipt({"profile", "--model", tiny_clip().string(), "--what", "image", "--device", "cpu",
                              "--steps", "1", "--warmup", "0", "--json", "--top", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = nlohmann::json::parse(r.out);
  std::set<std::string> modules;
  for (const auto& m : s["by_module"]) modules.insert(m["key"]);
  EXPECT_TRUE(modules.count("visual.transformer.resblocks.0.attn")) << s["by_module"].dump();
  EXPECT_TRUE(modules.count("visual.transformer.resblocks.0.mlp.c_fc"));
  EXPECT_EQ(s["phases"]["backward"]["ops"], 0.0);
}

// The text tower at the world model's own context length (32, not CLIP's 77), on random weights.
TEST(ProfileCommand, TextTowerOfTheWorldShape) {
  const CliRun r = run_clipt({"profile", "--arch", "world", "--what", "text", "--device", "cpu", "--steps", "1",
                              "--warmup", "0", "--classes", "4", "--json", "--top", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = nlohmann::json::parse(r.out);
  std::set<std::string> modules;
  for (const auto& m : s["by_module"]) modules.insert(m["key"]);
  EXPECT_TRUE(modules.count("text.token_embedding")) << s["by_module"].dump();
  EXPECT_TRUE(modules.count("text.transformer.resblocks.0.attn"));
  EXPECT_FALSE(modules.count("visual.transformer.resblocks.0.attn"));
  EXPECT_NE(s["title"].get<std::string>().find("CLIP text forward"), std::string::npos);
}

TEST(ProfileCommand, BadOptions) {
  CliRun r = run_clipt({"profile", "--arch", "world", "--what", "everything", "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--what must be train, eval, image or text, got 'everything'"), std::string::npos) << r.err;
  r = run_clipt({"profile", "--arch", "vit_b99", "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown CLIP architecture 'vit_b99'"), std::string::npos) << r.err;
  r = run_clipt({"profile", "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--arch"), std::string::npos) << r.err;
}

// A real run: steps after the first are profiled and the files land in OUTPUT_DIR/profile.
TEST(ProfileCommand, TrainProfilesARealRun) {
  if (!fs::exists(tiny_clip() / "model.safetensors")) GTEST_SKIP() << "no tiny CLIP at " << tiny_clip().string();
  const fs::path root = test::scratch_dir("profile_train");
  world::BenchmarkSpec spec;
  spec.classes = {{world::Colour::Red, world::Colour::Blue}, {world::Shape::Circle, world::Shape::Square}};
  spec.train_per_class = 2;
  spec.val_per_class = 1;
  spec.test_per_class = 1;
  spec.image_size = 32;
  world::write_benchmark(root, spec);
  const fs::path out = root / "run";
  const CliRun r = run_clipt({"train",
                              "--trainer",
                              "CoOp",
                              "--root",
                              root.string(),
                              "--model",
                              tiny_clip().string(),
                              "--device",
                              "cpu",
                              "--output-dir",
                              out.string(),
                              "--profile",
                              "2",
                              "DATASET.NAME",
                              "world",
                              "DATASET.NUM_SHOTS",
                              "2",
                              "INPUT.SIZE",
                              "(32, 32)",
                              "OPTIM.MAX_EPOCH",
                              "1",
                              "DATALOADER.TRAIN_X.BATCH_SIZE",
                              "2",
                              "DATALOADER.NUM_WORKERS",
                              "0",
                              "TRAINER.COOP.N_CTX",
                              "2",
                              "TRAINER.COOP.PREC",
                              "fp32",
                              "TEST.NO_TEST",
                              "True"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = read_json(out / "profile" / "profile.json");
  EXPECT_EQ(s["steps"], 2);  // 8 images in batches of 2: 4 steps, the first is the warm-up
  EXPECT_GT(s["phases"]["data"]["wall_ms"].get<double>(), 0);
  EXPECT_GT(s["phases"]["backward"]["ops"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(double(op_events(read_json(out / "profile" / "trace.json"))), 2 * s["ops"].get<double>());
  EXPECT_TRUE(fs::exists(out / "profile" / "roofline.svg"));
  EXPECT_NE(read_text(out / "profile" / "report.md").find("CoOp training step"), std::string::npos);
}

}  // namespace
}  // namespace clipt::apps
