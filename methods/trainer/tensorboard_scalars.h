// Which TensorBoard scalars a metrics.jsonl record becomes (RunLog writes them to <run>/tensorboard/, where
// Dassl's trainer puts its SummaryWriter), with Dassl's tags where it has them:
//  - a logged step → train/loss, train/lr and the method's own metrics (train/<name>), at the global step;
//  - an epoch → epoch/loss, epoch/train_accuracy, epoch/lr, at the epoch (1-based);
//  - an evaluation → <split>/accuracy and <split>/macro_accuracy (all classes; Dassl's test/accuracy) or
//    <split>/<base|new>_accuracy, at the last finished epoch (as Dassl's after_epoch test).
// NaN and non-numeric fields are left out.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace clipt::trainer {

struct Scalar {
  std::string tag;
  double value = 0;
  int64_t step = 0;
};

// `last_epoch` carries the newest epoch seen over the records of a run (for the evaluations' step).
std::vector<Scalar> tensorboard_scalars(const nlohmann::json& record, int64_t& last_epoch);

}  // namespace clipt::trainer
