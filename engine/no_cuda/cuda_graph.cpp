// Built only without CUDA: there are no graphs to capture, and saying so is the whole implementation.
#include "engine/runtime/cuda_graph.h"

#include "engine/core/error.h"

namespace clipt {

struct DeviceGraph::Impl {};

bool device_graphs_available(Device) { return false; }

DeviceGraph::DeviceGraph(Device device) : device_(device) {}
DeviceGraph::~DeviceGraph() = default;

void DeviceGraph::capture(const std::function<void()>&, const std::string& what) {
  fail("CUDA graph of {} on {}: this clipt was built without CUDA", what, device_.str());
}
void DeviceGraph::launch() { fail("CUDA graph on {}: this clipt was built without CUDA", device_.str()); }
bool DeviceGraph::captured() const { return false; }

}  // namespace clipt
