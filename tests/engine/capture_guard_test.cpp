// The capture guard (engine/core/capture_guard.h) with a simulated capture: a CaptureScope on the CPU
// marks the thread exactly as the CUDA graph capture does for its device, so the refusals (host reads,
// pinned host allocations) are checked here without a GPU; the graph wrapper's refusal of non-CUDA
// devices too. tests/gpu/cuda_graph_step_test.cpp checks the same refusals inside a real capture.
#include "engine/core/capture_guard.h"

#include <thread>

#include "engine/ops/ops.h"
#include "engine/runtime/cuda_graph.h"
#include "engine/runtime/pinned_host.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

Tensor two_values() { return Tensor::from_vector(std::vector<float>{1, 2}, {2}); }

TEST(CaptureGuard, RefusesHostReadsOfTheCapturedDevice) {
  const Tensor t = two_values();
  {
    CaptureScope scope(Device::cpu(), "a test step");
    ASSERT_TRUE(capturing_device().has_value());
    EXPECT_EQ(*capturing_device(), Device::cpu());
    EXPECT_THROW((void)t.to_vector<float>(), GraphCaptureError);
    try {
      (void)sum(t).item();
      ADD_FAILURE() << "item() during a capture was not refused";
    } catch (const GraphCaptureError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("a test step"), std::string::npos) << m;
      EXPECT_NE(m.find("host read"), std::string::npos) << m;
      EXPECT_NE(m.find("CLIPT.CUDA_GRAPH"), std::string::npos) << m;
    }
    // Queuing work is what a capture is for: ops are fine.
    EXPECT_NO_THROW((void)add(t, t));
  }
  EXPECT_FALSE(capturing_device().has_value());
  EXPECT_EQ(t.to_vector<float>()[1], 2.0f) << "reads are allowed again after the scope";
}

TEST(CaptureGuard, HostDataOfAnotherDeviceMayBeRead) {
  // Capturing for a GPU, the host token ids (cpu tensors) stay readable: only the device's values wait.
  CaptureScope scope(Device::cuda(0), "a device step");
  EXPECT_EQ(two_values().to_vector<float>().size(), 2u);
}

TEST(CaptureGuard, RefusesPinnedHostAllocations) {
  CaptureScope scope(Device::cpu(), "a test step");
  EXPECT_ERROR_CONTAINS((void)pinned_empty({4}, DType::F32), "pinned host allocation");
}

TEST(CaptureGuard, IsPerThreadAndDoesNotNest) {
  CaptureScope scope(Device::cpu(), "a test step");
  EXPECT_ERROR_CONTAINS(CaptureScope(Device::cpu(), "another"), "already capturing a test step");
  bool other_thread_read = false;
  std::thread loader([&] { other_thread_read = two_values().to_vector<float>().size() == 2; });
  loader.join();
  EXPECT_TRUE(other_thread_read) << "a loader thread is not part of the capture";
}

TEST(CaptureGuard, GraphsNeedACudaDevice) {
  EXPECT_FALSE(device_graphs_available(Device::cpu()));
  EXPECT_ERROR_CONTAINS(DeviceGraph(Device::cpu()), "not a CUDA device");
}

}  // namespace
}  // namespace clipt
