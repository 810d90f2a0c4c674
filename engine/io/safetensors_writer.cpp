// safetensors writer: builds the header exactly as the reference implementation does (compact JSON,
// "__metadata__" first, padded with spaces so the data section starts at a multiple of 8), then streams
// each tensor's bytes, copied to the host one tensor at a time.
#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_set>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/io/safetensors_format.h"

namespace clipt::io {
namespace {

using Sink = std::function<void(const void*, size_t)>;

struct Layout {
  std::string header;              // padded JSON
  std::vector<size_t> data_order;  // indices into the tensor list, in data-section order
};

Layout plan_layout(const NamedTensors& tensors, const Metadata& metadata, const std::string& target) {
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    CLIPT_CHECK(name != detail::kMetadataKey, "save_safetensors '{}': '{}' is reserved and cannot name a tensor",
                target, name);
    CLIPT_CHECK(seen.insert(name).second, "save_safetensors '{}': tensor name '{}' appears twice", target, name);
    CLIPT_CHECK(t.defined(), "save_safetensors '{}': tensor '{}' is undefined", target, name);
  }

  // Larger elements first (stable, so the caller's order holds within a size): since the data section
  // starts 8-aligned and each tensor's size is a multiple of its element size, every tensor lands on
  // a multiple of its element size and a reader can view it in place.
  Layout layout;
  layout.data_order.resize(tensors.size());
  std::iota(layout.data_order.begin(), layout.data_order.end(), size_t(0));
  std::stable_sort(layout.data_order.begin(), layout.data_order.end(), [&](size_t a, size_t b) {
    return tensors[a].second.element_size() > tensors[b].second.element_size();
  });
  std::vector<std::pair<uint64_t, uint64_t>> offsets(tensors.size());
  uint64_t at = 0;
  for (size_t i : layout.data_order) {
    const uint64_t n = tensors[i].second.nbytes();
    offsets[i] = {at, at + n};
    at += n;
  }

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& meta = header[std::string(detail::kMetadataKey)];
    meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    header[name] = {{"dtype", safetensors_dtype(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offsets[i].first, offsets[i].second}}};
  }
  try {
    layout.header = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name or metadata value that is not UTF-8
    fail("save_safetensors '{}': cannot encode the header: {}", target, e.what());
  }
  layout.header.append((8 - layout.header.size() % 8) % 8, ' ');
  return layout;
}

void write_safetensors(const NamedTensors& tensors, const Metadata& metadata, const std::string& target,
                       const Sink& sink) {
  const Layout layout = plan_layout(tensors, metadata, target);
  uint8_t length[8];
  uint64_t n = layout.header.size();
  for (auto& b : length) {
    b = uint8_t(n & 0xff);
    n >>= 8;
  }
  sink(length, 8);
  sink(layout.header.data(), layout.header.size());
  NoGrad no_grad;
  for (size_t i : layout.data_order) {
    const Tensor& t = tensors[i].second;
    if (t.numel() == 0) continue;
    const Tensor host = t.detach().to(Device::cpu()).contiguous();
    sink(host.data_ptr(), host.nbytes());
  }
}

}  // namespace

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors, const Metadata& metadata) {
  AtomicWriter writer(path);
  write_safetensors(tensors, metadata, path.string(),
                    [&](const void* data, size_t nbytes) { writer.write(data, nbytes); });
  writer.commit();
}

std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
  std::string out;
  write_safetensors(tensors, metadata, "<memory>",
                    [&](const void* data, size_t nbytes) { out.append(static_cast<const char*>(data), nbytes); });
  return out;
}

}  // namespace clipt::io
