#include "tests/dist/ranks/ranks_fixture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "data/image.h"
#include "engine/dist/dist_ops.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"
#include "tests/methods/colour_dataset.h"

namespace clipt::test {

namespace fs = std::filesystem;

dist::Communicator& comm() { return dist::world(); }

fs::path shared_scratch_dir(const std::string& name) {
  std::string path;
  if (comm().is_root()) path = scratch_dir(name).string();
  path = dist::broadcast_string(comm(), path);
  comm().barrier();
  return path;
}

fs::path make_colour_dataset() {
  const fs::path root = shared_scratch_dir("dp-data");
  if (!comm().is_root()) {
    comm().barrier();
    return root;
  }
  write_colour_split_dataset(root,
                             {{"red circle", {220, 30, 30}},
                              {"blue square", {30, 30, 220}},
                              {"green triangle", {30, 200, 40}},
                              {"small star", {230, 230, 40}},
                              {"grey cross", {128, 128, 128}},
                              {"pink heart", {240, 120, 200}}},
                             9, 5, 1);
  comm().barrier();  // written before the other ranks read it
  return root;
}

fs::path make_colour_dg_dataset() {
  const fs::path root = shared_scratch_dir("dp-dg-data");
  if (!comm().is_root()) {
    comm().barrier();
    return root;
  }
  const fs::path dir = root / "world_dg";
  const std::vector<std::string> classes{"red_circle", "blue_square", "green_triangle"}, domains{"d0", "d1", "d2"};
  const uint8_t colours[3][3] = {{220, 30, 30}, {30, 30, 220}, {30, 200, 40}};
  fs::create_directories(dir / "splits");
  for (size_t d = 0; d < domains.size(); ++d) {
    std::ofstream train(dir / "splits" / (domains[d] + "_train_kfold.txt")),
        val(dir / "splits" / (domains[d] + "_crossval_kfold.txt"));
    for (size_t c = 0; c < classes.size(); ++c) {
      const std::string folder = domains[d] + "/" + classes[c];
      fs::create_directories(dir / "images" / folder);
      for (int i = 0; i < 6; ++i) {
        data::Image img(32, 32);
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x)
            for (int k = 0; k < 3; ++k) {
              // Each domain its own texture (stripes of another period) over the class colour.
              const int texture = ((x + int(d) * y) / (2 + int(d))) % 2 ? 40 : -40;
              img.at(x, y, k) = uint8_t(std::clamp(colours[c][k] + texture + (x * 5 + i * 13) % 21 - 10, 0, 255));
            }
        const std::string rel = folder + "/" + std::to_string(i) + ".png";
        data::write_png(dir / "images" / rel, img);
        (i < 5 ? train : val) << rel << " " << c + 1 << "\n";
      }
    }
  }
  std::ofstream(dir / "world_spec.json") << nlohmann::json{{"domains", domains}}.dump();
  comm().barrier();
  return root;
}

Config dp_run_config(const fs::path& data, const fs::path& out, const std::vector<std::string>& overrides) {
  Config cfg = default_config();
  std::vector<std::string> list = {"TRAINER.COOP.N_CTX",
                                   "4",
                                   "TRAINER.COOP.PREC",
                                   "fp32",
                                   "TRAINER.MAPLE.N_CTX",
                                   "2",
                                   "TRAINER.MAPLE.PROMPT_DEPTH",
                                   "2",
                                   "TRAINER.MAPLE.PREC",
                                   "fp32",
                                   "TRAINER.META.LAYERS",
                                   "2",
                                   "TRAINER.META.PREC",
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
                                   "INPUT.TRANSFORMS",
                                   "['random_resized_crop', 'random_flip', 'normalize']",
                                   "OPTIM.NAME",
                                   "sgd",
                                   "OPTIM.LR",
                                   "0.05",
                                   "OPTIM.MAX_EPOCH",
                                   "2",
                                   "OPTIM.LR_SCHEDULER",
                                   "cosine",
                                   "DATALOADER.TRAIN_X.BATCH_SIZE",
                                   "4",
                                   "DATALOADER.TEST.BATCH_SIZE",
                                   "5",
                                   "DATALOADER.NUM_WORKERS",
                                   "0",
                                   "OUTPUT_DIR",
                                   out.string(),
                                   "SEED",
                                   "1",
                                   "TRAIN.PRINT_FREQ",
                                   "100",
                                   "CLIPT.MODEL_DIR",
                                   (golden_dir() / "clip_tiny").string(),
                                   "CLIPT.DEVICE",
                                   "cpu"};
  list.insert(list.end(), overrides.begin(), overrides.end());
  cfg.merge_from_list(list);
  cfg.freeze();
  return cfg;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
}

RunOutcome params_and_accuracy(trainer::Trainer& t) {
  RunOutcome o;
  for (auto& [n, p] : t.method().trainable_parameters()) o.params.push_back(p.detach().clone());
  o.base = t.evaluate(data::Subsample::Base);
  o.novel = t.evaluate(data::Subsample::New);
  return o;
}

RunOutcome train_and_evaluate(const Config& cfg, dist::Communicator* c) {
  // Logged into the run folder (log.txt, metrics.jsonl) as a real run is, by the job's rank 0 only.
  trainer::RunLog log = trainer::RunLog::for_rank(cfg.get_string("OUTPUT_DIR"), true, c == nullptr || c->is_root());
  trainer::Trainer t(cfg, log, nullptr, {}, c);
  t.train();
  return params_and_accuracy(t);
}

void expect_same_outcome(const RunOutcome& got, const RunOutcome& want) {
  ASSERT_EQ(got.params.size(), want.params.size());
  for (size_t i = 0; i < want.params.size(); ++i) {
    EXPECT_ALL_CLOSE(got.params[i], want.params[i], 1e-5, 1e-5) << "parameter " << i;
  }
  EXPECT_EQ(got.base.correct, want.base.correct);
  EXPECT_EQ(got.base.total, want.base.total);
  EXPECT_EQ(got.novel.correct, want.novel.correct);
  EXPECT_EQ(got.novel.total, want.novel.total);
  EXPECT_DOUBLE_EQ(got.base.macro_accuracy, want.base.macro_accuracy);
}

}  // namespace clipt::test
