// CUDA graphs: the device work of a piece of host code captured once and replayed with one launch, which
// removes the per-kernel launch cost of a training step whose shapes never change (issue 19). Capture runs
// the host code with the device's current stream in capture mode (thread-local: other threads, such as
// the data loader's, keep using CUDA freely); nothing is executed until launch(). While capturing, the
// allocator records graph allocations and defers frees it may not make (capture_ledger.h), and the capture
// guard (engine/core/capture_guard.h) refuses host reads, uploads, pinned allocations and synchronisations.
//
// This header has no CUDA types: a build without CUDA links engine/no_cuda/cuda_graph.cpp, where
// device_graphs_available() is false and capture() fails with the reason.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "engine/core/device.h"

namespace clipt {

// Whether this build and machine can capture graphs on `device` (a CUDA build and a cuda:N device).
bool device_graphs_available(Device device);

class DeviceGraph {
 public:
  explicit DeviceGraph(Device device);
  ~DeviceGraph();  // destroys the graph; frees the blocks kept for it (ordered after its last launch)
  DeviceGraph(const DeviceGraph&) = delete;
  DeviceGraph& operator=(const DeviceGraph&) = delete;

  // Captures the device work of `body` (`what` names it in messages) and instantiates the graph. On
  // failure nothing has run on the device and a GraphCaptureError names the cause: the body's own error
  // (the capture guard's), the driver's refusal, or device blocks the body allocated and kept (they would
  // point into a graph that is never launched: that case is an Error, not a GraphCaptureError, because the
  // host state holding them cannot be used any more).
  void capture(const std::function<void()>& body, const std::string& what);
  // Runs the captured work on the device's current stream (asynchronously).
  void launch();
  bool captured() const;

  struct Impl;

 private:
  Device device_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clipt
