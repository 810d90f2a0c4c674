// Checkpoints: named tensors (parameters under their module names, optimizer state such as
// "optim.state.<param>.momentum_buffer") plus one JSON document (epoch, iteration, RNG state, config,
// method name, class names ...), in a standard safetensors file. The JSON is stored as a string under
// the "clipt" key of "__metadata__", so any safetensors tool can open the file. Writes are atomic.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"

namespace clipt::io {

inline constexpr const char* kCheckpointMetaKey = "clipt";
inline constexpr const char* kCheckpointFormatKey = "format";
inline constexpr const char* kCheckpointFormat = "clipt-checkpoint-v1";

// Writes tensors (any device and dtype; kept bit-exact) and `meta` to `path` atomically.
void save_checkpoint(const std::filesystem::path& path, const NamedTensors& tensors, const nlohmann::json& meta);

class Checkpoint {
 public:
  // Opens and validates `path`: it must exist, be a safetensors file and carry clipt's metadata.
  static Checkpoint open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  const nlohmann::json& meta() const { return meta_; }
  std::vector<std::string> names() const { return file_.names(); }
  bool contains(const std::string& name) const { return file_.contains(name); }
  const Shape& shape(const std::string& name) const;

  // The stored tensor as a zero-copy CPU view of the file (see SafetensorsFile::get).
  Tensor get(const std::string& name) const;
  // The stored tensor converted to `dtype` on `device`.
  Tensor load(const std::string& name, DType dtype, Device device = Device::cpu()) const;
  // Every tensor, in file order, as zero-copy CPU views.
  NamedTensors tensors() const { return file_.tensors(); }

  // Copies the stored tensor into `dst` (converting dtype, crossing devices; outside autograd). The
  // shapes must match exactly.
  void load_into(const std::string& name, Tensor& dst) const;
  // load_into for each (name, destination) pair. Every name and shape is checked before anything is
  // written, so a failing load leaves all destinations untouched; the error lists every problem.
  void load_into(const NamedTensors& destinations) const;

 private:
  std::filesystem::path path_;
  SafetensorsFile file_;
  nlohmann::json meta_;
};

inline Checkpoint load_checkpoint(const std::filesystem::path& path) { return Checkpoint::open(path); }

}  // namespace clipt::io
