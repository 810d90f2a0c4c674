#include <algorithm>
#include <mutex>

#include "engine/core/closest_name.h"
#include "methods/builtin.h"
#include "methods/method.h"

namespace clipt::methods {

namespace {

struct Entry {
  std::string name;
  MethodFactory factory;
  std::vector<std::string> aliases;
  std::string config_group;
};

std::vector<Entry>& entries() {
  static std::vector<Entry> e;
  return e;
}

// Built-in methods register on first use, so static libraries never drop them.
void ensure_builtins() {
  static std::once_flag once;
  std::call_once(once, register_builtin_methods);
}

const Entry* find(const std::string& name) {
  ensure_builtins();
  for (const Entry& e : entries()) {
    if (e.name == name) return &e;
    for (const auto& a : e.aliases)
      if (a == name) return &e;
  }
  return nullptr;
}

}  // namespace

ClassSplit parse_class_split(const std::string& s) {
  if (s == "base") return ClassSplit::Base;
  if (s == "new") return ClassSplit::New;
  if (s == "all") return ClassSplit::All;
  fail("unknown class subsample '{}' (expected all, base or new)", s);
}

const char* class_split_name(ClassSplit s) {
  switch (s) {
    case ClassSplit::Base: return "base";
    case ClassSplit::New: return "new";
    case ClassSplit::All: return "all";
  }
  return "all";
}

void register_method(const std::string& name, MethodFactory factory, std::vector<std::string> aliases,
                     std::string config_group) {
  for (const Entry& e : entries()) CLIPT_CHECK(e.name != name, "method '{}' registered twice", name);
  entries().push_back({name, std::move(factory), std::move(aliases), std::move(config_group)});
}

std::string method_config_group(const std::string& name) { return find(canonical_method_name(name))->config_group; }

std::vector<std::string> method_names() {
  ensure_builtins();
  std::vector<std::string> out;
  for (const Entry& e : entries()) out.push_back(e.name);
  return out;
}

std::string canonical_method_name(const std::string& name) {
  const Entry* e = find(name);
  if (e) return e->name;
  std::vector<std::string> known;
  for (const Entry& x : entries()) {
    known.insert(known.end(), x.aliases.begin(), x.aliases.end());
    known.push_back(x.name);
  }
  const std::string best = closest_name(name, known);
  fail("unknown trainer '{}'; did you mean '{}'? (known: {})", name, best, fmt::join(method_names(), ", "));
}

std::unique_ptr<Method> create_method(const std::string& name) { return find(canonical_method_name(name))->factory(); }

Tensor host_metric(double value) { return Tensor::scalar(value, DType::F64, Device::cpu()); }

double metric_value(const Metrics& metrics, const std::string& name) {
  auto it = metrics.find(name);
  if (it == metrics.end()) {
    std::vector<std::string> known;
    for (const auto& [k, v] : metrics) known.push_back(k);
    fail("no metric '{}' in the step's results (it has: {})", name, fmt::join(known, ", "));
  }
  return it->second.item();
}

Tensor Method::image_features(const Tensor&) { fail("this method does not expose its image features"); }
Tensor Method::text_features(const std::vector<int64_t>&) { fail("this method does not expose its text features"); }

StepResult Method::train_step(const TrainBatch& batch, optim::Optimizer& optimizer) {
  optimizer.zero_grad();
  LossResult r = loss(batch);
  r.loss.backward();
  optimizer.reduce_grads();  // data parallel: the mean over ranks is the full batch's gradient
  optimizer.step();
  return {r.loss.detach(), r.logits, r.metrics};
}

}  // namespace clipt::methods
