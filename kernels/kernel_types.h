// Types shared by the CUDA launchers and their callers. Plain C++ (no device code), so the engine's
// .cpp glue can include it with the host compiler. kernels/ knows nothing of Tensor: a launcher takes raw
// pointers, sizes, these small descriptors and a cudaStream_t, and returns the launch status.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace clipt::kernels {

// Element types, in the same order as the engine's DType (the glue static_asserts the correspondence).
enum class KDType : uint8_t { F32, F64, F16, BF16, I32, I64, U8, Bool };

inline size_t kdtype_size(KDType t) {
  switch (t) {
    case KDType::F32:
    case KDType::I32: return 4;
    case KDType::F64:
    case KDType::I64: return 8;
    case KDType::F16:
    case KDType::BF16: return 2;
    case KDType::U8:
    case KDType::Bool: return 1;
  }
  return 0;
}

inline bool kdtype_is_float(KDType t) {
  return t == KDType::F32 || t == KDType::F64 || t == KDType::F16 || t == KDType::BF16;
}

// Strided element-wise loops iterate a (coalesced) shape of at most kMaxDims dims.
constexpr int kMaxDims = 8;

// Geometry of N operands over one iteration shape: element i (row-major over `sizes`) of operand k sits
// at sum_d index_d · strides[k][d] (in elements). Broadcast dims have stride 0. `index32` is set when the
// element count fits 32 bits so the kernels can use 32-bit index arithmetic.
template <int N> struct Strided {
  int32_t ndim = 0;
  bool index32 = true;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};
};

// Out-of-range indices (index_select, index_add, gather, scatter_add, cross-entropy labels) are not
// dereferenced; the first offending one is recorded here in device memory and the engine raises a
// clipt::Error at its next synchronising point (see engine/runtime/device_errors.h).
enum class DeviceErrorCode : int32_t {
  None = 0,
  IndexSelect = 1,
  IndexAdd = 2,
  Gather = 3,
  ScatterAdd = 4,
  CrossEntropyLabel = 5,
};

struct DeviceErrorRecord {
  int32_t code;  // a DeviceErrorCode; 0 while no error has happened
  int32_t unused;
  int64_t value;     // the offending index or label
  int64_t position;  // its position in the index tensor (row for labels)
  int64_t bound;     // the valid range is [0, bound)
};

}  // namespace clipt::kernels
