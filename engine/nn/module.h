// Module: a node of a model tree with named parameters, buffers and sub-modules. Names are dotted
// paths ("transformer.resblocks.0.attn.in_proj_weight") and are the checkpoint names, so a state dict
// saves and loads without a mapping table. Parameters and buffers are Tensor members of the concrete
// module, registered by pointer, so moving a module to another device/dtype rebinds those members.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  // Parameters and buffers together: what a checkpoint of this module holds.
  NamedTensors state_dict() const;
  // Copies `state` into the module's tensors (converting dtype/device). With `strict`, a missing or
  // unexpected name is an error; a shape mismatch is always an error naming the tensor and both shapes.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // Sets requires_grad on every parameter of this subtree.
  void requires_grad_(bool on);
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves/casts every parameter and buffer (floating ones only for dtype).
  void to(Device device);
  void to(DType dtype);
  int64_t num_parameters() const;
  // This module's name under the parent that registered it first ("attn", "resblocks.3"; "" for a root).
  // Forwards open a profile::ModuleScope with it, so op records carry checkpoint-style paths.
  const std::string& module_name() const { return name_; }

 protected:
  Tensor& register_parameter(const std::string& name, Tensor* slot, Tensor value, bool requires_grad = true);
  Tensor& register_buffer(const std::string& name, Tensor* slot, Tensor value);
  template <typename M>
  M& register_module(const std::string& name, std::unique_ptr<M>* slot, std::unique_ptr<M> value) {
    *slot = std::move(value);
    if ((*slot)->name_.empty()) (*slot)->name_ = name;
    children_.push_back({name, slot->get()});
    return **slot;
  }
  void register_module_ref(const std::string& name, Module* child) {
    if (child->name_.empty()) child->name_ = name;
    children_.push_back({name, child});
  }

 private:
  void collect(const std::string& prefix, bool params, bool buffers, bool recurse,
               std::vector<std::pair<std::string, Tensor*>>& out) const;
  std::vector<std::pair<std::string, Tensor*>> all_slots() const;

  std::vector<std::pair<std::string, Tensor*>> params_;
  std::vector<std::pair<std::string, Tensor*>> buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
  std::string name_;
};

}  // namespace clipt::nn
