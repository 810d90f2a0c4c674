// The trainer end to end on a generated dataset and the tiny golden CLIP: checkpoints, resume after an
// interruption (bit-identical to an uninterrupted run), epoch-boundary resume, evaluation, and the
// clear errors for bad input (unknown trainer/dataset/key, missing weights, class-count mismatch, NaN).
#include "methods/trainer/trainer.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "data/image.h"
#include "engine/io/checkpoint.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"
#include "tests/methods/trainer_fixture.h"

namespace clipt {
namespace {

using test::trainer_fixture::context_of;
using test::trainer_fixture::make_dataset;
using test::trainer_fixture::run_config;
namespace fs = std::filesystem;

TEST(Trainer, TrainsCheckpointsAndEvaluates) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log(out, true);
  trainer::Trainer t(run_config(data, out), log);
  const Tensor before = context_of(t);
  t.train();
  EXPECT_EQ(t.epochs_done(), 3);
  EXPECT_FALSE(test::bit_equal(before, context_of(t)));
  EXPECT_TRUE(fs::exists(trainer::Trainer::checkpoint_path(out, 3)));
  EXPECT_FALSE(fs::exists(trainer::Trainer::checkpoint_path(out, 2))) << "only the newest epoch is kept";
  const io::Checkpoint ck = io::Checkpoint::open(trainer::Trainer::checkpoint_path(out, 3));
  EXPECT_EQ(ck.meta()["epochs_done"], 3);
  EXPECT_TRUE(ck.contains("method.prompt_learner.ctx"));
  EXPECT_TRUE(ck.contains("optim.0.momentum_buffer"));
  const trainer::EvalResult base = t.evaluate(data::Subsample::Base), novel = t.evaluate(data::Subsample::New);
  EXPECT_EQ(base.num_classes, 2);
  EXPECT_EQ(base.total, 4);  // 2 base classes × 2 test images
  EXPECT_EQ(novel.total, 4);
  t.write_results({base, novel}, out / "results.json");
  nlohmann::json r = nlohmann::json::parse(std::ifstream(out / "results.json"));
  EXPECT_EQ(r["method"], "CoOp");
  EXPECT_EQ(r["evaluations"].size(), 2u);
  // A finished run is not retrained.
  trainer::Trainer again(run_config(data, out), log);
  again.train();
  EXPECT_TRUE(test::bit_equal(context_of(again), context_of(t)));
}

TEST(Trainer, InterruptedRunResumesBitIdentically) {
  const fs::path data = make_dataset("data");
  const fs::path straight = test::scratch_dir("straight"), interrupted = test::scratch_dir("interrupted");
  trainer::RunLog log({}, true);
  trainer::Trainer reference(run_config(data, straight), log);
  reference.train();

  std::atomic<bool> stop{false};
  {
    trainer::Trainer first(run_config(data, interrupted), log, &stop);
    first.set_after_step([&](int64_t step) {
      if (step == 4) stop = true;  // a Ctrl-C in the middle of the second epoch (3 steps per epoch)
    });
    EXPECT_THROW(first.train(), Interrupted);
  }
  EXPECT_TRUE(fs::exists(interrupted / "checkpoints" / "resume.safetensors"));
  trainer::Trainer resumed(run_config(data, interrupted), log);
  resumed.train();
  EXPECT_TRUE(test::bit_equal(context_of(resumed), context_of(reference)));
  EXPECT_FALSE(fs::exists(interrupted / "checkpoints" / "resume.safetensors"));
}

// The epoch record of metrics.jsonl for an epoch interrupted and resumed covers the whole epoch: the same
// loss and training accuracy as the uninterrupted run's (the running sums travel in the resume state).
TEST(Trainer, ResumedEpochRecordCoversTheWholeEpoch) {
  const fs::path data = make_dataset("data");
  const fs::path straight = test::scratch_dir("straight"), interrupted = test::scratch_dir("interrupted");
  auto epoch_records = [](const fs::path& run) {
    std::vector<nlohmann::json> out;
    std::ifstream in(run / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      if (j["type"] == "epoch") out.push_back(j);
    }
    return out;
  };
  {
    trainer::RunLog log(straight, true);
    trainer::Trainer(run_config(data, straight), log).train();
  }
  std::atomic<bool> stop{false};
  {
    trainer::RunLog log(interrupted, true);
    trainer::Trainer first(run_config(data, interrupted), log, &stop);
    first.set_after_step([&](int64_t step) {
      if (step == 4) stop = true;  // in the middle of the second epoch (3 steps per epoch)
    });
    EXPECT_THROW(first.train(), Interrupted);
  }
  {
    trainer::RunLog log(interrupted, true);
    trainer::Trainer(run_config(data, interrupted), log).train();
  }
  const auto a = epoch_records(straight), b = epoch_records(interrupted);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(a[e]["loss"].get<double>(), b[e]["loss"].get<double>()) << "epoch " << e + 1;
    EXPECT_EQ(a[e]["train_accuracy"].get<double>(), b[e]["train_accuracy"].get<double>()) << "epoch " << e + 1;
  }
}

