// The profiler on a GPU: ops on the device are timed by CUDA events (resolved at the end of the step),
// a transfer to the host is a host wait, the trace has a device track with one event per timed op, and
// the device's peaks come from the table or its properties. Skips without a device.
#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "engine/profile/peaks.h"
#include "engine/profile/profiler.h"
#include "engine/profile/report.h"
#include "tests/gpu/gpu_test_util.h"

namespace clipt::profile {
namespace {

using test::gpu::cuda0;
using test::gpu::random_cpu;

TEST(CudaProfile, EventTimesHostWaitsAndDeviceTrack) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor a = random_cpu({256, 512}, DType::F32, 1).to(cuda0()), b = random_cpu({512, 384}, DType::F32, 2).to(cuda0());
  Session s(cuda0());
  s.begin_step();
  Tensor y = softmax(matmul(a, b), -1);
  const std::vector<float> host = y.to(Device::cpu()).to_vector<float>();
  s.end_step();
  const Profile p = s.finish();
  ASSERT_EQ(host.size(), size_t(256 * 384));
  size_t timed = 0;
  bool saw_gemm = false, saw_d2h = false;
  for (const OpRecord& r : p.ops) {
    if (std::string(r.op) == "gemm") {
      saw_gemm = true;
      EXPECT_GT(r.device_us, 0) << "GEMM timed by events";
      EXPECT_DOUBLE_EQ(r.flops, 2.0 * 256 * 384 * 512);
    }
    if (std::string(r.op) == "copy_d2h") {
      saw_d2h = true;
      EXPECT_EQ(r.phase, Phase::HostWait);
    }
    timed += r.device_us >= 0;
  }
  EXPECT_TRUE(saw_gemm && saw_d2h);
  EXPECT_GT(p.steps[0].phase_us[size_t(Phase::HostWait)], 0);
  size_t device_events = 0;
  for (const auto& e : chrome_trace(p)["traceEvents"]) device_events += e.value("cat", "") == "device_op";
  EXPECT_EQ(device_events, timed);
  const Peaks peaks = cuda_device_peaks(0);
  EXPECT_GT(peaks.bandwidth, 1e11) << peaks.source;
  EXPECT_GT(peaks.gemm_f16, peaks.gemm_f32) << peaks.source;
}

}  // namespace
}  // namespace clipt::profile
