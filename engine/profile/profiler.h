// Op-level profiling. A Session installed on a thread records every primitive that ops dispatch to a
// Backend (through the interposer of engine/core/backend_interposer.h): the op, the module path it ran
// under ("visual.transformer.resblocks.3.attn"), the phase of the step (data, forward, backward,
// optimizer, communication, host waits), operand shapes and dtype, FLOPs and bytes from the shapes, and
// its time — a steady clock around the call on the CPU, CUDA events on the stream resolved after the
// step on a GPU (no synchronisation per op). Module and phase scopes cost one predictable branch when no
// session is active; with one they also open NVTX ranges of the same names (for nsys / ncu --nvtx).
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/dtype.h"

namespace clipt::profile {

enum class Phase : uint8_t { Data, Forward, Backward, Optimizer, Communication, HostWait };
constexpr int kPhaseCount = 6;
const char* phase_name(Phase p);

// An operand's shape, kept inline (records are made on the hot path).
struct OpShape {
  int8_t ndim = -1;  // -1: no operand
  std::array<int32_t, 6> dims{};
  std::string str() const;  // "[2, 3, 4]"
};

struct OpRecord {
  const char* op = "";  // "gemm", "binary.add", "softmax", ... (static strings)
  int32_t module = 0;   // index into Profile::module_paths (0 = no module)
  int32_t step = -1;    // -1: outside begin_step/end_step
  Phase phase = Phase::Forward;
  DType dtype = DType::F32;
  std::array<OpShape, 3> shapes;  // the main operands (see recording_backend.cpp per op)
  double flops = 0, bytes = 0;
  double host_begin_us = 0, host_end_us = 0;    // host clock since the session started
  double device_begin_us = -1, device_us = -1;  // GPU: resolved from events (begin relative to the session)
  double time_us() const { return device_us >= 0 ? device_us : host_end_us - host_begin_us; }
  std::string shape_str() const;  // the operands' shapes joined by " x "
};

struct PhaseSpan {
  Phase phase;
  int32_t step;
  double begin_us, end_us;
};

struct StepTimes {
  double begin_us = 0, end_us = 0;
  std::array<double, kPhaseCount> phase_us{};  // exclusive wall time per phase (sums to the step)
  double wall_us() const { return end_us - begin_us; }
};

// Everything a session recorded.
struct Profile {
  Device device;
  std::vector<OpRecord> ops;
  std::vector<std::string> module_paths{""};
  std::vector<StepTimes> steps;
  std::vector<PhaseSpan> phase_spans;
  double duration_us = 0;  // session start to finish
};

// Times ops on a device by events on its current stream (engine/cuda; unavailable without CUDA).
class DeviceTimer {
 public:
  virtual ~DeviceTimer() = default;
  virtual int record() = 0;  // an event on the current stream now; returns its index
  // Waits for the last event, then writes each event's time in µs since event 0; resets the events.
  virtual std::vector<double> resolve() = 0;
};
std::unique_ptr<DeviceTimer> make_cuda_timer(int device);

class RecordingBackend;

class Session {
 public:
  // Starts recording on the calling thread; ops on other threads are not recorded. With `steps_only`, ops
  // between end_step and the next begin_step (a loop's logging, say) are not recorded either.
  explicit Session(Device device, bool steps_only = false);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void begin_step();
  void end_step();  // waits for the device (GPU times are resolved here, once per step)
  // Drops the open step and what it recorded (a loop that found no more data after begin_step).
  void abandon_step();
  bool in_step() const { return step_ >= 0; }
  // Stops recording and returns the records (the session is then inert).
  Profile finish();

  // Hot-path interface used by the scopes and the recording backend.
  int32_t module() const { return module_stack_.back(); }
  void push_module(const std::string& name);
  void push_module_id(int32_t id) { module_stack_.push_back(id); }
  void pop_module() { module_stack_.pop_back(); }
  Phase phase() const { return phase_; }
  void set_phase(Phase p);
  double now_us() const;
  bool recording() const { return active_ && (!steps_only_ || step_ >= 0); }
  // Stamps module, phase, step and the start time; `device_timed`: also an event on the device's stream.
  OpRecord& begin_op(const char* op, bool device_timed);
  void end_op(OpRecord& r, bool device_timed);
  DeviceTimer* timer() { return timer_.get(); }

