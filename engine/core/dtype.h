// Element types a Tensor can hold. f16/bf16 are stored as 16-bit words and computed in f32 on the CPU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/half.h"

namespace clipt {

enum class DType : uint8_t { F32, F64, F16, BF16, I32, I64, U8, Bool };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);      // "f32", "f16", ...
DType parse_dtype(std::string_view name);  // accepts f32/fp32/float32, f16/fp16/float16/half, bf16, ...
bool is_floating(DType t);
// Type of the result of a binary op: the wider float type wins; any float beats any integer.
DType promote_types(DType a, DType b);

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<Half> { static constexpr DType value = DType::F16; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::BF16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };

}  // namespace clipt
