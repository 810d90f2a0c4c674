// Unary element-wise ops: y = f(x; a, b) for the engine's UnaryOp list (activations, scalar arithmetic,
// scalar comparisons). f32/f16/bf16 compute in f32, f64 and integers in f64 (the CPU backend's rule;
// comparisons with a Bool output also compare in f64 so that `x > 0.1` agrees bit for bit with the CPU).
// One kernel per (input, output) dtype pair; the op is a uniform run-time switch, which keeps the number
// of instantiations (and the CI compile time) small at no cost for these memory-bound loops.
#include "kernels/elementwise.h"
#include "kernels/elementwise_map.cuh"
#include "kernels/math.cuh"

namespace clipt::kernels {

namespace {

enum class Family { Full, Arith, Compare };

template <typename C, Family F> __device__ __forceinline__ C unary_math(UnaryKind op, C x, C a, C b) {
  using namespace math;
  switch (op) {
    case UnaryKind::GtScalar: return C(x > a);
    case UnaryKind::GeScalar: return C(x >= a);
    case UnaryKind::LtScalar: return C(x < a);
    case UnaryKind::LeScalar: return C(x <= a);
    case UnaryKind::EqScalar: return C(x == a);
    case UnaryKind::LogicalNot: return C(x == C(0));
    default: break;
  }
  if constexpr (F != Family::Compare) {
    switch (op) {
      case UnaryKind::Neg: return -x;
      case UnaryKind::Abs: return fabs_(x);
      case UnaryKind::Relu: return x > C(0) ? x : C(0);
      case UnaryKind::Sign: return C(int(x > C(0)) - int(x < C(0)));
      case UnaryKind::Square: return x * x;
      case UnaryKind::Reciprocal: return C(1) / x;
      case UnaryKind::AddScalar: return x + a;
      case UnaryKind::MulScalar: return x * a;
      case UnaryKind::RSubScalar: return a - x;
      case UnaryKind::RDivScalar: return a / x;
      case UnaryKind::PowScalar: return a == C(2) ? x * x : pow_(x, a);
      case UnaryKind::Clamp: return x < a ? a : (x > b ? b : x);
      default: break;
    }
  }
  if constexpr (F == Family::Full) {
    switch (op) {
      case UnaryKind::Exp: return exp_(x);
      case UnaryKind::Log: return log_(x);
      case UnaryKind::Sqrt: return sqrt_(x);
      case UnaryKind::Rsqrt: return C(1) / sqrt_(x);
      case UnaryKind::Sigmoid: return C(1) / (C(1) + exp_(-x));
      case UnaryKind::Tanh: return tanh_(x);
      case UnaryKind::Sin: return sin_(x);
      case UnaryKind::Cos: return cos_(x);
      case UnaryKind::Gelu: return C(0.5) * x * (C(1) + erf_(x * C(kSqrt1_2)));
      case UnaryKind::GeluTanh: return C(0.5) * x * (C(1) + tanh_(C(kSqrt2OverPi) * (x + C(0.044715) * x * x * x)));
      case UnaryKind::QuickGelu: return x / (C(1) + exp_(C(-1.702) * x));
      default: break;
    }
  }
  return x;  // not reached: unary_supported() filters the ops of each family
}

template <typename In, typename Out, typename C, Family F> struct UnaryFn {
  UnaryKind op;
  C a, b;
  __device__ __forceinline__ Out operator()(In v) const {
    return from_compute<Out>(unary_math<C, F>(op, C(to_compute(v)), a, b));
  }
};

template <typename In, typename Out, typename C, Family F> void launch(UnaryKind op, const void* x, void* y, int64_t n,
                                                                       const Strided<1>* geo, double a, double b,
                                                                       cudaStream_t stream) {
  launch_map1(static_cast<const In*>(x), static_cast<Out*>(y), n, geo, UnaryFn<In, Out, C, F>{op, C(a), C(b)}, stream);
}

}  // namespace

cudaError_t unary(UnaryKind op, KDType in, KDType out, const void* x, void* y, int64_t n, const Strided<1>* geo,
                  double a, double b, cudaStream_t stream) {
  if (!unary_supported(op, in, out) || n <= 0) return n <= 0 ? cudaSuccess : cudaErrorInvalidValue;
  bool ok;
  if (out == KDType::Bool && unary_is_compare(op)) {
    ok = dispatch_all(in,
                      [&]<typename T>() { launch<T, bool, double, Family::Compare>(op, x, y, n, geo, a, b, stream); });
  } else if (kdtype_is_float(in)) {
    ok = dispatch_float(
        in, [&]<typename T>() { launch<T, T, compute_t<T>, Family::Full>(op, x, y, n, geo, a, b, stream); });
  } else {
    ok = dispatch_all(in, [&]<typename T>() {
      if constexpr (!is_float_like_v<T> && !std::is_same_v<T, double>)
        launch<T, T, double, Family::Arith>(op, x, y, n, geo, a, b, stream);
    });
  }
  return launch_status(ok);
}

}  // namespace clipt::kernels
