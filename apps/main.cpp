// Entry point of the clipt command line. Errors become one line on stderr and a non-zero exit.
#include <cstdio>

#include "apps/cli.h"
#include "engine/cpu/blas_kernels.h"

int main(int argc, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);
  return clipt::apps::run_cli(argc, argv);
}
