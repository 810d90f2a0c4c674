// What the two-rank test programs share: a small colour-class dataset, a run config over the tiny CLIP,
// a folder both ranks see (rank 0 makes it), and a run trained and evaluated under a communicator.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/dist/communicator.h"
#include "methods/trainer/trainer.h"

namespace clipt::test {

dist::Communicator& comm();

// Six colour classes of 32×32 images (split_json layout), 5 train / 1 val / 3 test images each; three
// base classes, so the text shards are uneven (1 and 2 classes). In a folder every rank sees (rank 0
// writes it): the ranks of a run read the same DATASET.ROOT, as a checkpoint's recipe check requires.
std::filesystem::path make_colour_dataset();

// A three-domain dataset in the built-in world's DG layout (DATASET.NAME world_dg under the returned
// root): domains d0, d1, d2 with their own texture, three colour classes, 5 train / 1 val images each.
std::filesystem::path make_colour_dg_dataset();

// CoOp/MaPLe/MetaPrompt in fp32 on the tiny CLIP, 4 shots, base classes, SGD lr 0.05, 2 epochs, cosine,
// global batch 4, then `overrides` (KEY VALUE ...).
Config dp_run_config(const std::filesystem::path& data, const std::filesystem::path& out,
                     const std::vector<std::string>& overrides);

// A scratch folder that every rank of the job sees under the same path (rank 0 makes it).
std::filesystem::path shared_scratch_dir(const std::string& name);

// Writes `text` to `file`.
void write_text(const std::filesystem::path& file, const std::string& text);

struct RunOutcome {
  std::vector<Tensor> params;
  trainer::EvalResult base, novel;
};
RunOutcome params_and_accuracy(trainer::Trainer& t);
RunOutcome train_and_evaluate(const Config& cfg, dist::Communicator* c);
// Trainable tensors within 1e-5 and identical base/new counts.
void expect_same_outcome(const RunOutcome& got, const RunOutcome& want);

}  // namespace clipt::test
