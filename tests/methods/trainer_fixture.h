// The trainer tests' fixture (tests/methods/trainer_test.cpp, and the CUDA resume test in tests/gpu): a
// generated four-class dataset in the split_json layout, a CoOp run config over the tiny golden CLIP, and
// the trained context of a trainer.
#pragma once
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/trainer.h"
#include "tests/common/test_util.h"
#include "tests/methods/colour_dataset.h"

namespace clipt::test::trainer_fixture {

namespace fs = std::filesystem;

// Four colour classes of 32×32 images in the generic split_json layout (<root>/images, <root>/split.json).
inline fs::path make_dataset(const std::string& name) {
  const fs::path root = test::scratch_dir(name);
  write_colour_split_dataset(root,
                             {{"red circle", {220, 30, 30}},
                              {"blue square", {30, 30, 220}},
                              {"green triangle", {30, 200, 40}},
                              {"small star", {230, 230, 40}}},
                             10, 6, 2);
  return root;
}

inline Config run_config(const fs::path& data, const fs::path& out, std::vector<std::string> overrides = {}) {
  Config cfg = default_config();
  std::vector<std::string> base = {"TRAINER.NAME",
                                   "CoOp",
                                   "TRAINER.COOP.N_CTX",
                                   "4",
                                   "TRAINER.COOP.PREC",
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
                                   "2",
                                   "DATALOADER.NUM_WORKERS",
                                   "2",
                                   "OUTPUT_DIR",
                                   out.string(),
                                   "SEED",
                                   "1",
                                   "TRAIN.PRINT_FREQ",
                                   "100",
                                   "CLIPT.MODEL_DIR",
                                   (test::golden_dir() / "clip_tiny").string(),
                                   "CLIPT.DEVICE",
                                   "cpu"};
  base.insert(base.end(), overrides.begin(), overrides.end());
  cfg.merge_from_list(base);
  cfg.freeze();
  return cfg;
}

inline Tensor context_of(trainer::Trainer& t) {
  return t.method().trainable_parameters().at(0).second.detach().clone();
}

}  // namespace clipt::test::trainer_fixture
