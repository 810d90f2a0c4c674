// Unary element-wise ops: y = f(x; a, b) for the UnaryOp list of kernels/elementwise_ops.h (activations,
// scalar arithmetic, scalar comparisons), whose formulas the CPU backend shares. f32/f16/bf16 compute in
// f32, f64 and integers in f64 (the CPU backend's rule; comparisons with a Bool output also compare in f64
// so that `x > 0.1` agrees bit for bit with the CPU). One kernel per (input, output) dtype pair; the op is
// a uniform run-time switch, which keeps the number of instantiations (and the CI compile time) small at
// no cost for these memory-bound loops.
#include "kernels/elementwise.h"
#include "kernels/elementwise_map.cuh"

namespace clipt::kernels {

namespace {

template <typename In, typename Out, typename C> struct UnaryFn {
  UnaryOp op;
  C a, b;
  __device__ __forceinline__ Out operator()(In v) const {
    return from_compute<Out>(unary_apply<C>(op, C(to_compute(v)), a, b));
  }
};

template <typename In, typename Out, typename C> void launch(UnaryOp op, const void* x, void* y, int64_t n,
                                                             const Strided<1>* geo, double a, double b,
                                                             cudaStream_t stream) {
  launch_map1(static_cast<const In*>(x), static_cast<Out*>(y), n, geo, UnaryFn<In, Out, C>{op, C(a), C(b)}, stream);
}

}  // namespace

cudaError_t unary(UnaryOp op, KDType in, KDType out, const void* x, void* y, int64_t n, const Strided<1>* geo, double a,
                  double b, cudaStream_t stream) {
  if (!unary_supported(op, in, out) || n <= 0) return n <= 0 ? cudaSuccess : cudaErrorInvalidValue;
  bool ok;
  if (out == KDType::Bool && unary_is_compare(op)) {
    ok = dispatch_all(in, [&]<typename T>() { launch<T, bool, double>(op, x, y, n, geo, a, b, stream); });
  } else if (kdtype_is_float(in)) {
    ok = dispatch_float(in, [&]<typename T>() { launch<T, T, compute_t<T>>(op, x, y, n, geo, a, b, stream); });
  } else {
    ok = dispatch_all(in, [&]<typename T>() {
      if constexpr (!is_float_like_v<T> && !std::is_same_v<T, double>)
        launch<T, T, double>(op, x, y, n, geo, a, b, stream);
    });
  }
  return launch_status(ok);
}

}  // namespace clipt::kernels
