// Without CUDA the profiler runs on the CPU only: its CUDA entry points explain why they cannot run.
#include "engine/core/error.h"
#include "engine/profile/peaks.h"
#include "engine/profile/profiler.h"

namespace clipt::profile {

std::unique_ptr<DeviceTimer> make_cuda_timer(int) {
  fail("profile: this clipt was built without CUDA; profile with --device cpu");
}

Peaks cuda_device_peaks(int) { fail("profile: this clipt was built without CUDA; profile with --device cpu"); }

}  // namespace clipt::profile
