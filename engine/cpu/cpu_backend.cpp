#include "engine/cpu/cpu_backend.h"

namespace clipt {

Backend& cpu_backend() {
  static cpu::CpuBackend backend;
  return backend;
}

}  // namespace clipt
