#include "engine/nn/module.h"

#include <set>

#include "engine/ops/ops.h"

namespace clipt::nn {

Tensor& Module::register_parameter(const std::string& name, Tensor* slot, Tensor value, bool requires_grad) {
  *slot = std::move(value);
  if (requires_grad && is_floating(slot->dtype())) slot->requires_grad_(true);
  params_.push_back({name, slot});
  return *slot;
}

Tensor& Module::register_buffer(const std::string& name, Tensor* slot, Tensor value) {
  *slot = std::move(value);
  buffers_.push_back({name, slot});
  return *slot;
}

void Module::collect(const std::string& prefix, bool params, bool buffers, bool recurse,
                     std::vector<std::pair<std::string, Tensor*>>& out) const {
  if (params)
    for (const auto& [n, t] : params_)
      if (t->defined()) out.push_back({prefix + n, t});
  if (buffers)
    for (const auto& [n, t] : buffers_)
      if (t->defined()) out.push_back({prefix + n, t});
  if (!recurse) return;
  for (const auto& [n, m] : children_) m->collect(prefix + n + ".", params, buffers, true, out);
}

std::vector<std::pair<std::string, Tensor*>> Module::all_slots() const {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect("", true, true, true, out);
  return out;
}

NamedTensors Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", true, false, recurse, slots);
  NamedTensors out;
  for (auto& [n, t] : slots) out.push_back({n, *t});
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", false, true, recurse, slots);
  NamedTensors out;
  for (auto& [n, t] : slots) out.push_back({n, *t});
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  for (auto& [n, t] : all_slots()) out.push_back({n, *t});
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  std::set<std::string> used;
  std::vector<std::string> missing;
  for (auto& [name, slot] : all_slots()) {
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
      continue;
    }
    used.insert(name);
    const Tensor& src = it->second;
    CLIPT_CHECK(src.shape() == slot->shape(), "load_state_dict: tensor '{}' has shape {}, the model expects {}", name,
                shape_str(src.shape()), shape_str(slot->shape()));
    NoGrad ng;
    slot->copy_(src);
  }
  if (!strict) return;
  CLIPT_CHECK(missing.empty(), "load_state_dict: missing tensor{} {}", missing.size() > 1 ? "s" : "",
              fmt::join(missing, ", "));
  std::vector<std::string> unexpected;
  for (auto& [name, t] : state)
    if (!used.count(name)) unexpected.push_back(name);
  CLIPT_CHECK(unexpected.empty(), "load_state_dict: unexpected tensor{} {}", unexpected.size() > 1 ? "s" : "",
              fmt::join(unexpected, ", "));
}

void Module::requires_grad_(bool on) {
  for (auto& [n, t] : named_parameters()) {
    Tensor p = t;
    if (is_floating(p.dtype())) p.requires_grad_(on);
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, m] : children_) m->train(on);
}

namespace {
// Replaces the tensor in a slot by a converted leaf that keeps the requires_grad flag.
void rebind(Tensor* slot, const Tensor& converted) {
  const bool rg = slot->requires_grad();
  Tensor leaf = converted.detach();
  if (rg) leaf.requires_grad_(true);
  *slot = leaf;
}
}  // namespace

void Module::to(Device device) {
  NoGrad ng;
  for (auto& [n, t] : all_slots())
    if (t->device() != device) rebind(t, t->to(device));
}

void Module::to(DType dtype) {
  NoGrad ng;
  for (auto& [n, t] : all_slots())
    if (is_floating(t->dtype()) && t->dtype() != dtype) rebind(t, t->to(dtype));
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

}  // namespace clipt::nn
