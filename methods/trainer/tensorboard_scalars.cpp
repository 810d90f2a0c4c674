#include "methods/trainer/tensorboard_scalars.h"

#include <cmath>
#include <set>

namespace clipt::trainer {

std::vector<Scalar> tensorboard_scalars(const nlohmann::json& r, int64_t& last_epoch) {
  std::vector<Scalar> out;
  auto add = [&](const std::string& tag, const nlohmann::json& v, int64_t step) {
    if (v.is_number() && std::isfinite(v.get<double>())) out.push_back({tag, v.get<double>(), step});
  };
  const std::string type = r.value("type", "");
  if (type == "step") {
    static const std::set<std::string> identity{"type", "epoch", "iteration", "step"};
    const int64_t step = r.value("step", int64_t(0));
    for (const auto& [k, v] : r.items())
      if (!identity.count(k)) add("train/" + k, v, step);
  } else if (type == "epoch") {
    last_epoch = r.value("epoch", last_epoch);
    for (const char* k : {"loss", "train_accuracy", "lr"})
      if (r.contains(k)) add(std::string("epoch/") + k, r.at(k), last_epoch);
  } else if (type == "eval" && r.contains("result")) {
    const auto& e = r.at("result");
    const std::string split = e.value("split", "test"), subsample = e.value("subsample", "all");
    const std::string prefix = split + "/" + (subsample == "all" ? std::string() : subsample + "_");
    if (e.contains("accuracy")) add(prefix + "accuracy", e.at("accuracy"), last_epoch);
    if (e.contains("macro_accuracy")) add(prefix + "macro_accuracy", e.at("macro_accuracy"), last_epoch);
  }
  return out;
}

}  // namespace clipt::trainer
