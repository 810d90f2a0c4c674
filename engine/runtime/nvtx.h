// NVTX ranges for profilers (ncu / nsys). Compiled to nothing unless CLIPT_WITH_NVTX is defined (the
// engine defines it when CMake finds CUDA::nvtx3).
#pragma once

#ifdef CLIPT_WITH_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace clipt::cuda {

class NvtxRange {
 public:
#ifdef CLIPT_WITH_NVTX
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
#else
  explicit NvtxRange(const char*) {}
#endif
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace clipt::cuda

#define CLIPT_NVTX_CONCAT_(a, b) a##b
#define CLIPT_NVTX_CONCAT(a, b) CLIPT_NVTX_CONCAT_(a, b)
#define CLIPT_NVTX_RANGE(name) ::clipt::cuda::NvtxRange CLIPT_NVTX_CONCAT(clipt_nvtx_range_, __LINE__)(name)
