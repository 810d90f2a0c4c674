// What a thread capturing a CUDA graph must not do (issue 19). During stream capture nothing that is
// queued runs: a host read of a device value would wait for work that never executes (the driver then
// invalidates the capture with an opaque error), a host→device upload or a pinned host allocation would
// bake one step's host data into every replay, and a synchronisation is illegal. A CaptureScope marks the
// thread for the device it captures; the engine calls refuse_during_capture() at each of those points,
// which throws a GraphCaptureError naming the action and the step being captured, so the caller can
// abandon the capture and run the step eagerly. The flag is plain host state, so the guard is tested on
// the CPU with a simulated capture (CaptureScope on Device::cpu()).
#pragma once
#include <optional>
#include <string>

#include "engine/core/device.h"
#include "engine/core/error.h"

namespace clipt {

class GraphCaptureError : public Error {
 public:
  explicit GraphCaptureError(const std::string& what) : Error(what) {}
};

// Marks this thread as capturing work for `device` (`what` names the captured work in messages). Scopes
// do not nest: a second one on the same thread is an error.
class CaptureScope {
 public:
  CaptureScope(Device device, std::string what);
  ~CaptureScope();
  CaptureScope(const CaptureScope&) = delete;
  CaptureScope& operator=(const CaptureScope&) = delete;
};

// The device this thread is capturing for, if any.
std::optional<Device> capturing_device();
// Throws GraphCaptureError when this thread captures for `device` (`action` says what was attempted,
// e.g. "a host read of a tensor value (item()/to_vector())").
void refuse_during_capture(Device device, const std::string& action);
// The same for actions that concern the capture whatever the device (a synchronisation, a pinned host
// allocation).
void refuse_during_any_capture(const std::string& action);

}  // namespace clipt
