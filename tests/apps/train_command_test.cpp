// `clipt train` and `clipt classify` as a user runs them, with the inputs and situations that used to
// pass silently: a run folder reused under another recipe, two processes on one folder, `--flag=value`
// forms, duplicated options, `--resume DIR`, a decompression-bomb image, NaN weights, `--top 0`,
// duplicate class names and a `--dtype` that is not a compute precision.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/cli.h"
#include "data/image.h"
#include "engine/io/folder_lock.h"
#include "engine/io/safetensors.h"
#include "methods/trainer/trainer.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;

fs::path tiny_clip() { return test::golden_dir() / "clip_tiny"; }

// Four colour classes in the split_json layout, 4 train / 1 val / 2 test images each.
fs::path make_dataset(const std::string& name) {
  const fs::path root = test::scratch_dir(name);
  const uint8_t colours[4][3] = {{220, 30, 30}, {30, 30, 220}, {30, 200, 40}, {230, 230, 40}};
  const char* classes[4] = {"red", "blue", "green", "yellow"};
  nlohmann::json split = {
      {"train", nlohmann::json::array()}, {"val", nlohmann::json::array()}, {"test", nlohmann::json::array()}};
  fs::create_directories(root / "images");
  for (int c = 0; c < 4; ++c)
    for (int i = 0; i < 7; ++i) {
      data::Image img(32, 32);
      for (size_t k = 0; k < img.pixels.size(); ++k) img.pixels[k] = uint8_t(colours[c][k % 3] + (k / 3 + i) % 17);
      const std::string rel = std::to_string(c) + "_" + std::to_string(i) + ".png";
      data::write_png(root / "images" / rel, img);
      split[i < 4 ? "train" : i < 5 ? "val" : "test"].push_back({rel, c, classes[c]});
    }
  std::ofstream(root / "split.json") << split.dump();
  return root;
}

struct Outcome {
  int rc;
  std::string err, out;
};

Outcome run(std::vector<std::string> args) {
  args.insert(args.begin(), "clipt");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  const int rc = apps::run_cli(int(argv.size()), argv.data());
  std::string out = ::testing::internal::GetCapturedStdout();
  return {rc, ::testing::internal::GetCapturedStderr(), out};
}

std::vector<std::string> train_args(const fs::path& data, const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {
      "train",    "--root", data.string(),  "--trainer",  "CoOp",   "--model", tiny_clip().string(),
      "--device", "cpu",    "--output-dir", out.string(), "--seed", "1"};
  a.insert(a.end(), extra.begin(), extra.end());
  const std::vector<std::string> opts = {"DATASET.NAME",
                                         "split_json",
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
                                         "TRAIN.PRINT_FREQ",
                                         "100"};
  a.insert(a.end(), opts.begin(), opts.end());
  return a;
}

nlohmann::json read_json(const fs::path& f) { return nlohmann::json::parse(std::ifstream(f)); }

TEST(TrainCommand, AFolderTrainedUnderAnotherRecipeIsRefusedBeforeAnythingIsOverwritten) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  ASSERT_EQ(run(train_args(data, out)).rc, 0);
  const std::string config_before = (std::stringstream() << std::ifstream(out / "config.yaml").rdbuf()).str();
  auto other = train_args(data, out, {"OPTIM.LR", "0.5"});
  const Outcome o = run(other);
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("was trained with OPTIM.LR = 0.0003, this run uses 0.5"), std::string::npos) << o.err;
  EXPECT_EQ((std::stringstream() << std::ifstream(out / "config.yaml").rdbuf()).str(), config_before);
  // An evaluation-only key does not decide the weights: the finished run is evaluated again.
  EXPECT_EQ(run(train_args(data, out, {"TEST.SPLIT", "val"})).rc, 0);
  EXPECT_EQ(read_json(out / "results.json")["split"], "val");
}

