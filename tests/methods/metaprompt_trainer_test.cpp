// MetaPrompt and the deep-prompt methods under the trainer, on a generated dataset and the tiny golden
// CLIP: a run interrupted in the middle of an epoch resumes bit-identically (the meta step's class halves
// are drawn from (seed, global step), not from a stream that a restart would reset), and every method
// trains, checkpoints its prompts and evaluates on base and new classes.
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/image.h"
#include "engine/io/checkpoint.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/trainer.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;

// Eight colour/texture classes of 32×32 images in the generic split_json layout.
fs::path make_dataset(const std::string& name) {
  const fs::path root = test::scratch_dir(name);
  nlohmann::json split = {
      {"train", nlohmann::json::array()}, {"val", nlohmann::json::array()}, {"test", nlohmann::json::array()}};
  const std::vector<std::string> classes{"red circle", "blue square", "green triangle", "small star",
                                         "dog",        "cat",         "red square",     "blue circle"};
  for (int c = 0; c < 8; ++c) {
    fs::create_directories(root / "images" / std::to_string(c));
    for (int i = 0; i < 8; ++i) {
      data::Image img(32, 32);
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x)
          for (int k = 0; k < 3; ++k)
            img.at(x, y, k) = uint8_t((c * 37 * (k + 1) + (x * (c + 1) + y * (k + 2) + i * 11) % 61) % 256);
      const std::string rel = std::to_string(c) + "/" + std::to_string(i) + ".png";
      data::write_png(root / "images" / rel, img);
      split[i < 5 ? "train" : i < 6 ? "val" : "test"].push_back({rel, c, classes[size_t(c)]});
    }
  }
  std::ofstream(root / "split.json") << split.dump();
  return root;
}

Config run_config(const fs::path& data, const fs::path& out, const std::string& trainer,
                  std::vector<std::string> overrides = {}) {
  Config cfg = default_config();
  std::vector<std::string> base = {"TRAINER.NAME",
                                   trainer,
                                   "TRAINER.META.LAYERS",
                                   "2",
                                   "TRAINER.META.PREC",
                                   "fp32",
                                   "TRAINER.IVLP.PROMPT_DEPTH_TEXT",
                                   "2",
                                   "TRAINER.IVLP.PROMPT_DEPTH_VISION",
                                   "2",
                                   "TRAINER.IVLP.PREC",
                                   "fp32",
                                   "TRAINER.MAPLE.PROMPT_DEPTH",
                                   "2",
                                   "TRAINER.MAPLE.PREC",
                                   "fp32",
                                   "DATASET.NAME",
                                   "split_json",
                                   "DATASET.ROOT",
                                   data.string(),
                                   "DATASET.NUM_SHOTS",
                                   "4",
                                   "DATASET.SUBSAMPLE_CLASSES",
                                   "base",
                                   "INPUT.SIZE",
                                   "(32, 32)",
                                   "INPUT.INTERPOLATION",
                                   "bicubic",
                                   "INPUT.TRANSFORMS",
                                   "['random_resized_crop', 'random_flip', 'normalize']",
                                   "INPUT.PIXEL_MEAN",
                                   "[0.48145466, 0.4578275, 0.40821073]",
                                   "INPUT.PIXEL_STD",
                                   "[0.26862954, 0.26130258, 0.27577711]",
                                   "OPTIM.NAME",
                                   "sgd",
                                   "OPTIM.LR",
                                   "0.05",
                                   "OPTIM.MAX_EPOCH",
                                   "3",
                                   "OPTIM.LR_SCHEDULER",
                                   "cosine",
                                   "OPTIM.WARMUP_EPOCH",
                                   "1",
                                   "OPTIM.WARMUP_TYPE",
                                   "constant",
                                   "DATALOADER.TRAIN_X.BATCH_SIZE",
                                   "4",
                                   "DATALOADER.NUM_WORKERS",
                                   "2",
                                   "OUTPUT_DIR",
                                   out.string(),
                                   "SEED",
                                   "1",
                                   "TRAIN.PRINT_FREQ",
                                   "1",
                                   "CLIPT.MODEL_DIR",
                                   (test::golden_dir() / "clip_tiny").string(),
                                   "CLIPT.DEVICE",
                                   "cpu"};
  base.insert(base.end(), overrides.begin(), overrides.end());
  cfg.merge_from_list(base);
  cfg.freeze();
  return cfg;
}

