// The MPI backend (Open MPI from Debian, or the MPI of a cluster): collectives on host buffers over a
// duplicate of MPI_COMM_WORLD, issued non-blocking and polled so that the collective timeout applies.
// Built only when CMake finds MPI (CLIPT_WITH_MPI).
#pragma once
#include <mpi.h>

#include "engine/dist/communicator.h"

namespace clipt::dist {

// This process's place in the MPI job: a duplicate of MPI_COMM_WORLD, rank, size, rank within the node.
struct MpiWorld {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0, size = 1, local_rank = 0;
};
// Initialises MPI (thread level MULTIPLE: an abort may come from any thread) unless it already is
// (finalised at exit) and describes this process's place in the job.
MpiWorld init_mpi_world();

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(const MpiWorld& world);
  ~MpiCommunicator() override;
  std::string backend() const override { return "mpi"; }

 protected:
  Device staging_device(Device) const override { return Device::cpu(); }
  void raw_all_reduce(void* buf, int64_t count, DType dtype, ReduceOp op, Device d) override;
  void raw_all_gather(const void* send, void* recv, int64_t count, DType dtype, Device d) override;
  void raw_reduce_scatter(const void* send, void* recv, int64_t count, DType dtype, Device d) override;
  void raw_broadcast(void* buf, int64_t count, DType dtype, int root, Device d) override;
  void raw_barrier() override;
  [[noreturn]] void kill_job(int code) override;

  // Waits for `request`, under the collective timeout.
  void wait_request(const char* what, MPI_Request& request);
  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_;
};

}  // namespace clipt::dist