TEST(TrainCommand, ASecondProcessOnTheFolderFailsNamingTheHolder) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  {
    const io::FolderLock held(out);  // another clipt process working in `out`
    const Outcome o = run(train_args(data, out));
    EXPECT_EQ(o.rc, 1);
    EXPECT_NE(o.err.find("is in use by another clipt process (pid " + std::to_string(::getpid()) + ")"),
              std::string::npos)
        << o.err;
    EXPECT_FALSE(fs::exists(out / "config.yaml"));
  }
  EXPECT_EQ(run(train_args(data, out)).rc, 0);  // released with its holder
}

TEST(TrainCommand, OptionForms) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  ASSERT_EQ(run(train_args(data, out)).rc, 0);
  // --eval-only=true evaluates (it used to train), --eval-only=maybe is refused.
  const fs::path eval = test::scratch_dir("eval");
  ASSERT_EQ(run(train_args(data, eval, {"--eval-only=true", "--model-dir=" + out.string()})).rc, 0);
  EXPECT_FALSE(fs::exists(eval / "checkpoints"));
  EXPECT_TRUE(fs::exists(eval / "results.json"));
  EXPECT_NE(run(train_args(data, eval, {"--eval-only=maybe"})).err.find("--eval-only takes no value"),
            std::string::npos);
  EXPECT_NE(run(train_args(data, eval, {"--seed", "2"})).err.find("option --seed is given twice"), std::string::npos);
  EXPECT_NE(run({"train", "--output-dir", "--seed", "1"}).err.find("option --output-dir needs a value, got --seed"),
            std::string::npos);
  const std::string long_name(5000, 'x');
  const Outcome o = run({"train", "--" + long_name, "1"});
  EXPECT_NE(o.err.find("more characters"), std::string::npos);
  EXPECT_LT(o.err.size(), 400u) << "a long value is cut in the error line";
  EXPECT_NE(run({"b2n", "--resume", out.string()}).err.find("--resume is an option of `clipt train`"),
            std::string::npos);
}

TEST(TrainCommand, B2nChecksEveryDatasetNameBeforeTraining) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("b2n");
  const Outcome o =
      run({"b2n", "--trainer", "CoOp", "--datasets", "split_json,caltech1O1", "--seeds", "1", "--root", data.string(),
           "--model", tiny_clip().string(), "--device", "cpu", "--output-dir", out.string(), "INPUT.SIZE", "(32, 32)"});
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("unknown dataset \"caltech1O1\""), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(out / "split_json")) << "nothing was trained first";
}

TEST(TrainCommand, ResumeDirContinuesFromThatRun) {
  const fs::path data = make_dataset("data"), first = test::scratch_dir("first"), second = test::scratch_dir("second");
  ASSERT_EQ(run(train_args(data, first)).rc, 0);
  // Dassl's --resume DIR: the new folder starts from DIR's newest checkpoint (here: already finished).
  ASSERT_EQ(run(train_args(data, second, {"--resume", first.string()})).rc, 0);
  EXPECT_EQ(trainer::Trainer::latest_checkpoint(second), 0) << "nothing was trained again";
  EXPECT_EQ(read_json(second / "results.json")["epochs"], 1);
  EXPECT_NE(run(train_args(data, test::scratch_dir("third"), {"--resume", (first / "nope").string()}))
                .err.find("no checkpoint there"),
            std::string::npos);
}

TEST(TrainCommand, ADecompressionBombIsRefusedBeforeDecodingNamingTheFile) {
  const fs::path dir = test::scratch_dir("bomb");
  // A valid PNG header claiming 65500×65500 (PIL refuses it too): 4.3 G pixels, 12.9 GB decoded.
  data::Image small(2, 2);
  std::vector<uint8_t> bytes = data::encode_png(small);
  const uint32_t side = 65500;
  for (int k = 0; k < 4; ++k) bytes[16 + k] = bytes[20 + k] = uint8_t(side >> (24 - 8 * k));
  std::ofstream(dir / "bomb.png", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  const Outcome o = run({"classify", "--model", tiny_clip().string(), "--classes", "a,b", (dir / "bomb.png").string()});
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("bomb.png is 65500x65500 = 4290250000 pixels, more than the limit of 89478485"),
            std::string::npos)
      << o.err;
  // A limit raised by the key is honoured (the image then fails on its missing pixel data, not the limit).
  data::set_max_image_pixels(int64_t(side) * side);
  EXPECT_NO_THROW(data::EncodedImage::read(dir / "bomb.png"));
  data::set_max_image_pixels(data::kDefaultMaxImagePixels);
}

