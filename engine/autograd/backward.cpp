// The backward pass: Kahn's algorithm over the nodes reachable from the root, so each node runs once,
// after every consumer of its outputs has contributed its gradient.
#include <unordered_map>
#include <unordered_set>

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/profile/profiler.h"

namespace clipt {

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const TensorList& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

void record(const char* name, const TensorList& inputs, const std::vector<Tensor*>& outputs, BackwardFn fn) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<FunctionNode>();
  node->name = name;
  node->profile_module = profile::current_module();
  node->fn = std::move(fn);
  node->next.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    if (!in.requires_grad()) continue;
    if (in.grad_fn()) {
      node->next[i].fn = in.grad_fn();
      node->next[i].output_nr = in.impl()->output_nr;
    } else {
      node->next[i].leaf = in.impl_ptr();
    }
  }
  int nr = 0;
  for (Tensor* out : outputs) {
    node->outputs.push_back({out->shape(), out->dtype(), out->device()});
    TensorImpl* impl = out->impl();
    impl->requires_grad = true;
    impl->grad_fn = node;
    impl->output_nr = nr++;
  }
}

namespace {

// Gradients are summed with the backend's Add directly, so the tape needs no op layer above it.
Tensor sum_of(const Tensor& a, const Tensor& b) {
  const Tensor bc = b.dtype() == a.dtype() ? b : b.to(a.dtype());
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  backend_for(a.device()).binary(BinaryOp::Add, a, bc, out);
  return out;
}

Tensor accumulate(const Tensor& existing, const Tensor& g) {
  if (!existing.defined()) return g;
  return sum_of(existing, g);
}

// existing += g in place when nothing else holds the .grad buffer (PyTorch's rule): the leaf's grad and
// the caller's `existing` are its only handles, and no view shares its storage. Otherwise a new tensor,
// so a gradient a method kept (SAM's first-pass gradient, say) never changes under it.
bool owned_by_leaf(const Tensor& existing, const Tensor& g) {
  return existing.is_contiguous() && existing.impl_ptr().use_count() <= 2 && existing.storage().use_count() == 1 &&
         !existing.shares_storage(g);
}

// A gradient nothing but its single handle can see: one TensorImpl owner, its own storage, contiguous. The
// tape may then add into it, or keep it as a leaf's .grad, without a copy.
bool sole_owner(const Tensor& t) {
  return t.is_contiguous() && t.impl_ptr().use_count() == 1 && t.storage().use_count() == 1;
}

void accumulate_in_place(Tensor& existing, const Tensor& g) {
  const Tensor gc = g.dtype() == existing.dtype() ? g : g.to(existing.dtype());
  backend_for(existing.device()).binary(BinaryOp::Add, existing, gc, existing);
}

void check_grad_shape(const Tensor& g, const Shape& expected, const Node& node, size_t input) {
  CLIPT_CHECK(g.shape() == expected, "backward of '{}': gradient for input {} has shape {}, expected {}", node.name,
              input, shape_str(g.shape()), shape_str(expected));
}

// Shared by backward() and grad_of(). With `captures`, gradients reaching the listed leaves or node
// outputs are returned instead of being accumulated into .grad.
struct BackwardPass {
  bool retain_graph = false;
  bool capture_only = false;
  std::unordered_map<const TensorImpl*, size_t> leaf_captures;
  std::unordered_map<const Node*, std::vector<std::pair<int, size_t>>> node_captures;
  TensorList captured;

  // Adds g to a node's pending output gradient: in place when the tape holds the only handle on the
  // pending sum (a fresh gradient of an earlier consumer), which saves one buffer per fan-out (the residual
  // stream's two consumers in every block); a new tensor when anything else may see it.
  static void accumulate_into(Tensor& slot, const Tensor& g) {
    if (slot.defined() && is_floating(slot.dtype()) && sole_owner(slot) && !slot.shares_storage(g))
      accumulate_in_place(slot, g);
    else
      slot = accumulate(slot, g);
  }

  void deliver_to_leaf(const std::shared_ptr<TensorImpl>& leaf, Tensor g) {
    if (capture_only) {
      auto it = leaf_captures.find(leaf.get());
      if (it != leaf_captures.end()) captured[it->second] = accumulate(captured[it->second], g);
      return;
    }
    Tensor leaf_tensor(leaf);
    Tensor existing = leaf_tensor.grad();
    // On first arrival a gradient that no one else holds becomes .grad as it is; otherwise a fresh copy,
    // since g may alias a gradient delivered elsewhere too.
    if (existing.defined() && owned_by_leaf(existing, g)) {
      accumulate_in_place(existing, g);
    } else if (existing.defined()) {
      leaf_tensor.set_grad(sum_of(existing, g));
    } else if (g.dtype() == leaf->dtype && !g.requires_grad() && sole_owner(g)) {
      leaf_tensor.set_grad(g);
    } else {
      leaf_tensor.set_grad(g.to(leaf->dtype).clone());
    }
  }

