// The test programs start through use_native_blas_kernels (tests/common/test_main.cpp), as the clipt
// command does: on a CPU with AVX2 or AVX-512, OpenBLAS must then run kernels for it, not a generic SSE
// fallback (Debian 12's OpenBLAS falls back to Prescott on CPUs newer than itself, 4-5x slower GEMMs).
#include "engine/cpu/blas_kernels.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace clipt {
namespace {

TEST(BlasKernels, OpenBlasRunsKernelsForThisCpu) {
  const std::string core = cpu::blas_core_name();
  ASSERT_FALSE(core.empty());
  if (std::getenv("CLIPT_KEEP_BLAS_CORE")) GTEST_SKIP() << "CLIPT_KEEP_BLAS_CORE is set: OpenBLAS runs " << core;
  if (cpu::native_blas_core().empty()) GTEST_SKIP() << "no AVX2/AVX-512 on this CPU; OpenBLAS runs " << core;
  EXPECT_FALSE(cpu::is_generic_blas_core(core))
      << "OpenBLAS runs its generic fallback on a CPU that has " << cpu::native_blas_core()
      << " kernels (OPENBLAS_CORETYPE="
      << (std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "unset") << ")";
}

TEST(BlasKernels, GenericCoreNamesAreRecognisedWhateverTheirCase) {
  EXPECT_TRUE(cpu::is_generic_blas_core("Prescott"));
  EXPECT_TRUE(cpu::is_generic_blas_core("NEHALEM"));
  EXPECT_FALSE(cpu::is_generic_blas_core("SkylakeX"));
  EXPECT_FALSE(cpu::is_generic_blas_core("Haswell"));
  EXPECT_FALSE(cpu::is_generic_blas_core(""));
}

}  // namespace
}  // namespace clipt