TEST(ClassifyCommand, BatchesGiveTheResultsOfOnePassAndNoProgressInPipes) {
  const fs::path dir = test::scratch_dir("classify_batches");
  const uint8_t colours[5][3] = {{220, 30, 30}, {30, 30, 220}, {30, 200, 40}, {230, 230, 40}, {128, 128, 128}};
  std::vector<std::string> args = {"classify",  "--model",        tiny_clip().string(),
                                   "--classes", "red,blue,green", "--json"};
  for (int i = 0; i < 5; ++i) {
    data::Image img(32, 32);
    for (size_t p = 0; p < img.pixels.size(); p += 3)
      for (int c = 0; c < 3; ++c) img.pixels[p + size_t(c)] = colours[i][c];
    const fs::path file = dir / fmt::format("{}.png", i);
    data::write_png(file, img);
    args.push_back(file.string());
  }
  auto with_batch = [&](const char* b) {
    std::vector<std::string> a = args;
    a.insert(a.begin() + 1, {"--batch", b});
    return run(a);
  };
  const Outcome one = with_batch("16"), twos = with_batch("2");
  ASSERT_EQ(one.rc, 0) << one.err;
  ASSERT_EQ(twos.rc, 0) << twos.err;
  // Output that is not a terminal gets no progress: stdout is exactly the JSON object, stderr is empty.
  EXPECT_EQ(twos.err, "");
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(twos.out);
  ASSERT_EQ(b["images"].size(), 5u);
  EXPECT_EQ(a["images"], b["images"]);
  for (size_t i = 0; i < 5; ++i)
    for (size_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(a["logits"][i][k].get<double>(), b["logits"][i][k].get<double>(), 1e-4) << i << "," << k;
      EXPECT_NEAR(a["probs"][i][k].get<double>(), b["probs"][i][k].get<double>(), 1e-6) << i << "," << k;
    }
  EXPECT_NE(with_batch("0").err.find("--batch 0 must be at least 1"), std::string::npos);
}

TEST(ClassifyCommand, BadOptionsAndNanWeightsAreErrors) {
  const fs::path dir = test::scratch_dir("classify");
  data::Image img(32, 32);
  data::write_png(dir / "a.png", img);
  const std::string image = (dir / "a.png").string(), model = tiny_clip().string();
  EXPECT_EQ(run({"classify", "--model", model, "--classes", "a,b", image}).rc, 0);
  EXPECT_NE(run({"classify", "--model", model, "--classes", "a,b", "--top", "0", image}).err.find("--top 0"),
            std::string::npos);
  EXPECT_NE(run({"classify", "--model", model, "--classes", "cat, dog,cat", image}).err.find("'cat' is given twice"),
            std::string::npos);
  EXPECT_NE(run({"classify", "--model", model, "--classes", "a,b", "--dtype", "i64", image})
                .err.find("--dtype 'i64' is not one of fp32, fp16, bf16"),
            std::string::npos);
  // The same CLIP with one NaN in its text projection: an error naming the model, no percentages.
  const fs::path broken = test::scratch_dir("nan_clip");
  for (const char* f : {"config.json", "vocab.json", "merges.txt"}) fs::copy_file(tiny_clip() / f, broken / f);
  const io::SafetensorsFile weights(tiny_clip() / "model.safetensors");
  io::NamedTensors tensors;
  for (const auto& e : weights.entries()) {
    Tensor t = weights.load(e.name, DType::F32).clone();
    if (e.name.find("text_projection") != std::string::npos) t.data<float>()[0] = NAN;
    tensors.push_back({e.name, t});
  }
  io::save_safetensors(broken / "model.safetensors", tensors, weights.metadata());
  const Outcome o = run({"classify", "--model", broken.string(), "--classes", "a,b", image});
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("the model " + broken.string() + " gave a non-finite logit"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace clipt
