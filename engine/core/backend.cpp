#include "engine/core/backend.h"

#include "engine/core/backend_interposer.h"

namespace clipt {

// cpu_backend() is defined by the CPU backend (engine/cpu/cpu_backend.cpp) and cuda_backend() by the CUDA
// glue, so that core names the interface and the backends depend on core, not the other way round.
Backend& backend_for(Device device) {
  Backend& own = device.is_cpu() ? cpu_backend() : cuda_backend();
  if (detail::backend_interposer) [[unlikely]]
    return detail::backend_interposer->interpose(own, device);
  return own;
}

}  // namespace clipt
