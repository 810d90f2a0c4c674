// safetensors reader: memory mapping, header validation and zero-copy tensor views.
#include "engine/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/io/safetensors_format.h"

namespace clipt::io {
namespace {

using Json = nlohmann::ordered_json;  // keeps the header's key order

// A read-only file mapped privately: pages written through a tensor are copied, never written back.
struct Mapping {
  void* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data != nullptr) ::munmap(data, size);
  }
};

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  fail("safetensors file '{}': {}", source, what);
}

const char* json_type(const Json& j) { return j.type_name(); }

// Strips nlohmann's "[json.exception.parse_error.101] " tag; the rest of its message is useful.
std::string json_error_text(const nlohmann::json::exception& e) {
  std::string s = e.what();
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find("] ");
    if (close != std::string::npos) s = s.substr(close + 2);
  }
  return s;
}

}  // namespace

std::string_view safetensors_dtype(DType dtype) {
  for (const auto& d : detail::kStDTypes)
    if (d.dtype == dtype) return d.name;
  fail("safetensors: no safetensors dtype for {}", dtype_name(dtype));
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : source_(path.string()) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open safetensors file '{}': {}", source_, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot stat safetensors file '{}': {}", source_, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("safetensors file '{}' is not a regular file", source_);
  }
  size_ = uint64_t(st.st_size);
  auto mapping = std::make_shared<Mapping>();
  if (size_ > 0) {
    // PROT_WRITE with MAP_PRIVATE: callers may write into a returned tensor (copy-on-write per page)
    // without a SIGSEGV, and the file never changes.
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail("cannot memory-map safetensors file '{}' ({} bytes): {}", source_, size_, std::strerror(err));
    }
    mapping->data = p;
    mapping->size = size_;
  }
  ::close(fd);  // the mapping keeps the file open
  base_ = mapping->data;
  keep_alive_ = std::move(mapping);
  parse();
}

SafetensorsFile SafetensorsFile::from_bytes(std::string bytes, std::string source) {
  SafetensorsFile f;
  f.source_ = std::move(source);
  auto image = std::make_shared<std::string>(std::move(bytes));
  f.base_ = image->data();
  f.size_ = image->size();
  f.keep_alive_ = std::move(image);
  f.parse();
  return f;
}

