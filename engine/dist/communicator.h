// The communicator of a data-parallel job: rank, world size and local rank, and the collectives that
// data parallelism needs — all_reduce (sum/mean/max of a list of tensors packed into one flat bucket,
// so one call is one collective), all_gather and reduce_scatter along dim 0, broadcast and barrier.
//
// Backends (engine/dist/*_communicator.cpp): single-process (world size 1: collectives are identities),
// MPI (host tensors; CPU runs, CI, and the bootstrap of NCCL) and NCCL (device tensors, one device per
// rank = the local rank; host tensors go through MPI). world() picks one from how the process was
// launched (launch.h): mpirun / srun --mpi=pmix → MPI, or NCCL when built with it and a device is
// visible; a plain start → single-process.
//
// Failure: every collective polls for completion against a deadline (set_timeout); one that does not
// complete aborts the whole job with a message naming the collective, this rank and the timeout, never
// a hang. abort_job() is how one rank's error stops every rank (apps call it from their error handler).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt::dist {

enum class ReduceOp { Sum, Mean, Max };

// Time and volume of this rank's collectives since the last reset. With measure_wait on, every
// collective is preceded by a barrier whose time is `wait_seconds` (waiting for the slowest rank), so
// `comm_seconds` is the transfer itself; otherwise the waiting is inside comm_seconds.
struct CommStats {
  int64_t calls = 0;
  int64_t bytes = 0;  // payload bytes handed to the backend by this rank
  double comm_seconds = 0;
  double wait_seconds = 0;
  // CPU time of the calling thread inside collectives and their barriers (polling, copies, reductions),
  // so that a rank's CPU time can be split into its share of the step's work and the collectives'.
  double cpu_seconds = 0;
};

class Communicator {
 public:
  Communicator(int rank, int world_size, int local_rank);
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  bool is_root() const { return rank_ == 0; }
  virtual std::string backend() const = 0;  // "single" | "mpi" | "nccl"

  // In place over every tensor of the list, as one flat bucket (one collective per call). Tensors
  // must share a device; floating tensors are reduced in f32 (f64 stays f64), integer ones in i64.
  void all_reduce(std::vector<Tensor>& tensors, ReduceOp op);
  void all_reduce(Tensor& tensor, ReduceOp op);
  // Host numbers (counts, losses): reduced in f64.
  std::vector<double> all_reduce(std::vector<double> values, ReduceOp op);
  double all_reduce(double value, ReduceOp op);
  // The ranks' tensors (equal shapes) concatenated along dim 0 in rank order. Not on the tape (see
  // ops.h: all_gather_rows for the differentiable one).
  Tensor all_gather(const Tensor& local);
  // The sum over ranks of `full`, split along dim 0 into world_size equal parts; this rank's part.
  Tensor reduce_scatter(const Tensor& full);
  // Every tensor of the list takes root's values (in place).
  void broadcast(std::vector<Tensor>& tensors, int root = 0);
  void barrier();

  // Collectives that do not complete within `seconds` abort the job (default 300 s, or the
  // CLIPT_COLLECTIVE_TIMEOUT environment variable).
  void set_timeout(double seconds);
  double timeout() const { return timeout_s_; }
  void set_measure_wait(bool on) { measure_wait_ = on; }
  const CommStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }
  // Called after every collective with its name and seconds (e.g. a profiler's "communication" phase).
  void set_observer(std::function<void(const char* name, double seconds)> f) { observer_ = std::move(f); }

  // Stops every rank of the job with exit code `code` after printing `message` (prefixed with this
  // rank) on stderr. World size 1: prints nothing and returns (the caller exits normally).
  virtual void abort_job(const std::string& message, int code = 1);

 protected:
  // The device a collective's buffer must live on for a tensor on `d` (MPI: the host).
  virtual Device staging_device(Device d) const = 0;
  // Raw collectives on contiguous buffers on staging_device(); counts are elements. They return once
  // the result is in place, polling `wait_done` so that the deadline applies.
  virtual void raw_all_reduce(void* buf, int64_t count, DType dtype, ReduceOp op, Device d) = 0;
  virtual void raw_all_gather(const void* send, void* recv, int64_t count, DType dtype, Device d) = 0;
  virtual void raw_reduce_scatter(const void* send, void* recv, int64_t count, DType dtype, Device d) = 0;
  virtual void raw_broadcast(void* buf, int64_t count, DType dtype, int root, Device d) = 0;
  virtual void raw_barrier() = 0;
  // Kills every rank (MPI_Abort); never returns.
  [[noreturn]] virtual void kill_job(int code) = 0;

  // Polls `done` until it returns true; past the deadline, aborts the job naming `what`.
  void wait_done(const char* what, const std::function<bool()>& done);

 private:
  template <typename F> void timed(const char* name, int64_t bytes, F&& f);

  int rank_, world_size_, local_rank_;
  double timeout_s_;
  bool measure_wait_ = false;
  CommStats stats_;
  std::function<void(const char*, double)> observer_;
};

// The process's communicator, created on first use from the launch environment.
Communicator& world();
// Whether world() has been created (an error handler must not initialise MPI just to report).
bool world_initialised();
// While it lives, world() is `comm` on this thread: code that finds its communicator through world()
// (the protocols, a stage-1 sub-run) runs as one process inside a job, e.g. the reference a test
// compares a data-parallel run against. Scopes nest.
class ScopedWorld {
 public:
  explicit ScopedWorld(Communicator& comm);
  ~ScopedWorld();
  ScopedWorld(const ScopedWorld&) = delete;
  ScopedWorld& operator=(const ScopedWorld&) = delete;

 private:
  Communicator* previous_;
};
// A world of one process (tests use it as the reference of a distributed run).
std::unique_ptr<Communicator> make_single_process();

// Reports an error of this process: one line on stderr; in a job of several ranks, every rank is
// stopped (never returns). Returns the exit code (1) otherwise.
int report_error(const std::string& message);

}  // namespace clipt::dist
