// Device-side helpers shared by the kernels: the C++ type of each KDType, the CPU backend's conversion
// rules (f32/f16/bf16 compute in float, everything else in double, exactly as engine/cpu/dispatch.h),
// 128-bit vector loads, deterministic warp/block reductions, strided offsets and a dtype dispatcher for
// the host-side launchers. Included only by .cu files.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "kernels/kernel_types.h"

namespace clipt::kernels {

// ---------------------------------------------------------------- types and conversions

template <typename T> inline constexpr bool is_half_v = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;
template <typename T> inline constexpr bool is_float_like_v = std::is_same_v<T, float> || is_half_v<T>;

// The compute type of a storage type (the CPU backend's compute_t).
template <typename T> using compute_t = std::conditional_t<is_float_like_v<T>, float, double>;

template <typename T> __device__ __forceinline__ compute_t<T> to_compute(T v) {
  if constexpr (std::is_same_v<T, __half>)
    return __half2float(v);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __bfloat162float(v);
  else if constexpr (std::is_same_v<T, bool>)
    return v ? 1.0 : 0.0;
  else
    return compute_t<T>(v);
}

// Narrowing as the CPU's store(): 16-bit floats round from float (a double goes through float first),
// bool is "non-zero", integers truncate.
template <typename T, typename C> __device__ __forceinline__ T from_compute(C v) {
  if constexpr (std::is_same_v<T, __half>)
    return __float2half_rn(float(v));
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __float2bfloat16_rn(float(v));
  else if constexpr (std::is_same_v<T, bool>)
    return v != C(0);
  else
    return T(v);
}

// Unsigned storage word of each element size (moves that do not look at values).
template <int Bytes> struct Word;
template <> struct Word<1> { using type = uint8_t; };
template <> struct Word<2> { using type = uint16_t; };
template <> struct Word<4> { using type = uint32_t; };
template <> struct Word<8> { using type = uint64_t; };
template <> struct Word<16> { using type = uint4; };

// ---------------------------------------------------------------- 128-bit vectors

// V elements of T, aligned so that loads and stores compile to 128-bit (or narrower) vector accesses.
template <typename T, int V> struct alignas(sizeof(T) * V >= 16 ? 16 : sizeof(T) * V) Vec { T v[V]; };

// Elements per 128-bit access (at most 16).
template <typename T> inline constexpr int kVecWidth = 16 / sizeof(T) > 0 ? int(16 / sizeof(T)) : 1;

template <typename T, int V> __device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}
template <typename T, int V> __device__ __forceinline__ void store_vec(T* p, const Vec<T, V>& v) {
  *reinterpret_cast<Vec<T, V>*>(p) = v;
}

// True when p can be accessed as Vec<T, V> (host-side check before choosing the vector path).
template <typename T, int V> inline bool vec_aligned(const void* p) {
  constexpr size_t a = sizeof(T) * V >= 16 ? 16 : sizeof(T) * V;
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}

// ---------------------------------------------------------------- reductions (fixed order)

template <typename T> __device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <typename T> __device__ __forceinline__ T warp_max(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const T w = __shfl_xor_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

// Sum over a 1-d block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` holds at least 32 values. The combination order is fixed, so results are deterministic.
template <typename T> __device__ __forceinline__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T r = lane < warps ? scratch[lane] : T(0);
  return warp_sum(r);
}

// ---------------------------------------------------------------- strided offsets

// Offsets of element i of a Strided<N> geometry, for each of its N operands.
template <int N> __device__ __forceinline__ void strided_offsets(const Strided<N>& g, int64_t i, int64_t (&off)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
  if (g.index32) {
    uint32_t r = uint32_t(i);
    for (int d = g.ndim - 1; d >= 0; --d) {
      const uint32_t s = uint32_t(g.sizes[d]);
      const uint32_t q = r / s;
      const int64_t idx = int64_t(r - q * s);
      r = q;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += idx * g.strides[k][d];
    }
  } else {
    int64_t r = i;
    for (int d = g.ndim - 1; d >= 0; --d) {
      const int64_t s = g.sizes[d];
      const int64_t q = r / s;
      const int64_t idx = r - q * s;
      r = q;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += idx * g.strides[k][d];
    }
  }
}

// ---------------------------------------------------------------- device error record

__device__ __forceinline__ void report_device_error(DeviceErrorRecord* rec, DeviceErrorCode code, int64_t value,
                                                    int64_t position, int64_t bound) {
  if (rec == nullptr) return;
  if (atomicCAS(&rec->code, 0, int32_t(code)) == 0) {
    rec->value = value;
    rec->position = position;
    rec->bound = bound;
  }
}

// ---------------------------------------------------------------- launch helpers (host)

constexpr int kThreads = 256;

// Blocks for `work` items at `threads` per block; kernels use grid-stride loops beyond the cap.
inline unsigned grid_for(int64_t work, int threads = kThreads) {
  int64_t b = (work + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > (int64_t(1) << 20)) b = int64_t(1) << 20;
  return unsigned(b);
}

// Calls f.template operator()<T>() with T the device type of `t`. Returns false for no dtype (never).
template <typename F> bool dispatch_all(KDType t, F&& f) {
  switch (t) {
    case KDType::F32: f.template operator()<float>(); return true;
    case KDType::F64: f.template operator()<double>(); return true;
    case KDType::F16: f.template operator()<__half>(); return true;
    case KDType::BF16: f.template operator()<__nv_bfloat16>(); return true;
    case KDType::I32: f.template operator()<int32_t>(); return true;
    case KDType::I64: f.template operator()<int64_t>(); return true;
    case KDType::U8: f.template operator()<uint8_t>(); return true;
    case KDType::Bool: f.template operator()<bool>(); return true;
  }
  return false;
}

// Floating types only; returns false (launch nothing) for any other dtype.
template <typename F> bool dispatch_float(KDType t, F&& f) {
  switch (t) {
    case KDType::F32: f.template operator()<float>(); return true;
    case KDType::F64: f.template operator()<double>(); return true;
    case KDType::F16: f.template operator()<__half>(); return true;
    case KDType::BF16: f.template operator()<__nv_bfloat16>(); return true;
    default: return false;
  }
}

// The status of the launches just made (cudaErrorInvalidValue when a dispatcher rejected the dtype).
inline cudaError_t launch_status(bool dispatched) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  return dispatched ? cudaSuccess : cudaErrorInvalidValue;
}

}  // namespace clipt::kernels
