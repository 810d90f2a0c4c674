// CUDA graphs for the training step (CLIPT.CUDA_GRAPH, issue 19). A step whose shapes never change (the
// CoOp family over drop_last batches) launches the same few hundred kernels every time; capturing them once
// into a graph and replaying it removes their launch cost. What makes a step replayable:
//   - the method says so (Method::graph_capturable: fixed shapes, no host read, upload or random draw inside
//     the step, no host state that changes between steps);
//   - SGD over f32 parameters: its fused update takes the learning rate as a kernel argument, so the graph is
//     captured again whenever the rate changes (once per epoch under a schedule); AdamW's bias correction
//     changes every step and is not replayable;
//   - one process (a collective inside the graph is not attempted), no step profiler, a CUDA device.
// Tensors that outlive a step exist before the capture and are written in place: the parameters and SGD's
// momentum buffers (made by two eager warm-up steps), the static input buffers the batch is copied into, and
// the static loss/logits/metric buffers the step's results are copied into; the step's gradients are
// dropped inside the graph. A capture that fails (the capture guard's refusals, the driver's) runs the step
// eagerly instead: with CLIPT.CUDA_GRAPH on that is an error, with auto one log line and eager steps after.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/runtime/cuda_graph.h"
#include "methods/method.h"

namespace clipt::trainer {

enum class GraphMode { Off, Auto, On };
// "off" | "auto" | "on" (CLIPT.CUDA_GRAPH); anything else is an error naming the key and the value.
GraphMode parse_graph_mode(const std::string& value);

// What decides whether a run's steps are captured.
struct GraphFacts {
  std::string method;
  bool method_capturable = false;  // Method::graph_capturable()
  Device device;
  bool graphs_available = false;  // device_graphs_available(device)
  bool sgd_f32 = false;           // the optimizer is SGD and every parameter is f32
  int world_size = 1;
  bool profiling = false;
};
struct GraphDecision {
  bool use = false;
  std::string reason;  // why the steps run eagerly (empty when they are captured)
};
// Off: never. Auto: when every fact allows it, else not, with the first reason. On: the same, except that a
// reason is an error naming it.
GraphDecision decide_step_graph(GraphMode mode, const GraphFacts& facts);

// Runs a method's training steps through a CUDA graph: two eager warm-up steps, then a capture (which also
// runs that step), then replays; captured again when the optimizer's learning rate changes.
class StepGraph {
 public:
  // `strict`: a failed capture is an error (CLIPT.CUDA_GRAPH on) instead of a fall-back to eager steps.
  StepGraph(methods::Method& method, optim::Optimizer& optimizer, Device device, bool strict,
            std::function<void(const std::string&)> log);
  ~StepGraph();

  // One training step. The loss, logits and metrics of a replayed step are the runner's static buffers:
  // read or copy them before the next step.
  methods::StepResult step(const methods::TrainBatch& batch);

  int64_t captures() const { return captures_; }  // graphs captured so far
  int64_t replays() const { return replays_; }    // steps run by a replay
  bool eager() const { return eager_; }           // gave up on graphs (a failed capture, auto mode)

  static constexpr int kWarmupSteps = 2;

 private:
  methods::StepResult eager_step(const methods::TrainBatch& batch);
  void make_buffers(const methods::TrainBatch& batch, const methods::StepResult& warm);
  bool capture(const methods::TrainBatch& batch);  // false: fell back to eager (the step was not run)
  void give_up(const std::string& why);
  methods::StepResult outputs() const;

  methods::Method& method_;
  optim::Optimizer& optimizer_;
  Device device_;
  bool strict_;
  std::function<void(const std::string&)> log_;
  int warmup_left_ = kWarmupSteps;
  bool eager_ = false;
  std::unique_ptr<DeviceGraph> graph_;
  double captured_lr_ = 0;
  int64_t captures_ = 0, replays_ = 0;
  // Static buffers: the batch is copied in, the results copied out.
  Tensor images_, labels_, domains_;
  Tensor loss_, logits_;
  methods::Metrics metrics_;
};

}  // namespace clipt::trainer