  void run(const Tensor& root, const Tensor& root_grad) {
    NoGrad no_grad;  // backward formulas are not themselves recorded (no double backward)
    Node* root_node = root.grad_fn().get();
    if (!root_node) {
      deliver_to_leaf(root.impl_ptr(), root_grad);
      return;
    }
    // Discover reachable nodes and count, for each, how many edges point at it.
    std::unordered_map<Node*, int> pending;
    std::vector<Node*> stack{root_node};
    std::unordered_set<Node*> seen{root_node};
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      CLIPT_CHECK(!n->released,
                  "backward through the graph a second time: node '{}' already freed its saved tensors "
                  "(pass retain_graph=true to the first backward)",
                  n->name);
      for (const Edge& e : n->next) {
        if (!e.fn) continue;
        Node* c = e.fn.get();
        ++pending[c];
        if (seen.insert(c).second) stack.push_back(c);
      }
    }
    std::unordered_map<Node*, TensorList> buffers;
    buffers[root_node].resize(root_node->outputs.size());
    buffers[root_node][size_t(root.impl()->output_nr)] = root_grad;

    std::vector<Node*> ready{root_node};
    while (!ready.empty()) {
      Node* node = ready.back();
      ready.pop_back();
      TensorList grads = std::move(buffers[node]);
      buffers.erase(node);
      grads.resize(node->outputs.size());
      for (size_t k = 0; k < grads.size(); ++k) {
        if (!grads[k].defined()) {
          const OutputMeta& m = node->outputs[k];
          grads[k] = Tensor::zeros(m.shape, m.dtype, m.device);
        }
      }
      if (auto it = node_captures.find(node); it != node_captures.end())
        for (auto [nr, slot] : it->second) captured[slot] = accumulate(captured[slot], grads[size_t(nr)]);

      TensorList in_grads;
      {
        profile::ModuleIdScope scope(node->profile_module);
        in_grads = node->apply(grads);
      }
      CLIPT_CHECK(in_grads.size() <= node->next.size(), "backward of '{}' returned {} gradients for {} inputs",
                  node->name, in_grads.size(), node->next.size());
      if (!retain_graph) {
        node->release();
        node->released = true;
      }
      grads.clear();  // this node's output gradients are spent: only in_grads may still hold them
      for (size_t i = 0; i < node->next.size(); ++i) {
        const Edge& e = node->next[i];
        // Moved out, so that a gradient no other slot shares is solely owned from here on.
        Tensor g = i < in_grads.size() ? std::move(in_grads[i]) : Tensor();
        if (e.fn) {
          if (g.defined()) {
            check_grad_shape(g, e.fn->outputs[size_t(e.output_nr)].shape, *node, i);
            auto& buf = buffers[e.fn.get()];
            buf.resize(e.fn->outputs.size());
            accumulate_into(buf[size_t(e.output_nr)], g);
          }
          if (--pending[e.fn.get()] == 0) ready.push_back(e.fn.get());
        } else if (e.leaf && g.defined()) {
          check_grad_shape(g, e.leaf->shape, *node, i);
          deliver_to_leaf(e.leaf, std::move(g));
        }
      }
    }
  }
};

Tensor default_root_grad(const Tensor& root, const Tensor& grad) {
  if (grad.defined()) {
    CLIPT_CHECK(grad.shape() == root.shape(), "backward: gradient shape {} does not match output shape {}",
                shape_str(grad.shape()), shape_str(root.shape()));
    return grad;
  }
  CLIPT_CHECK(root.numel() == 1, "backward: a gradient can be implied only for a one-element output, got {}",
              describe(root));
  return Tensor::ones(root.shape(), root.dtype(), root.device());
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  CLIPT_CHECK(root.requires_grad(), "backward: tensor {} does not require grad and has no grad_fn", describe(root));
  profile::PhaseScope phase(profile::Phase::Backward);
  BackwardPass pass;
  pass.retain_graph = retain_graph;
  pass.run(root, default_root_grad(root, grad));
}

TensorList grad_of(const Tensor& root, const TensorList& inputs, bool retain_graph) {
  CLIPT_CHECK(root.requires_grad(), "grad_of: tensor {} does not require grad", describe(root));
  profile::PhaseScope phase(profile::Phase::Backward);
  BackwardPass pass;
  pass.retain_graph = retain_graph;
  pass.capture_only = true;
  pass.captured.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    CLIPT_CHECK(t.requires_grad(), "grad_of: input {} ({}) does not require grad", i, describe(t));
    if (t.grad_fn())
      pass.node_captures[t.grad_fn().get()].push_back({t.impl()->output_nr, i});
    else
      pass.leaf_captures[t.impl()] = i;
  }
  pass.run(root, default_root_grad(root, Tensor()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!pass.captured[i].defined())
      pass.captured[i] = Tensor::zeros(inputs[i].shape(), inputs[i].dtype(), inputs[i].device());
  return pass.captured;
}

// Declared with the Tensor type (engine/core) and defined here, with the tape it runs.
void Tensor::backward(const Tensor& grad, bool retain_graph) const { run_backward(*this, grad, retain_graph); }

}  // namespace clipt
