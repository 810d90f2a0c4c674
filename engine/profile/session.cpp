#include <fmt/core.h>

#include "engine/core/backend_interposer.h"
#include "engine/core/error.h"
#include "engine/profile/profiler.h"
#include "engine/profile/recording_backend.h"
#include "engine/runtime/nvtx.h"

namespace clipt::profile {

const char* phase_name(Phase p) {
  static const char* names[] = {"data", "forward", "backward", "optimizer", "communication", "host waits"};
  return names[int(p)];
}

std::string OpShape::str() const {
  std::string s = "[";
  for (int d = 0; d < ndim; ++d) s += (d ? ", " : "") + std::to_string(dims[size_t(d)]);
  return s + "]";
}

std::string OpRecord::shape_str() const {
  std::string s;
  for (const OpShape& sh : shapes)
    if (sh.ndim >= 0) s += (s.empty() ? "" : " x ") + sh.str();
  return s;
}

namespace detail {
#ifdef CLIPT_WITH_NVTX
void nvtx_push(const std::string& name) { nvtxRangePushA(name.c_str()); }
void nvtx_pop() { nvtxRangePop(); }
#else
void nvtx_push(const std::string&) {}
void nvtx_pop() {}
#endif
}  // namespace detail

// Hands out the session's recording wrappers in place of the devices' backends.
class Session::Interposer final : public BackendInterposer {
 public:
  explicit Interposer(Session& s) : s_(s) {}
  Backend& interpose(Backend& own, Device device) override {
    if (device.is_cpu()) {
      if (!s_.cpu_) s_.cpu_ = std::make_unique<RecordingBackend>(own, s_, false);
      return *s_.cpu_;
    }
    if (!s_.gpu_ || &s_.gpu_->inner() != &own)
      s_.gpu_ = std::make_unique<RecordingBackend>(own, s_, s_.timer_ != nullptr);
    return *s_.gpu_;
  }

 private:
  Session& s_;
};

Session::Session(Device device, bool steps_only)
    : device_(device), steps_only_(steps_only), start_(std::chrono::steady_clock::now()) {
  CLIPT_CHECK(detail::session == nullptr, "profile: a session is already recording on this thread");
  profile_.device = device;
  if (device.is_cuda()) timer_ = make_cuda_timer(device.index);
  interposer_ = std::make_unique<Interposer>(*this);
  set_backend_interposer(interposer_.get());
  detail::session = this;
}

Session::~Session() {
  if (active_) finish();
}

double Session::now_us() const {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_).count();
}

void Session::charge_phase(double now) {
  if (step_ >= 0) current_step_.phase_us[size_t(phase_)] += now - phase_since_us_;
  if (now > phase_since_us_) profile_.phase_spans.push_back({phase_, step_, phase_since_us_, now});
  phase_since_us_ = now;
}

void Session::set_phase(Phase p) {
  if (p == phase_) return;
  charge_phase(now_us());
  phase_ = p;
}

void Session::begin_step() {
  CLIPT_CHECK(active_, "profile: begin_step after finish");
  CLIPT_CHECK(step_ < 0, "profile: begin_step inside a step");
  if (timer_) {  // work queued before the step is not the step's
    PhaseScope wait(Phase::HostWait);
    resolve_device_times();
  }
  const double now = now_us();
  charge_phase(now);
  step_ = int32_t(profile_.steps.size());
  current_step_ = StepTimes{};
  current_step_.begin_us = now;
  phase_since_us_ = now;
  phase_ = Phase::Forward;
}

void Session::end_step() {
  CLIPT_CHECK(step_ >= 0, "profile: end_step without begin_step");
  if (timer_) {
    PhaseScope wait(Phase::HostWait);
    resolve_device_times();
  }
  const double now = now_us();
  charge_phase(now);
  current_step_.end_us = now;
  profile_.steps.push_back(current_step_);
  step_ = -1;
}

void Session::abandon_step() {
  CLIPT_CHECK(step_ >= 0, "profile: abandon_step without begin_step");
  if (timer_) resolve_device_times();
  while (!profile_.ops.empty() && profile_.ops.back().step == step_) profile_.ops.pop_back();
  while (!profile_.phase_spans.empty() && profile_.phase_spans.back().step == step_) profile_.phase_spans.pop_back();
  phase_since_us_ = now_us();
  step_ = -1;
}

OpRecord& Session::begin_op(const char* op, bool device_timed) {
  OpRecord& r = profile_.ops.emplace_back();
  r.op = op;
  r.module = module_stack_.back();
  r.step = step_;
  r.phase = phase_;
  if (timer_ && device_timed) {
    detail::nvtx_push(op);
    if (pending_events_.empty()) {
      timer_->record();  // event 0: the anchor of the device timeline
      anchor_host_us_ = now_us();
    }
    pending_events_.push_back({profile_.ops.size() - 1, timer_->record()});
  }
  r.host_begin_us = now_us();
  return r;
}

void Session::end_op(OpRecord& r, bool device_timed) {
  r.host_end_us = now_us();
  if (timer_ && device_timed) {
    timer_->record();  // the end event directly follows the start event's index
    detail::nvtx_pop();
  }
}

void Session::resolve_device_times() {
  if (pending_events_.empty()) return;
  const std::vector<double> t = timer_->resolve();
  for (auto [index, event] : pending_events_) {
    OpRecord& r = profile_.ops[index];
    r.device_begin_us = anchor_host_us_ + t[size_t(event)];
    r.device_us = t[size_t(event) + 1] - t[size_t(event)];
  }
  pending_events_.clear();
}

void Session::push_module(const std::string& name) {
  const std::string& parent = profile_.module_paths[size_t(module_stack_.back())];
  std::string path = parent.empty() ? name : parent + "." + name;
  auto [it, inserted] = path_ids_.try_emplace(path, int32_t(profile_.module_paths.size()));
  if (inserted) profile_.module_paths.push_back(path);
  module_stack_.push_back(it->second);
  if (timer_) detail::nvtx_push(path);
}

Profile Session::finish() {
  CLIPT_CHECK(active_, "profile: finish called twice");
  if (step_ >= 0) end_step();
  if (timer_) resolve_device_times();
  charge_phase(now_us());
  profile_.duration_us = now_us();
  active_ = false;
  if (detail::session == this) {
    detail::session = nullptr;
    set_backend_interposer(nullptr);
  }
  return std::move(profile_);
}

void ModuleScope::open(Session* s, const std::string& name) {
  if (!s->recording()) return;
  session_ = s;
  s->push_module(name);
}

void ModuleScope::close() {
  if (session_->timer()) detail::nvtx_pop();
  session_->pop_module();
}

void OpScope::open(Session* s, const char* op, DType dtype, double bytes, bool device_timed) {
  session_ = s;
  device_timed_ = device_timed && s->timer() != nullptr;
  if (s->nesting_++ != 0 || !s->recording()) return;
  index_ = s->profile_.ops.size();
  OpRecord& r = s->begin_op(op, device_timed_);
  r.dtype = dtype;
  r.bytes = bytes;
}

void OpScope::close() {
  if (index_ != size_t(-1)) session_->end_op(session_->profile_.ops[index_], device_timed_);
  --session_->nesting_;
}

void PhaseScope::open(Session* s, Phase p) {
  if (!s->recording()) return;
  session_ = s;
  previous_ = s->phase();
  if (s->timer()) detail::nvtx_push(phase_name(p));
  s->set_phase(p);
}

void PhaseScope::close() {
  session_->set_phase(previous_);
  if (session_->timer()) detail::nvtx_pop();
}

}  // namespace clipt::profile
