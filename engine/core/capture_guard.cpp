#include "engine/core/capture_guard.h"

namespace clipt {

namespace {
struct CaptureState {
  bool active = false;
  Device device;
  std::string what;
};
thread_local CaptureState t_capture;

[[noreturn]] void refuse(const std::string& action) {
  throw GraphCaptureError(fmt::format(
      "CUDA graph capture of {} on {}: the step made {}, which a graph cannot replay; this step runs eagerly "
      "(CLIPT.CUDA_GRAPH off skips the attempt)",
      t_capture.what, t_capture.device.str(), action));
}
}  // namespace

CaptureScope::CaptureScope(Device device, std::string what) {
  CLIPT_CHECK(!t_capture.active, "CaptureScope: this thread is already capturing {} on {}", t_capture.what,
              t_capture.device.str());
  t_capture = {true, device, std::move(what)};
}

CaptureScope::~CaptureScope() { t_capture = {}; }

std::optional<Device> capturing_device() {
  if (!t_capture.active) return std::nullopt;
  return t_capture.device;
}

void refuse_during_capture(Device device, const std::string& action) {
  if (t_capture.active && t_capture.device == device) refuse(action);
}

void refuse_during_any_capture(const std::string& action) {
  if (t_capture.active) refuse(action);
}

}  // namespace clipt
