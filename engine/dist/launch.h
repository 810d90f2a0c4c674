// How the process was launched: by mpirun/mpiexec (Open MPI, MPICH/Hydra), by Slurm's srun with PMIx,
// or plainly. Only the environment is read; nothing is initialised. MPI itself gives the authoritative
// size and local rank once initialised; this only decides whether to initialise it.
#pragma once
#include <string>

namespace clipt::dist {

struct LaunchInfo {
  bool launched = false;  // started by an MPI launcher (even with one rank)
  int rank = 0, world_size = 1, local_rank = 0;
  std::string launcher;  // "openmpi" | "pmix" | "pmi" | ""
};

LaunchInfo detect_launch();

}  // namespace clipt::dist
