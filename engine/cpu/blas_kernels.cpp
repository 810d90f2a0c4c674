#include "engine/cpu/blas_kernels.h"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace clipt::cpu {

std::string blas_core_name() {
  const char* name = openblas_get_corename();
  return name ? name : "";
}

std::string native_blas_core() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return "";
}

bool is_generic_blas_core(const std::string& core) {
  std::string name = core;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return name == "prescott" || name == "core2" || name == "nehalem" || name == "penryn" || name == "dunnington" ||
         name == "atom" || name == "katmai" || name == "coppermine" || name == "northwood";
}

void use_native_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("CLIPT_KEEP_BLAS_CORE")) return;
  if (!is_generic_blas_core(blas_core_name())) return;
  const std::string better = native_blas_core();
  if (better.empty()) return;
  setenv("OPENBLAS_CORETYPE", better.c_str(), 1);  // also stops a second re-execution
  execv("/proc/self/exe", argv);
  // execv returned: run on with the kernels already loaded.
}

}  // namespace clipt::cpu