TEST(Trainer, ResumesFromAnEpochCheckpoint) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  const Config cfg = run_config(data, out, {"TRAIN.CHECKPOINT_FREQ", "1"});
  trainer::Trainer reference(cfg, log);
  reference.train();
  ASSERT_TRUE(fs::exists(trainer::Trainer::checkpoint_path(out, 2)));
  fs::remove(trainer::Trainer::checkpoint_path(out, 3));
  trainer::Trainer resumed(cfg, log);
  resumed.train();
  EXPECT_TRUE(test::bit_equal(context_of(resumed), context_of(reference)));
}

TEST(Trainer, NanLossStopsNamingTheStepAndCheckpoint) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  trainer::Trainer t(run_config(data, out, {"OPTIM.LR", "1e38", "OPTIM.WARMUP_EPOCH", "0"}), log);
  EXPECT_ERROR_CONTAINS(t.train(), "loss is");
}

// A NaN loss is found where the window of steps is read, which is always before a checkpoint: with one read
// per epoch (PRINT_FREQ above the epoch's batches) the diverged run writes no checkpoint at all.
TEST(Trainer, NonFiniteLossStopsBeforeAnyCheckpointIsWritten) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  trainer::Trainer t(run_config(data, out, {"OPTIM.LR", "1e38", "OPTIM.WARMUP_EPOCH", "0", "TRAIN.PRINT_FREQ", "100"}),
                     log);
  EXPECT_ERROR_CONTAINS(t.train(), "at epoch 1 iteration");
  EXPECT_EQ(trainer::Trainer::latest_checkpoint(out), 0);
  EXPECT_FALSE(fs::exists(out / "checkpoints" / "resume.safetensors"));
}

// Parameters that went non-finite after the last read (here: poisoned after the epoch's last step) are
// caught before the epoch checkpoint is written.
TEST(Trainer, NonFiniteParametersAreNeverCheckpointed) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  int64_t steps = 0;
  {
    trainer::Trainer count(run_config(data, test::scratch_dir("count")), log);
    count.set_after_step([&](int64_t) { ++steps; });
    count.train();
  }
  const int64_t batches = steps / 3;  // 3 epochs
  trainer::Trainer t(run_config(data, out), log);
  t.set_after_step([&](int64_t step) {
    if (step != batches - 1) return;  // the first epoch's last step: read, not yet checkpointed
    Tensor ctx = t.method().trainable_parameters().at(0).second;
    NoGrad ng;
    ctx.fill_(std::nan(""));
  });
  EXPECT_ERROR_CONTAINS(t.train(), "parameter 'prompt_learner.ctx' is not finite after epoch 1");
  EXPECT_EQ(trainer::Trainer::latest_checkpoint(out), 0);
}

// The records of a run that reads loss and accuracy once per window (PRINT_FREQ 2, and 100: once per
// epoch) are those of a run that reads them after every step (PRINT_FREQ 1): bit-equal epoch figures
// and, at the steps both log, the same step loss.
TEST(Trainer, WindowedReadsKeepThePerStepValues) {
  const fs::path data = make_dataset("data");
  auto records = [&](const std::string& print_freq) {
    const fs::path out = test::scratch_dir("run_pf" + print_freq);
    {
      trainer::RunLog log(out, true);
      trainer::Trainer(run_config(data, out, {"TRAIN.PRINT_FREQ", print_freq}), log).train();
    }
    std::map<std::string, std::vector<nlohmann::json>> by_type;
    std::ifstream in(out / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      by_type[j["type"].get<std::string>()].push_back(j);
    }
    return by_type;
  };
  auto every = records("1");
  std::map<int64_t, double> step_loss;
  for (const auto& j : every["step"]) step_loss[j["step"].get<int64_t>()] = j["loss"].get<double>();
  for (const std::string pf : {"2", "100"}) {
    auto windowed = records(pf);
    ASSERT_EQ(windowed["epoch"].size(), every["epoch"].size());
    for (size_t e = 0; e < every["epoch"].size(); ++e) {
      EXPECT_EQ(windowed["epoch"][e]["loss"].get<double>(), every["epoch"][e]["loss"].get<double>()) << pf;
      EXPECT_EQ(windowed["epoch"][e]["train_accuracy"].get<double>(), every["epoch"][e]["train_accuracy"].get<double>())
          << pf;
    }
    ASSERT_FALSE(windowed["step"].empty());
    ASSERT_LT(windowed["step"].size(), every["step"].size());
    for (const auto& j : windowed["step"])
      EXPECT_EQ(j["loss"].get<double>(), step_loss.at(j["step"].get<int64_t>())) << "PRINT_FREQ " << pf;
  }
}

