// Learning-rate schedules with Dassl's semantics, as pure functions of the step index (an epoch, or an
// iteration when stepping per iteration), so a resumed run recomputes the same value.
//
// Dassl (dassl/optim/lr_scheduler.py): an optional warm-up for WARMUP_EPOCH steps — "constant" at
// WARMUP_CONS_LR or "linear" from WARMUP_MIN_LR — wraps the main schedule. With WARMUP_RECOUNT (the
// default) the main schedule restarts its count after the warm-up, so epoch e >= W of a cosine run
// uses base·(1 + cos(π·(e − W)/T))/2 with T = MAX_EPOCH.
#pragma once
#include <string>
#include <vector>

namespace clipt::optim {

struct LrScheduleOptions {
  std::string name = "cosine";  // cosine | single_step | multi_step | constant | linear
  double base_lr = 0.002;
  int64_t max_steps = 10;           // T_max (MAX_EPOCH)
  int64_t step_size = 1;            // single_step: decay every step_size steps
  std::vector<int64_t> milestones;  // multi_step
  double gamma = 0.1;
  std::string warmup_type = "";  // "" (none) | constant | linear
  int64_t warmup_steps = 0;      // WARMUP_EPOCH
  double warmup_cons_lr = 1e-5;
  double warmup_min_lr = 1e-5;
  bool warmup_recount = true;
};

class LrSchedule {
 public:
  explicit LrSchedule(LrScheduleOptions options);
  // Learning rate in effect during step `t` (t = 0 is the first epoch/iteration).
  double lr_at(int64_t t) const;
  const LrScheduleOptions& options() const { return o_; }

 private:
  double main_lr(int64_t t) const;
  LrScheduleOptions o_;
};

}  // namespace clipt::optim
