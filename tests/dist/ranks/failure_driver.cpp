// A two-rank job that fails on purpose, for tests/dist/expect_job_failure.sh:
//   failure_driver throw    rank 1 throws while rank 0 waits in a collective: the job must end with
//                           rank 1's message and a non-zero exit (the path every clipt command takes);
//   failure_driver timeout  rank 1 never joins rank 0's barrier: rank 0's collective times out (1 s) and
//                           aborts the job with a message naming the collective.
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>

#include "engine/core/error.h"
#include "engine/dist/communicator.h"

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    clipt::dist::Communicator& world = clipt::dist::world();
    CLIPT_CHECK(world.world_size() == 2, "failure_driver needs 2 ranks, got {}", world.world_size());
    if (mode == "throw") {
      world.barrier();
      if (world.rank() == 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        clipt::fail("cannot decode image /data/broken.jpg (rank {} on purpose)", world.rank());
      }
      for (;;) world.barrier();  // rank 0 waits for a rank that will never come
    }
    if (mode == "timeout") {
      world.barrier();
      world.set_timeout(1.0);
      if (world.rank() == 1) std::this_thread::sleep_for(std::chrono::seconds(60));
      world.barrier();
      return 0;
    }
    clipt::fail("usage: failure_driver throw|timeout");
  } catch (const clipt::Error& e) {
    clipt::dist::report_error(e.what());
    fmt::print(stderr, "clipt: error: {}\n", e.what());
    return 1;
  }
}
