// world(): the process's communicator, chosen from how it was launched; the single-process backend.
#include <fmt/format.h>

#include <cstdio>
#include <mutex>

#include "engine/core/backend.h"
#include "engine/dist/communicator.h"
#include "engine/dist/launch.h"
#if CLIPT_WITH_MPI
#include "engine/dist/mpi_communicator.h"
#endif

namespace clipt::dist {

#if CLIPT_WITH_NCCL
std::unique_ptr<Communicator> make_nccl_communicator(const MpiWorld& world);  // nccl_communicator.cpp
#endif

namespace {

// World size 1: the base class answers every collective without calling these (a collective over
// one rank is the identity), so they only have to exist.
class SingleProcess final : public Communicator {
 public:
  SingleProcess() : Communicator(0, 1, 0) {}
  std::string backend() const override { return "single"; }

 protected:
  Device staging_device(Device d) const override { return d; }
  void raw_all_reduce(void*, int64_t, DType, ReduceOp, Device) override {}
  void raw_all_gather(const void*, void*, int64_t, DType, Device) override {
    fail("single-process communicator: all_gather reached the backend");
  }
  void raw_reduce_scatter(const void*, void*, int64_t, DType, Device) override {
    fail("single-process communicator: reduce_scatter reached the backend");
  }
  void raw_broadcast(void*, int64_t, DType, int, Device) override {}
  void raw_barrier() override {}
  [[noreturn]] void kill_job(int code) override {
    std::fflush(stderr);
    std::_Exit(code);
  }
};

std::mutex g_world_mutex;
std::unique_ptr<Communicator> g_world;
thread_local Communicator* t_scoped_world = nullptr;  // ScopedWorld

std::unique_ptr<Communicator> make_world() {
  const LaunchInfo launch = detect_launch();
  if (!launch.launched) return make_single_process();
#if CLIPT_WITH_MPI
  const MpiWorld w = init_mpi_world();
#if CLIPT_WITH_NCCL
  // Device tensors go through NCCL whenever this rank sees a device; host tensors through MPI.
  if (cuda_device_count() > 0) return make_nccl_communicator(w);
#endif
  return std::make_unique<MpiCommunicator>(w);
#else
  fail(
      "this process was started by an MPI launcher ({}, rank {} of {}) but clipt was built without MPI: install "
      "libopenmpi-dev and rebuild",
      launch.launcher, launch.rank, launch.world_size);
#endif
}

}  // namespace

std::unique_ptr<Communicator> make_single_process() { return std::make_unique<SingleProcess>(); }

ScopedWorld::ScopedWorld(Communicator& comm) : previous_(t_scoped_world) { t_scoped_world = &comm; }
ScopedWorld::~ScopedWorld() { t_scoped_world = previous_; }

Communicator& world() {
  if (t_scoped_world) return *t_scoped_world;
  std::lock_guard<std::mutex> lock(g_world_mutex);
  if (!g_world) g_world = make_world();
  return *g_world;
}

bool world_initialised() {
  std::lock_guard<std::mutex> lock(g_world_mutex);
  return g_world != nullptr;
}

int report_error(const std::string& message) {
  if (world_initialised() && world().world_size() > 1) world().abort_job(message, 1);
  return 1;
}

}  // namespace clipt::dist
