#include "methods/trainer/step_graph.h"

#include "engine/core/capture_guard.h"
#include "engine/ops/ops.h"

namespace clipt::trainer {

GraphMode parse_graph_mode(const std::string& value) {
  if (value == "off") return GraphMode::Off;
  if (value == "auto") return GraphMode::Auto;
  if (value == "on") return GraphMode::On;
  fail("CLIPT.CUDA_GRAPH must be off, auto or on, got '{}'", value);
}

GraphDecision decide_step_graph(GraphMode mode, const GraphFacts& f) {
  if (mode == GraphMode::Off) return {false, "CLIPT.CUDA_GRAPH is off"};
  std::string reason;
  if (!f.device.is_cuda())
    reason = fmt::format("the run is on {} (graphs are a CUDA feature)", f.device.str());
  else if (!f.graphs_available)
    reason = fmt::format("this build or machine cannot capture graphs on {}", f.device.str());
  else if (!f.method_capturable)
    reason = fmt::format("{}'s step is not capturable (its shapes, host reads or host state change between steps)",
                         f.method);
  else if (!f.sgd_f32)
    reason = "the optimizer is not SGD over f32 parameters (only its update is replayable as captured)";
  else if (f.world_size > 1)
    reason = fmt::format("the job has {} ranks (collectives are not captured)", f.world_size);
  else if (f.profiling)
    reason = "the step profiler times eager steps";
  if (reason.empty()) return {true, ""};
  CLIPT_CHECK(mode != GraphMode::On, "CLIPT.CUDA_GRAPH on: cannot capture the training step: {}", reason);
  return {false, reason};
}

StepGraph::StepGraph(methods::Method& method, optim::Optimizer& optimizer, Device device, bool strict,
                     std::function<void(const std::string&)> log)
    : method_(method), optimizer_(optimizer), device_(device), strict_(strict), log_(std::move(log)) {}

StepGraph::~StepGraph() = default;

methods::StepResult StepGraph::eager_step(const methods::TrainBatch& batch) {
  return method_.train_step(batch, optimizer_);
}

void StepGraph::give_up(const std::string& why) {
  CLIPT_CHECK(!strict_, "CLIPT.CUDA_GRAPH on: {}", why);
  if (log_) log_("CUDA graphs off for the rest of the run, steps run eagerly: " + why);
  eager_ = true;
  graph_.reset();
}

void StepGraph::make_buffers(const methods::TrainBatch& batch, const methods::StepResult& warm) {
  NoGrad ng;
  images_ = Tensor::empty(batch.images.shape(), batch.images.dtype(), device_);
  labels_ = Tensor::empty(batch.labels.shape(), batch.labels.dtype(), device_);
  if (batch.domains.defined()) domains_ = Tensor::empty(batch.domains.shape(), batch.domains.dtype(), device_);
  loss_ = Tensor::zeros({}, DType::F32, device_);
  if (warm.logits.defined()) logits_ = Tensor::zeros(warm.logits.shape(), warm.logits.dtype(), device_);
  metrics_.clear();
  for (const auto& [name, t] : warm.metrics) {
    // A number the step computes on the host would be baked into the graph at its capture-time value.
    if (t.device() != device_) {
      give_up(fmt::format("the step's metric '{}' is computed on the host", name));
      return;
    }
    metrics_[name] = Tensor::zeros(t.shape(), t.dtype(), device_);
  }
}

methods::StepResult StepGraph::outputs() const {
  methods::StepResult r;
  r.loss = loss_;
  r.logits = logits_;
  r.metrics = metrics_;
  return r;
}

bool StepGraph::capture(const methods::TrainBatch& batch) {
  const int64_t steps_before = optimizer_.steps();
  graph_ = std::make_unique<DeviceGraph>(device_);
  try {
    graph_->capture(
        [&] {
          methods::TrainBatch tb;
          tb.images = images_;
          tb.labels = labels_;
          tb.domains = domains_;
          tb.host = batch.host;
          tb.epoch = batch.epoch;
          tb.iteration = batch.iteration;
          tb.global_step = batch.global_step;
          const methods::StepResult r = method_.train_step(tb, optimizer_);
          NoGrad ng;
          loss_.copy_(r.loss.reshape({}));
          if (logits_.defined()) logits_.copy_(r.logits);
          for (auto& [name, buffer] : metrics_) {
            auto it = r.metrics.find(name);
            CLIPT_CHECK(it != r.metrics.end(), "CUDA graph: the captured step has no metric '{}'", name);
            buffer.copy_(it->second);
          }
          // The step's gradients were allocated inside the graph: drop them there, so that nothing the
          // graph allocates outlives it (the next step starts with zero_grad anyway).
          optimizer_.zero_grad();
        },
        "a training step");
  } catch (const GraphCaptureError& e) {
    optimizer_.set_steps(steps_before);  // the host side of the step ran, the device side did not
    give_up(e.what());
    return false;
  }
  captured_lr_ = optimizer_.lr();
  ++captures_;
  return true;
}

methods::StepResult StepGraph::step(const methods::TrainBatch& batch) {
  if (eager_) return eager_step(batch);
  if (warmup_left_ > 0) {
    // Eager warm-up: the optimizer's state, the method's caches and the cuBLASLt workspace of the stream
    // come into being here, outside the capture.
    --warmup_left_;
    methods::StepResult r = eager_step(batch);
    if (warmup_left_ == 0) make_buffers(batch, r);
    return r;
  }
  if (batch.images.shape() != images_.shape() || batch.labels.shape() != labels_.shape() ||
      batch.domains.defined() != domains_.defined() ||
      (domains_.defined() && batch.domains.shape() != domains_.shape())) {
    give_up(fmt::format("the batch's shape changed from {} to {} images", shape_str(images_.shape()),
                        shape_str(batch.images.shape())));
    return eager_step(batch);
  }
  {
    NoGrad ng;
    images_.copy_(batch.images);
    labels_.copy_(batch.labels);
    if (domains_.defined()) domains_.copy_(batch.domains);
  }
  if (graph_ && captured_lr_ != optimizer_.lr()) graph_.reset();  // the update's rate is baked in
  if (!graph_) {
    if (!capture(batch)) return eager_step(batch);
    graph_->launch();  // the capture only recorded the step (and counted it): run it
    return outputs();
  }
  graph_->launch();
  optimizer_.set_steps(optimizer_.steps() + 1);  // the host side of a replayed step
  ++replays_;
  return outputs();
}

}  // namespace clipt::trainer