// Host reads during training (issue 19): no step reads a device value; the trainer reads the window of
// steps once per print (every PRINT_FREQ-th step and the epoch's last), and the parameters once before
// each checkpoint.
TEST(Trainer, ReadsLossAndAccuracyOncePerPrintWindow) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  trainer::Trainer t(run_config(data, out, {"TRAIN.PRINT_FREQ", "2", "DATALOADER.NUM_WORKERS", "0"}), log);
  std::vector<int64_t> reads;  // host reads between one step's end and the next's
  int64_t last = 0;
  t.set_after_step([&](int64_t) {
    reads.push_back(host_value_reads() - last);
    last = host_value_reads();
  });
  last = host_value_reads();
  t.train();
  ASSERT_EQ(reads.size() % 3, 0u);
  const int64_t batches = int64_t(reads.size()) / 3;  // 3 epochs
  ASSERT_GE(batches, 3) << "the run needs a step that does not print";
  for (size_t s = 1; s < reads.size(); ++s) {  // the first step's count includes the set-up
    const int64_t iteration = int64_t(s) % batches + 1;
    const int64_t expected = (iteration % 2 == 0 || iteration == batches ? 1 : 0) + (iteration == 1 ? 1 : 0);
    EXPECT_EQ(reads[s], expected) << "step " << s + 1 << " (iteration " << iteration << " of " << batches << ")";
  }
}

TEST(Trainer, BadInputIsOneClearError) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out, {"TRAINER.NAME", "CoOpp"}), log),
                        "unknown trainer 'CoOpp'; did you mean 'CoOp'");
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out, {"DATASET.NAME", "caltech1O1"}), log), "caltech1O1");
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out, {"CLIPT.MODEL_DIR", (out / "nope").string()}), log),
                        "does not exist");
  EXPECT_ERROR_CONTAINS(run_config(data, out, {"OPTIM.LEARNING_RATE", "0.1"}), "did you mean OPTIM.LR");
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out, {"INPUT.SIZE", "(224, 224)"}), log),
                        "does not match the model's resolution 32");
}

TEST(Trainer, AMissingTestImageIsFoundBeforeTraining) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  fs::remove(data / "images" / "3" / "9.png");  // a test image
  trainer::RunLog log({}, true);
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out), log),
                        "1 of the 40 images of split_json (train, val and test) do not exist, e.g. ");
}

// A corrupt (not missing) test image used to be found only by the evaluation after training: the header check
// before training names it.
TEST(Trainer, ACorruptTestImageIsFoundBeforeTraining) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  const fs::path image = data / "images" / "3" / "9.png";  // a test image
  std::ofstream(image, std::ios::binary | std::ios::trunc) << "<html>not found</html>";
  trainer::RunLog log({}, true);
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out), log),
                        "1 of the 40 images of split_json (train, val and test) cannot be read, e.g. cannot decode "
                        "image " +
                            image.string() + ": not a JPEG or PNG file");
  EXPECT_FALSE(fs::exists(out / "checkpoints"));
}

TEST(Trainer, ATruncatedTestImageIsFoundBeforeTraining) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  const fs::path image = data / "images" / "2" / "8.png";  // a test image, cut short as by a broken download
  fs::resize_file(image, fs::file_size(image) / 2);
  trainer::RunLog log({}, true);
  EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out), log),
                        "cannot be read, e.g. cannot decode PNG image " + image.string());
}

// An empty "train" list is named with its split file, as an empty "test" list is.
TEST(Trainer, AnEmptyTrainListNamesTheSplitFile) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  nlohmann::json split = nlohmann::json::parse(std::ifstream(data / "split.json"));
  split["train"] = nlohmann::json::array();
  std::ofstream(data / "split.json", std::ios::trunc) << split.dump();
  trainer::RunLog log({}, true);
  for (const char* subsample : {"base", "all"})
    EXPECT_ERROR_CONTAINS(trainer::Trainer(run_config(data, out, {"DATASET.SUBSAMPLE_CLASSES", subsample}), log),
                          "split file " + (data / "split.json").string() +
                              ": the \"train\" list is empty (no images to train on, so no classes)");
}

TEST(Trainer, ClassCountMismatchWhenLoadingIsNamed) {
  const fs::path data = make_dataset("data"), out = test::scratch_dir("run");
  trainer::RunLog log({}, true);
  trainer::Trainer t(run_config(data, out, {"TRAINER.COOP.CSC", "True", "OPTIM.MAX_EPOCH", "1"}), log);
  t.train();
  trainer::Trainer all(
      run_config(data, test::scratch_dir("eval"), {"TRAINER.COOP.CSC", "True", "DATASET.SUBSAMPLE_CLASSES", "all"}),
      log);
  EXPECT_ERROR_CONTAINS(all.load(out), "checkpoint trained on 2 classes, this run has 4");
}

}  // namespace
}  // namespace clipt
