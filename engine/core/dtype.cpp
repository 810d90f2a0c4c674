#include "engine/core/dtype.h"

#include "engine/core/error.h"

namespace clipt {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32:
    case DType::I32: return 4;
    case DType::F64:
    case DType::I64: return 8;
    case DType::F16:
    case DType::BF16: return 2;
    case DType::U8:
    case DType::Bool: return 1;
  }
  fail("dtype_size: invalid dtype {}", int(t));
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::U8: return "u8";
    case DType::Bool: return "bool";
  }
  return "invalid";
}

DType parse_dtype(std::string_view n) {
  if (n == "f32" || n == "fp32" || n == "float32" || n == "float") return DType::F32;
  if (n == "f64" || n == "fp64" || n == "float64" || n == "double") return DType::F64;
  if (n == "f16" || n == "fp16" || n == "float16" || n == "half") return DType::F16;
  if (n == "bf16" || n == "bfloat16") return DType::BF16;
  if (n == "i32" || n == "int32") return DType::I32;
  if (n == "i64" || n == "int64") return DType::I64;
  if (n == "u8" || n == "uint8") return DType::U8;
  if (n == "bool") return DType::Bool;
  fail("unknown dtype '{}' (expected one of fp32, fp16, bf16, f64, i32, i64, u8, bool)", n);
}

bool is_floating(DType t) { return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16; }

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  auto rank = [](DType t) {
    switch (t) {
      case DType::Bool: return 0;
      case DType::U8: return 1;
      case DType::I32: return 2;
      case DType::I64: return 3;
      case DType::BF16: return 4;
      case DType::F16: return 5;
      case DType::F32: return 6;
      case DType::F64: return 7;
    }
    return 0;
  };
  // f16 + bf16 has no common 16-bit type: use f32 as PyTorch does.
  if ((a == DType::F16 && b == DType::BF16) || (a == DType::BF16 && b == DType::F16)) return DType::F32;
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace clipt
