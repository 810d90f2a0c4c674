// Binary element-wise ops y = op(a, b) for the BinaryOp list of kernels/elementwise_ops.h (arithmetic,
// min/max with NaN propagation, comparisons, and the fused activation backward helpers out = a · f'(b)),
// whose formulas the CPU backend shares, plus where(cond, a, b). Broadcasting arrives as
// stride-0 operands. Compute type: f32 for f32/f16/bf16, f64 for f64 and integers (as the CPU backend,
// whose binary ops compute in the input's compute type whatever the output dtype).
#include "kernels/elementwise.h"
#include "kernels/elementwise_map.cuh"

namespace clipt::kernels {

namespace {

template <typename In, typename Out> struct BinaryFn {
  BinaryOp op;
  __device__ __forceinline__ Out operator()(In a, In b) const {
    using C = compute_t<In>;
    return from_compute<Out>(binary_apply<C>(op, C(to_compute(a)), C(to_compute(b))));
  }
};

template <typename In> void launch_binary(BinaryOp op, bool bool_out, const void* a, const void* b, void* y, int64_t n,
                                          const Strided<2>* geo, cudaStream_t stream) {
  const In* pa = static_cast<const In*>(a);
  const In* pb = static_cast<const In*>(b);
  if (bool_out)
    launch_map2(pa, pb, static_cast<bool*>(y), n, geo, BinaryFn<In, bool>{op}, stream);
  else
    launch_map2(pa, pb, static_cast<In*>(y), n, geo, BinaryFn<In, In>{op}, stream);
}

// where() moves bits: one kernel per element size.
template <typename W> __global__ void __launch_bounds__(kThreads)
    where_kernel(const bool* c, const W* a, const W* b, W* y, int64_t n, Strided<3> geo, bool strided) {
  const int64_t tid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = tid; i < n; i += step) {
    if (strided) {
      int64_t off[3];
      strided_offsets(geo, i, off);
      y[i] = c[off[0]] ? a[off[1]] : b[off[2]];
    } else {
      y[i] = c[i] ? a[i] : b[i];
    }
  }
}

template <int Bytes> void launch_where(const bool* c, const void* a, const void* b, void* y, int64_t n,
                                       const Strided<3>* geo, cudaStream_t stream) {
  using W = typename Word<Bytes>::type;
  const Strided<3> g = geo ? *geo : Strided<3>{};
  where_kernel<W><<<grid_for(n), kThreads, 0, stream>>>(c, static_cast<const W*>(a), static_cast<const W*>(b),
                                                        static_cast<W*>(y), n, g, geo != nullptr);
}

}  // namespace

cudaError_t binary(BinaryOp op, KDType in, KDType out, const void* a, const void* b, void* y, int64_t n,
                   const Strided<2>* geo, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  if (!binary_supported(op, in, out)) return cudaErrorInvalidValue;
  const bool bool_out = out == KDType::Bool && in != KDType::Bool;
  const bool ok = dispatch_all(in, [&]<typename T>() { launch_binary<T>(op, bool_out, a, b, y, n, geo, stream); });
  return launch_status(ok);
}

cudaError_t where(KDType dtype, const bool* cond, const void* a, const void* b, void* y, int64_t n,
                  const Strided<3>* geo, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  switch (kdtype_size(dtype)) {
    case 1: launch_where<1>(cond, a, b, y, n, geo, stream); break;
    case 2: launch_where<2>(cond, a, b, y, n, geo, stream); break;
    case 4: launch_where<4>(cond, a, b, y, n, geo, stream); break;
    case 8: launch_where<8>(cond, a, b, y, n, geo, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace clipt::kernels
