// Device math for the kernels: the precise (non fast-math) functions shared with the CPU backend
// (kernels/elementwise_ops.h, namespace formula) plus device-only helpers.
#pragma once
#include <cuda_runtime.h>

#include "kernels/elementwise_ops.h"

namespace clipt::kernels::math {

using namespace formula;

template <typename C> __device__ __forceinline__ C inf_() {
  if constexpr (std::is_same_v<C, float>)
    return __int_as_float(0x7f800000);
  else
    return __longlong_as_double(0x7ff0000000000000LL);
}

}  // namespace clipt::kernels::math
