// Format constants shared by the safetensors reader and writer (internal to engine/io).
#pragma once
#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/core/dtype.h"

namespace clipt::io::detail {

// The data section holds little-endian values copied straight to and from tensors.
static_assert(std::endian::native == std::endian::little, "safetensors io assumes a little-endian host");

inline constexpr std::string_view kMetadataKey = "__metadata__";
// The reference implementation refuses headers above 100 MB; so do we (and the JSON parser never sees
// an absurd allocation).
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct StDType {
  std::string_view name;
  uint32_t size;               // bytes per element
  std::optional<DType> dtype;  // the clipt dtype, when there is one
};

// Every byte-sized dtype the format defines. Names not listed here (including the sub-byte F4/F6
// types, whose sizes cannot be checked per element) are rejected as unknown.
inline constexpr StDType kStDTypes[] = {
    {"BOOL", 1, DType::Bool},     {"U8", 1, DType::U8},         {"I8", 1, std::nullopt},  {"F8_E5M2", 1, std::nullopt},
    {"F8_E4M3", 1, std::nullopt}, {"F8_E8M0", 1, std::nullopt}, {"I16", 2, std::nullopt}, {"U16", 2, std::nullopt},
    {"F16", 2, DType::F16},       {"BF16", 2, DType::BF16},     {"I32", 4, DType::I32},   {"U32", 4, std::nullopt},
    {"F32", 4, DType::F32},       {"F64", 8, DType::F64},       {"I64", 8, DType::I64},   {"U64", 8, std::nullopt},
    {"C64", 8, std::nullopt},
};

inline const StDType* find_st_dtype(std::string_view name) {
  for (const auto& d : kStDTypes)
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace clipt::io::detail
