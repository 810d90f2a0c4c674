// main() of the test programs: OpenBLAS's best kernels for this CPU first (engine/cpu/blas_kernels.h), so
// tests run the GEMMs users run, then GoogleTest.
#include <gtest/gtest.h>

#include "engine/cpu/blas_kernels.h"

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