std::vector<Tensor> prompts_of(trainer::Trainer& t) {
  std::vector<Tensor> out;
  for (auto& [n, p] : t.method().trainable_parameters()) out.push_back(p.detach().clone());
  return out;
}

TEST(MetaPromptTrainer, InterruptedRunResumesBitIdentically) {
  const fs::path data = make_dataset("data");
  const fs::path straight = test::scratch_dir("straight"), interrupted = test::scratch_dir("interrupted");
  trainer::RunLog log(straight, true);
  trainer::Trainer reference(run_config(data, straight, "MetaPrompt"), log);
  reference.train();
  // 4 base classes: two halves of 2, so the meta step runs (the step records say how many episodes).
  std::ifstream metrics(straight / "metrics.jsonl");
  int steps_with_episodes = 0;
  for (std::string line; std::getline(metrics, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("type", "") == "step" && j.value("meta_episodes", 0.0) > 0) ++steps_with_episodes;
  }
  EXPECT_GT(steps_with_episodes, 0);

  std::atomic<bool> stop{false};
  trainer::RunLog quiet({}, true);
  {
    trainer::Trainer first(run_config(data, interrupted, "MetaPrompt"), quiet, &stop);
    first.set_after_step([&](int64_t step) {
      if (step == 6) stop = true;  // in the middle of the second epoch (4 steps per epoch)
    });
    EXPECT_THROW(first.train(), Interrupted);
  }
  trainer::Trainer resumed(run_config(data, interrupted, "MetaPrompt"), quiet);
  resumed.train();
  const auto a = prompts_of(resumed), b = prompts_of(reference);
  ASSERT_EQ(a.size(), 2u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(test::bit_equal(a[i], b[i])) << "prompt tensor " << i;
}

class DeepPromptTrainer : public ::testing::TestWithParam<std::string> {};

TEST_P(DeepPromptTrainer, TrainsCheckpointsAndEvaluatesBaseAndNew) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  trainer::Trainer t(run_config(data, out, GetParam(), {"OPTIM.MAX_EPOCH", "2"}), log);
  const auto before = prompts_of(t);
  t.train();
  const auto after = prompts_of(t);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_FALSE(test::bit_equal(before[i], after[i])) << i;
  const io::Checkpoint ck = io::Checkpoint::open(trainer::Trainer::checkpoint_path(out, 2));
  for (auto& [name, p] : t.method().trainable_parameters()) EXPECT_TRUE(ck.contains("method." + name)) << name;
  const trainer::EvalResult base = t.evaluate(data::Subsample::Base), novel = t.evaluate(data::Subsample::New);
  EXPECT_EQ(base.num_classes, 4);
  EXPECT_EQ(novel.num_classes, 4);
  EXPECT_EQ(base.total, 8);  // 4 classes × 2 test images
  EXPECT_EQ(novel.total, 8);
  // A fresh trainer that loads the checkpoint predicts the same.
  trainer::Trainer loaded(run_config(data, test::scratch_dir("eval"), GetParam(), {"OPTIM.MAX_EPOCH", "2"}), log);
  loaded.load(out);
  EXPECT_EQ(loaded.evaluate(data::Subsample::New).correct, novel.correct);
}

INSTANTIATE_TEST_SUITE_P(Methods, DeepPromptTrainer, ::testing::Values("IVLP", "MaPLe", "MetaPrompt"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace clipt
