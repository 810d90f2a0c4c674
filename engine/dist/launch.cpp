#include "engine/dist/launch.h"

#include <cstdlib>
#include <string>

namespace clipt::dist {

namespace {

bool read_int(const char* name, int& out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return false;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < 0) return false;
  out = int(x);
  return true;
}

}  // namespace

LaunchInfo detect_launch() {
  LaunchInfo info;
  // Each launcher's variables, most specific first: Open MPI's mpirun; PMIx (srun --mpi=pmix and
  // Open MPI 5's prte); Hydra/PMI-2 (MPICH's mpiexec, srun --mpi=pmi2); srun without --mpi sets only SLURM_* variables
  // and is not an MPI job, so it counts as a plain start.
  struct Names {
    const char *rank, *size, *local_rank, *launcher;
  };
  static const Names kLaunchers[] = {
      {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "openmpi"},
      {"PMIX_RANK", "SLURM_NTASKS", "SLURM_LOCALID", "pmix"},
      {"PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "pmi"},
  };
  for (const Names& n : kLaunchers) {
    int rank = 0, size = 0;
    if (!read_int(n.rank, rank)) continue;
    if (!read_int(n.size, size)) {
      // PMIx alone does not export the size; MPI_Comm_size will tell. One rank until then.
      size = std::string(n.launcher) == "pmix" ? rank + 1 : 0;
      if (size == 0) continue;
    }
    info.launched = true;
    info.rank = rank;
    info.world_size = size;
    int local = 0;
    info.local_rank = read_int(n.local_rank, local) ? local : 0;
    info.launcher = n.launcher;
    return info;
  }
  return info;
}

}  // namespace clipt::dist
