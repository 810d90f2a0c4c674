// A hook through which a tool (the profiler, engine/profile) sees every primitive an op dispatches:
// while an interposer is installed on a thread, backend_for() on that thread returns the Backend the
// interposer hands out — typically a wrapper that forwards to the device's own backend. Core knows
// nothing of the tool; with none installed backend_for() pays one predictable branch.
#pragma once
#include "engine/core/backend.h"

namespace clipt {

class BackendInterposer {
 public:
  virtual ~BackendInterposer() = default;
  // The backend to use on `device` instead of `device_backend` (which is the device's own).
  virtual Backend& interpose(Backend& device_backend, Device device) = 0;
};

namespace detail {
// This thread's interposer; constant-initialised so reading it is a plain thread-local load.
inline constinit thread_local BackendInterposer* backend_interposer = nullptr;
}  // namespace detail

// Installs `interposer` on the calling thread (nullptr removes it); returns the previous one.
inline BackendInterposer* set_backend_interposer(BackendInterposer* interposer) {
  BackendInterposer* previous = detail::backend_interposer;
  detail::backend_interposer = interposer;
  return previous;
}

}  // namespace clipt
