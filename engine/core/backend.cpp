#include "engine/core/backend.h"

#include "engine/cpu/cpu_backend.h"

namespace clipt {

Backend& cpu_backend() {
  static cpu::CpuBackend backend;
  return backend;
}

Backend& backend_for(Device device) { return device.is_cpu() ? cpu_backend() : cuda_backend(); }

}  // namespace clipt
