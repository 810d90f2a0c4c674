#include "engine/runtime/cuda_graph.h"

#include <cuda_runtime_api.h>

#include <exception>

#include "engine/core/capture_guard.h"
#include "engine/core/error.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/memory.h"

namespace clipt {

struct DeviceGraph::Impl {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  std::shared_ptr<cuda::DeviceCaptureLedger> ledger;  // the blocks kept for the graph
};

bool device_graphs_available(Device device) { return device.is_cuda() && device.index < cuda::device_count(); }

DeviceGraph::DeviceGraph(Device device) : device_(device), impl_(std::make_unique<Impl>()) {
  CLIPT_CHECK(device.is_cuda(), "CUDA graph: {} is not a CUDA device", device.str());
}

DeviceGraph::~DeviceGraph() {
  // An executable graph still running is freed by the driver once it completes; the kept blocks are freed
  // stream-ordered on their home stream (the capturing one), after the launches queued there.
  if (impl_->exec) (void)cudaGraphExecDestroy(impl_->exec);
  if (impl_->graph) (void)cudaGraphDestroy(impl_->graph);
  if (impl_->ledger) impl_->ledger->release_kept();
}

bool DeviceGraph::captured() const { return impl_->exec != nullptr; }

void DeviceGraph::capture(const std::function<void()>& body, const std::string& what) {
  CLIPT_CHECK(!captured(), "CUDA graph of {} on {}: already captured", what, device_.str());
  const int dev = device_.index;
  cuda::DeviceGuard guard(dev);
  const cudaStream_t stream = cuda::current_stream(dev);
  auto ledger = std::make_shared<cuda::DeviceCaptureLedger>();
  cuda::set_capture_ledger(dev, stream, ledger);
  // Thread-local mode: only this thread's unsafe calls (synchronisations, cudaMalloc) break the capture,
  // so loader threads keep staging batches meanwhile.
  const cudaError_t begin = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  if (begin != cudaSuccess) {
    cuda::set_capture_ledger(dev, stream, nullptr);
    (void)cudaGetLastError();
    throw GraphCaptureError(fmt::format("CUDA graph capture of {} on {}: cudaStreamBeginCapture failed: {}", what,
                                        device_.str(), cudaGetErrorString(begin)));
  }
  std::exception_ptr error;
  try {
    CaptureScope scope(device_, what);
    body();
  } catch (...) { error = std::current_exception(); }
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(stream, &graph);
  cuda::set_capture_ledger(dev, stream, nullptr);
  std::string failure;
  if (end != cudaSuccess) {
    (void)cudaGetLastError();
    failure = fmt::format("the driver ended the capture with {} ({}): the step made a call a graph cannot hold",
                          cudaGetErrorName(end), cudaGetErrorString(end));
  }
  cudaGraphExec_t exec = nullptr;
  if (!error && failure.empty()) {
    const cudaError_t inst = cudaGraphInstantiate(&exec, graph, 0);
    if (inst != cudaSuccess) {
      (void)cudaGetLastError();
      exec = nullptr;
      failure =
          fmt::format("cudaGraphInstantiate failed with {} ({})", cudaGetErrorName(inst), cudaGetErrorString(inst));
    }
  }
  const auto escapes = ledger->escapes();
  if (!error && failure.empty() && escapes.empty()) {
    impl_->graph = graph;
    impl_->exec = exec;
    impl_->ledger = ledger;
    return;
  }
  if (exec) (void)cudaGraphExecDestroy(exec);
  if (graph) (void)cudaGraphDestroy(graph);
  ledger->release_kept();  // nothing was launched, so nothing reads the kept blocks
  if (!escapes.empty()) {
    size_t bytes = 0;
    for (const auto& [block, n] : escapes) bytes += n;
    // These tensors hold addresses of a graph that is never launched: the process cannot go on using them.
    fail(
        "CUDA graph capture of {} on {}: {} device block(s) ({} bytes) allocated inside the step outlive it (a "
        "tensor kept across steps is created inside the step, e.g. a lazily built cache); the run cannot continue "
        "from here: set CLIPT.CUDA_GRAPH off{}",
        what, device_.str(), escapes.size(), bytes, error ? " (the capture also failed)" : "");
  }
  if (error && end == cudaSuccess) std::rethrow_exception(error);  // the body's own error (or the guard's)
  if (error) {
    // The driver invalidated the capture (a call the guard does not know): what the body then saw came
    // from that, so it is a capture failure the caller may recover from by running the step eagerly.
    std::string body_error = "an unknown exception";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) { body_error = e.what(); } catch (...) {
    }
    failure += "; inside the step: " + body_error;
  }
  throw GraphCaptureError(fmt::format("CUDA graph capture of {} on {}: {}", what, device_.str(), failure));
}

void DeviceGraph::launch() {
  CLIPT_CHECK(captured(), "CUDA graph on {}: launch before a successful capture", device_.str());
  cuda::DeviceGuard guard(device_.index);
  CLIPT_CUDA_CHECK(cudaGraphLaunch(impl_->exec, cuda::current_stream(device_.index)));
}

}  // namespace clipt
