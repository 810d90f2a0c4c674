// The safetensors format (https://github.com/huggingface/safetensors), read through a memory mapping and
// written atomically. Layout: an 8-byte little-endian u64 N, then N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// then the data section; offsets are relative to its start, tensors are row-major and little-endian.
//
// Reading validates the whole header up front (header length vs file size, JSON syntax, object shape,
// dtypes, shape vs byte size, offsets inside the data section, no two tensors overlapping, no
// duplicate names, string-to-string metadata); every problem raises one clipt::Error naming the file,
// the tensor or key and the offending value or byte offset. The reader is deliberately a little more
// lenient than the reference implementation (gaps between tensors and bytes after the last one are
// accepted); the writer produces exactly what the reference expects.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

// The safetensors dtype string of a clipt dtype ("F32", "BF16", "BOOL", ...).
std::string_view safetensors_dtype(DType dtype);

struct SafetensorsEntry {
  std::string name;
  std::string dtype_name;   // as written in the file, e.g. "F16" or "I16"
  bool supported = false;   // dtype_name has a clipt DType (I8, U16, F8_* ... are valid but unsupported)
  DType dtype = DType::U8;  // meaningful only when supported
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range in the data section
};

class SafetensorsFile {
 public:
  SafetensorsFile() = default;
  // Maps `path` read-only (private, copy-on-write) and validates its header.
  explicit SafetensorsFile(const std::filesystem::path& path);
  // Parses a file image held in memory; `source` names it in error messages. (Used by tests and the
  // fuzzer; the bytes are kept alive by the returned object and by every tensor it hands out.)
  static SafetensorsFile from_bytes(std::string bytes, std::string source = "<memory>");

  const std::string& source() const { return source_; }
  uint64_t file_size() const { return size_; }
  uint64_t data_start() const { return data_start_; }  // absolute byte offset of the data section

  // Tensor names in the order of the header.
  std::vector<std::string> names() const;
  size_t size() const { return entries_.size(); }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;  // throws naming the file and tensor
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  DType dtype(const std::string& name) const;  // throws for unsupported dtypes
  const Shape& shape(const std::string& name) const { return entry(name).shape; }
  const Metadata& metadata() const { return metadata_; }

  // A CPU tensor viewing the file's bytes without copying (the mapping lives as long as the tensor).
  // The mapping is private: writes into the tensor are copy-on-write per page and never reach the
  // file, but they are visible to other views of the same tensor obtained from this object. Data whose
  // offset is not a multiple of the element size is copied into an aligned buffer instead.
  // As with any mapping, the file must not be truncated in place while views exist (reading a vanished
  // page raises SIGBUS); clipt's own writers replace files by rename, which is safe.
  Tensor get(const std::string& name) const;
  // get(name) converted to `dtype` and moved to `device` (the backend's copy does the conversion).
  // When nothing needs converting the result is the zero-copy view of get().
  Tensor load(const std::string& name, DType dtype, Device device = Device::cpu()) const;
  // Every tensor, in header order, as zero-copy views.
  NamedTensors tensors() const;

 private:
  void parse();
  const uint8_t* bytes() const { return static_cast<const uint8_t*>(base_); }

  std::string source_;
  std::shared_ptr<void> keep_alive_;  // the mapping or the in-memory image
  void* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
  Metadata metadata_;
};

// Writes `tensors` (any device, any layout, kept in this order in the header) and `metadata` in the
// safetensors format, atomically. Data is laid out by decreasing element size, as the reference
// writer does, so every tensor is aligned to its element size in a mapped file.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors, const Metadata& metadata = {});
// The same bytes, in memory (for small files and tests).
std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata = {});

}  // namespace clipt::io
