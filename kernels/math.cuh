// Precise (non fast-math) device math for a compute type C of float or double, so one template serves
// f32/f16/bf16 (computed in float) and f64. The formulas mirror engine/cpu/elementwise.cpp.
#pragma once
#include <cuda_runtime.h>

#include <type_traits>

namespace clipt::kernels::math {

template <typename C> __device__ __forceinline__ C exp_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return expf(x);
  else
    return ::exp(x);
}
template <typename C> __device__ __forceinline__ C log_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return logf(x);
  else
    return ::log(x);
}
template <typename C> __device__ __forceinline__ C sqrt_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return sqrtf(x);
  else
    return ::sqrt(x);
}
template <typename C> __device__ __forceinline__ C erf_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return erff(x);
  else
    return ::erf(x);
}
template <typename C> __device__ __forceinline__ C tanh_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return tanhf(x);
  else
    return ::tanh(x);
}
template <typename C> __device__ __forceinline__ C sin_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return sinf(x);
  else
    return ::sin(x);
}
template <typename C> __device__ __forceinline__ C cos_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return cosf(x);
  else
    return ::cos(x);
}
template <typename C> __device__ __forceinline__ C pow_(C x, C y) {
  if constexpr (std::is_same_v<C, float>)
    return powf(x, y);
  else
    return ::pow(x, y);
}
template <typename C> __device__ __forceinline__ C fabs_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return fabsf(x);
  else
    return ::fabs(x);
}
template <typename C> __device__ __forceinline__ bool isnan_(C x) { return x != x; }
template <typename C> __device__ __forceinline__ C inf_() {
  if constexpr (std::is_same_v<C, float>)
    return __int_as_float(0x7f800000);
  else
    return __longlong_as_double(0x7ff0000000000000LL);
}

constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

}  // namespace clipt::kernels::math