 private:
  friend class RecordingBackend;
  friend class OpScope;
  int nesting_ = 0;  // depth of recorded calls in progress: only the outermost records
  Device device_;
  bool active_ = true;
  bool steps_only_ = false;
  Profile profile_;
  std::vector<int32_t> module_stack_{0};
  std::unordered_map<std::string, int32_t> path_ids_;
  Phase phase_ = Phase::Forward;
  double phase_since_us_ = 0;
  int32_t step_ = -1;
  StepTimes current_step_;
  std::chrono::steady_clock::time_point start_;
  std::unique_ptr<DeviceTimer> timer_;
  std::vector<std::pair<size_t, int>> pending_events_;  // (record index, event index of its start)
  double anchor_host_us_ = 0;                           // host time of the timer's event 0
  std::unique_ptr<RecordingBackend> cpu_, gpu_;
  class Interposer;
  std::unique_ptr<Interposer> interposer_;
  void charge_phase(double now);
  void resolve_device_times();
};

namespace detail {
inline constinit thread_local Session* session = nullptr;
void nvtx_push(const std::string& name);
void nvtx_pop();
}  // namespace detail

// The session recording on this thread, or nullptr.
inline Session* active_session() { return detail::session; }

// Marks the ops of a module's forward with its name (joined to the enclosing modules' into a path).
// Cheap when no session is active: a thread-local load and a branch.
class ModuleScope {
 public:
  explicit ModuleScope(const std::string& name) {
    if (Session* s = detail::session) [[unlikely]]
      if (!name.empty()) open(s, name);
  }
  ~ModuleScope() {
    if (session_) [[unlikely]]
      close();
  }
  ModuleScope(const ModuleScope&) = delete;
  ModuleScope& operator=(const ModuleScope&) = delete;

 private:
  void open(Session* s, const std::string& name);
  void close();
  Session* session_ = nullptr;
};

// Re-enters a module path recorded earlier (autograd nodes run their backward under their forward's path).
class ModuleIdScope {
 public:
  explicit ModuleIdScope(int32_t id) {
    if (Session* s = detail::session) [[unlikely]] {
      session_ = s;
      s->push_module_id(id);
    }
  }
  ~ModuleIdScope() {
    if (session_) [[unlikely]]
      session_->pop_module();
  }
  ModuleIdScope(const ModuleIdScope&) = delete;
  ModuleIdScope& operator=(const ModuleIdScope&) = delete;

 private:
  Session* session_ = nullptr;
};

// The current module path id (0 when none or when not profiling), for autograd nodes to keep.
inline int32_t current_module() { return detail::session ? detail::session->module() : 0; }

// Records an operation that is not a Backend primitive (a collective of engine/dist, say) as one op with
// the bytes it moves; backend calls it makes inside are not recorded separately. `device_timed`: the work
// is queued on the session device's current stream (timed by events there).
class OpScope {
 public:
  OpScope(const char* op, DType dtype, double bytes, bool device_timed) {
    if (Session* s = detail::session) [[unlikely]]
      open(s, op, dtype, bytes, device_timed);
  }
  ~OpScope() {
    if (session_) [[unlikely]]
      close();
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  void open(Session* s, const char* op, DType dtype, double bytes, bool device_timed);
  void close();
  Session* session_ = nullptr;
  size_t index_ = size_t(-1);
  bool device_timed_ = false;
};

// Attributes the enclosed wall time and ops to a phase of the step.
class PhaseScope {
 public:
  explicit PhaseScope(Phase p) {
    if (Session* s = detail::session) [[unlikely]]
      open(s, p);
  }
  ~PhaseScope() {
    if (session_) [[unlikely]]
      close();
  }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  void open(Session* s, Phase p);
  void close();
  Session* session_ = nullptr;
  Phase previous_ = Phase::Forward;
};

}  // namespace clipt::profile
