// The autograd graph ("tape"): an op that sees an input requiring grad (with grad mode on) records a
// Node holding only what its backward needs. backward() walks the nodes reachable from the loss in
// reverse topological order and asks each node only for the input gradients that are needed.
#pragma once
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt {

using TensorList = std::vector<Tensor>;

// Where the gradient of one input goes: into the node that produced it, or into a leaf's .grad.
struct Edge {
  std::shared_ptr<Node> fn;
  int output_nr = 0;
  std::shared_ptr<TensorImpl> leaf;
  bool valid() const { return fn != nullptr || leaf != nullptr; }
};

struct OutputMeta {
  Shape shape;
  DType dtype;
  Device device;
};

struct Node {
  virtual ~Node() = default;
  // grad_outputs has one defined tensor per output; returns one gradient per input (undefined where
  // needs_input_grad(i) is false).
  virtual TensorList apply(const TensorList& grad_outputs) = 0;
  // Frees saved tensors after a backward pass without retain_graph.
  virtual void release() = 0;

  bool needs_input_grad(size_t i) const { return i < next.size() && next[i].valid(); }

  std::string name;
  int32_t profile_module = 0;       // the module path its forward ran under (engine/profile), for its backward
  std::vector<Edge> next;           // one per input
  std::vector<OutputMeta> outputs;  // one per output
  bool released = false;
};

// The usual node: a closure that captures (detached) saved tensors and computes input gradients with
// engine ops, so every backward runs on every backend.
using BackwardFn = std::function<TensorList(const TensorList& grad_outputs, const Node& node)>;

struct FunctionNode final : Node {
  BackwardFn fn;
  TensorList apply(const TensorList& grad_outputs) override { return fn(grad_outputs, *this); }
  void release() override { fn = nullptr; }
};

// True when grad mode is on and any input requires grad: only then do ops record a node.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const TensorList& inputs);

// Records a node for `outputs` computed from `inputs` (no-op unless any_requires_grad). Saved tensors
// must be captured detached (Tensor::detach) so that a node never owns its own outputs' history.
void record(const char* name, const TensorList& inputs, const std::vector<Tensor*>& outputs, BackwardFn fn);

// Runs backward from `root` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);
// Gradients of `root` w.r.t. `inputs` without touching any .grad (like torch.autograd.grad).
TensorList grad_of(const Tensor& root, const TensorList& inputs, bool retain_graph = false);

}  // namespace clipt
