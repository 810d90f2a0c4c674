// main() of the test programs that run under `mpirun -np 2` (ctest Dist.TwoRanks.*): every rank runs
// the same tests; the job fails when any rank fails. A rank that stops early (a failed ASSERT skips
// that rank's remaining collectives) cannot hang the other: collectives time out after 120 s.
#include <gtest/gtest.h>

#include "engine/cpu/blas_kernels.h"
#include "engine/dist/communicator.h"

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);  // before MPI starts
  ::testing::InitGoogleTest(&argc, argv);
  clipt::dist::Communicator& world = clipt::dist::world();
  world.set_timeout(120);
  const int rc = RUN_ALL_TESTS();
  const double worst = world.all_reduce(double(rc), clipt::dist::ReduceOp::Max);
  return worst != 0 ? 1 : 0;
}
