#include "engine/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace clipt::optim {

LrSchedule::LrSchedule(LrScheduleOptions o) : o_(std::move(o)) {
  CLIPT_CHECK(o_.name == "cosine" || o_.name == "single_step" || o_.name == "multi_step" || o_.name == "constant" ||
                  o_.name == "linear",
              "unknown LR scheduler '{}' (expected cosine, single_step, multi_step, constant or linear)", o_.name);
  CLIPT_CHECK(o_.warmup_type.empty() || o_.warmup_type == "constant" || o_.warmup_type == "linear",
              "unknown warm-up type '{}' (expected constant or linear)", o_.warmup_type);
  CLIPT_CHECK(o_.max_steps > 0, "LR scheduler: MAX_EPOCH must be positive, got {}", o_.max_steps);
}

double LrSchedule::main_lr(int64_t t) const {
  if (o_.name == "cosine") {
    // torch CosineAnnealingLR (eta_min = 0) evaluated in closed form; past T_max it follows the
    // closed form too, as the chained form does for the epochs Dassl uses.
    return o_.base_lr * (1.0 + std::cos(M_PI * double(t) / double(o_.max_steps))) / 2.0;
  }
  if (o_.name == "single_step") {
    const int64_t size = std::max<int64_t>(o_.step_size, 1);
    return o_.base_lr * std::pow(o_.gamma, double(t / size));
  }
  if (o_.name == "multi_step") {
    const auto passed = std::count_if(o_.milestones.begin(), o_.milestones.end(), [&](int64_t m) { return t >= m; });
    return o_.base_lr * std::pow(o_.gamma, double(passed));
  }
  if (o_.name == "linear") { return o_.base_lr * std::max(0.0, 1.0 - double(t) / double(o_.max_steps)); }
  return o_.base_lr;
}

double LrSchedule::lr_at(int64_t t) const {
  if (!o_.warmup_type.empty() && t < o_.warmup_steps) {
    if (o_.warmup_type == "constant") return o_.warmup_cons_lr;
    // Dassl's LinearWarmupScheduler: min_lr at step 0, then base·t/W.
    return t == 0 ? o_.warmup_min_lr : o_.base_lr * double(t) / double(o_.warmup_steps);
  }
  const int64_t main_t = (!o_.warmup_type.empty() && o_.warmup_recount) ? t - o_.warmup_steps : t;
  return main_lr(main_t);
}

}  // namespace clipt::optim