void SafetensorsFile::parse() {
  if (size_ < 8) bad(source_, fmt::format("file is {} bytes, too short to hold the 8-byte header length", size_));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes()[i];  // little-endian u64
  if (header_len > size_ - 8)
    bad(source_, fmt::format("header length {} (bytes 0-7) exceeds the {} bytes that follow it in a {}-byte file "
                             "(truncated or not a safetensors file?)",
                             header_len, size_ - 8, size_));
  if (header_len > detail::kMaxHeaderBytes)
    bad(source_,
        fmt::format("header length {} exceeds the {}-byte limit of the format", header_len, detail::kMaxHeaderBytes));
  data_start_ = 8 + header_len;
  const uint64_t data_size = size_ - data_start_;

  // Parse with a callback that rejects duplicate keys (a plain parse keeps the last silently) and any
  // nesting deeper than a header can have: {tensor: {"shape": [dim]}} is depth 3.
  struct Frame {
    std::set<std::string> keys;
    std::string parent_key;
  };
  std::vector<Frame> stack;
  std::string last_key;
  auto on_event = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    if (depth > 3)
      bad(source_, fmt::format("header JSON nests {} levels deep; a safetensors header has at most 3", depth));
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start: stack.push_back({{}, last_key}); break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case Json::parse_event_t::key: {
        last_key = parsed.get<std::string>();
        if (stack.empty() || stack.back().keys.insert(last_key).second) break;
        if (stack.size() == 1) bad(source_, fmt::format("duplicate tensor name '{}' in header", last_key));
        if (stack.back().parent_key == detail::kMetadataKey)
          bad(source_, fmt::format("duplicate metadata key '{}' in header", last_key));
        bad(source_, fmt::format("tensor '{}' has a duplicate field '{}'", stack.back().parent_key, last_key));
      }
      case Json::parse_event_t::value: break;
    }
    return true;
  };
  const char* header_begin = reinterpret_cast<const char*>(bytes()) + 8;
  Json header;
  try {
    header = Json::parse(header_begin, header_begin + header_len, on_event);
  } catch (const nlohmann::json::exception& e) {
    bad(source_, fmt::format("header (bytes 8-{}) is not valid JSON: {}", data_start_ - 1, json_error_text(e)));
  }
  if (!header.is_object()) bad(source_, fmt::format("header is a JSON {}, expected an object", json_type(header)));

  // Reads a JSON number that must be a non-negative integer (shape dims and byte offsets).
  auto as_u64 = [&](const Json& v, const std::string& tensor, const char* field) -> uint64_t {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer()) {
      const int64_t i = v.get<int64_t>();
      if (i >= 0) return uint64_t(i);
      bad(source_, fmt::format("tensor '{}' has a negative value {} in '{}'", tensor, i, field));
    }
    bad(source_, fmt::format("tensor '{}' has a {} value {} in '{}', expected a non-negative integer", tensor,
                             json_type(v), v.dump(), field));
  };

  entries_.reserve(header.size());
  for (const auto& [name, info] : header.items()) {
    if (name == detail::kMetadataKey) {
      if (info.is_null()) continue;
      if (!info.is_object())
        bad(source_, fmt::format("'__metadata__' is a JSON {}, expected an object", json_type(info)));
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string())
          bad(source_, fmt::format("metadata value of key '{}' is a JSON {} ({}), expected a string", key,
                                   json_type(value), value.dump()));
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    if (!info.is_object())
      bad(source_, fmt::format("tensor '{}' entry is a JSON {}, expected an object", name, json_type(info)));
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!info.contains(field)) bad(source_, fmt::format("tensor '{}' has no '{}' field", name, field));

    SafetensorsEntry e;
    e.name = name;
    const Json& dtype = info["dtype"];
    if (!dtype.is_string())
      bad(source_,
          fmt::format("tensor '{}' dtype is a JSON {} ({}), expected a string", name, json_type(dtype), dtype.dump()));
    e.dtype_name = dtype.get<std::string>();
    const detail::StDType* st = detail::find_st_dtype(e.dtype_name);
    if (st == nullptr) bad(source_, fmt::format("tensor '{}' has unknown dtype '{}'", name, e.dtype_name));
    e.supported = st->dtype.has_value();
    if (e.supported) e.dtype = *st->dtype;

    const Json& shape = info["shape"];
    if (!shape.is_array())
      bad(source_, fmt::format("tensor '{}' shape is a JSON {}, expected an array", name, json_type(shape)));
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : shape) {
      const uint64_t dim = as_u64(d, name, "shape");
      overflow |= __builtin_mul_overflow(numel, dim, &numel);
      if (dim > uint64_t(std::numeric_limits<int64_t>::max())) overflow = true;
      e.shape.push_back(int64_t(std::min<uint64_t>(dim, uint64_t(std::numeric_limits<int64_t>::max()))));
    }
    uint64_t nbytes = 0;
    overflow |= numel > uint64_t(std::numeric_limits<int64_t>::max());
    overflow |= __builtin_mul_overflow(numel, uint64_t(st->size), &nbytes);
    if (overflow)
      bad(source_, fmt::format("tensor '{}' shape {} overflows 64-bit element or byte counts", name, shape.dump()));

    const Json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
      bad(source_, fmt::format("tensor '{}' data_offsets {} is not an array of two integers", name, offsets.dump()));
    e.begin = as_u64(offsets[0], name, "data_offsets");
    e.end = as_u64(offsets[1], name, "data_offsets");
    if (e.begin > e.end)
      bad(source_, fmt::format("tensor '{}' data_offsets [{}, {}] end before they begin", name, e.begin, e.end));
    if (e.end > data_size)
      bad(source_, fmt::format("tensor '{}' data_offsets [{}, {}] reach file byte {}, past the end of the {}-byte file "
                               "(data section of {} bytes at byte {}; truncated file?)",
                               name, e.begin, e.end, data_start_ + e.end, size_, data_size, data_start_));
    if (e.end - e.begin != nbytes)
      bad(source_, fmt::format("tensor '{}' of dtype {} and shape {} needs {} bytes but data_offsets [{}, {}] span {}",
                               name, e.dtype_name, shape.dump(), nbytes, e.begin, e.end, e.end - e.begin));
    index_.emplace(name, entries_.size());
    entries_.push_back(std::move(e));
  }

  // No two non-empty tensors may share a byte (empty ones occupy nothing, wherever they point).
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& e : entries_)
    if (e.end > e.begin) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsEntry* a, const SafetensorsEntry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* prev = by_offset[i - 1];
    const auto* cur = by_offset[i];
    if (cur->begin < prev->end)
      bad(source_, fmt::format("tensors '{}' (data_offsets [{}, {}]) and '{}' (data_offsets [{}, {}]) overlap",
                               prev->name, prev->begin, prev->end, cur->name, cur->begin, cur->end));
  }
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail("safetensors file '{}' has no tensor '{}'", source_, name);
  return entries_[it->second];
}

DType SafetensorsFile::dtype(const std::string& name) const {
  const auto& e = entry(name);
  CLIPT_CHECK(e.supported, "safetensors file '{}': tensor '{}' has dtype {}, which clipt does not support", source_,
              name, e.dtype_name);
  return e.dtype;
}

Tensor SafetensorsFile::get(const std::string& name) const {
  const auto& e = entry(name);
  const DType dt = dtype(name);
  const uint64_t nbytes = e.end - e.begin;
  auto* data = static_cast<uint8_t*>(base_) + data_start_ + e.begin;
  if (dt == DType::Bool) {
    // A bool byte other than 0/1 is undefined behaviour once read as a C++ bool.
    for (uint64_t i = 0; i < nbytes; ++i)
      CLIPT_CHECK(data[i] <= 1,
                  "safetensors file '{}': BOOL tensor '{}' holds byte value {} at file byte {} (must be 0 or 1)",
                  source_, name, int(data[i]), data_start_ + e.begin + i);
  }
  const Shape strides = contiguous_strides(e.shape);
  if (reinterpret_cast<uintptr_t>(data) % dtype_size(dt) == 0) {
    return Tensor::make_view(wrap_storage(data, nbytes, Device::cpu(), keep_alive_), e.shape, strides, 0, dt);
  }
  // The format does not promise alignment (other writers may not sort by element size): copy.
  auto storage = allocate_storage(nbytes, Device::cpu());
  if (nbytes > 0) std::memcpy(storage->data, data, nbytes);
  return Tensor::make_view(storage, e.shape, strides, 0, dt);
}

Tensor SafetensorsFile::load(const std::string& name, DType dtype, Device device) const {
  NoGrad no_grad;
  Tensor t = get(name);
  // Convert on whichever side moves fewer bytes across the bus: narrow on the host, widen on the device.
  if (!device.is_cpu() && dtype_size(dtype) > t.element_size()) return t.to(device).to(dtype);
  return t.to(dtype).to(device);
}

NamedTensors SafetensorsFile::tensors() const {
  NamedTensors out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.emplace_back(e.name, get(e.name));
  return out;
}

}  // namespace clipt::io
