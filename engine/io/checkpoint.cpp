#include "engine/io/checkpoint.h"

#include <system_error>

namespace clipt::io {

void save_checkpoint(const std::filesystem::path& path, const NamedTensors& tensors, const nlohmann::json& meta) {
  std::string meta_text;
  try {
    meta_text = meta.dump();
  } catch (const nlohmann::json::exception& e) {  // strings that are not UTF-8
    fail("save_checkpoint '{}': cannot encode the metadata JSON: {}", path.string(), e.what());
  }
  save_safetensors(path, tensors, {{kCheckpointFormatKey, kCheckpointFormat}, {kCheckpointMetaKey, meta_text}});
}

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("checkpoint '{}' does not exist", path.string());
  Checkpoint ckpt;
  ckpt.path_ = path;
  try {
    ckpt.file_ = SafetensorsFile(path);
  } catch (const Error& e) { fail("cannot load checkpoint '{}': {}", path.string(), e.what()); }
  const auto& metadata = ckpt.file_.metadata();
  auto it = metadata.find(kCheckpointMetaKey);
  if (it == metadata.end())
    fail(
        "'{}' is a safetensors file but not a clipt checkpoint: its __metadata__ has no '{}' entry (a weights "
        "file? load it with SafetensorsFile instead)",
        path.string(), kCheckpointMetaKey);
  auto format = metadata.find(kCheckpointFormatKey);
  if (format != metadata.end() && format->second != kCheckpointFormat)
    fail("checkpoint '{}' has format '{}', this build of clipt reads '{}'", path.string(), format->second,
         kCheckpointFormat);
  try {
    ckpt.meta_ = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    fail("checkpoint '{}': the '{}' metadata entry is not valid JSON: {}", path.string(), kCheckpointMetaKey, e.what());
  }
  return ckpt;
}

const Shape& Checkpoint::shape(const std::string& name) const {
  if (!file_.contains(name)) fail("checkpoint '{}' has no tensor '{}'", path_.string(), name);
  return file_.shape(name);
}

Tensor Checkpoint::get(const std::string& name) const {
  shape(name);  // the checkpoint-worded error for a missing name
  return file_.get(name);
}

Tensor Checkpoint::load(const std::string& name, DType dtype, Device device) const {
  shape(name);
  return file_.load(name, dtype, device);
}

void Checkpoint::load_into(const std::string& name, Tensor& dst) const { load_into(NamedTensors{{name, dst}}); }

void Checkpoint::load_into(const NamedTensors& destinations) const {
  std::vector<std::string> problems;
  for (const auto& [name, dst] : destinations) {
    if (!dst.defined()) {
      problems.push_back(fmt::format("destination for tensor '{}' is undefined", name));
    } else if (!file_.contains(name)) {
      problems.push_back(fmt::format("checkpoint '{}' has no tensor '{}'", path_.string(), name));
    } else if (file_.shape(name) != dst.shape()) {
      problems.push_back(fmt::format("checkpoint tensor '{}' has shape {}, model expects {}", name,
                                     shape_str(file_.shape(name)), shape_str(dst.shape())));
    } else if (!file_.entry(name).supported) {
      problems.push_back(fmt::format("checkpoint tensor '{}' has dtype {}, which clipt does not support", name,
                                     file_.entry(name).dtype_name));
    }
  }
  if (!problems.empty()) {
    std::string joined;
    for (const auto& p : problems) joined += (joined.empty() ? "" : "; ") + p;
    fail("cannot load checkpoint '{}': {}", path_.string(), joined);
  }
  // Fetch every source before writing anything (get() can still refuse, e.g. a BOOL byte that is not
  // 0/1), so a failure leaves all destinations as they were.
  std::vector<Tensor> sources;
  sources.reserve(destinations.size());
  for (const auto& entry : destinations) sources.push_back(file_.get(entry.first));
  NoGrad no_grad;
  for (size_t i = 0; i < destinations.size(); ++i) {
    Tensor target = destinations[i].second;  // a handle to the same storage
    target.copy_(sources[i]);
  }
}

}  // namespace clipt::io
