// Element-wise primitives: copy/cast, fill, unary, binary, where.
#include <cmath>
#include <cstring>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

namespace {

constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kSqrt2OverPi = 0.79788456080286535588;

template <typename C> C gelu_tanh_inner(C x) { return C(kSqrt2OverPi) * (x + C(0.044715) * x * x * x); }

template <typename C> [[gnu::always_inline]] inline C unary_value(UnaryOp op, C x, C a, C b) {
  using std::exp;
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Rsqrt: return C(1) / std::sqrt(x);
    case UnaryOp::Abs: return std::abs(x);
    case UnaryOp::Sigmoid: return C(1) / (C(1) + exp(-x));
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::Relu: return x > C(0) ? x : C(0);
    case UnaryOp::Sign: return C((x > C(0)) - (x < C(0)));
    case UnaryOp::Square: return x * x;
    case UnaryOp::Reciprocal: return C(1) / x;
    case UnaryOp::Sin: return std::sin(x);
    case UnaryOp::Cos: return std::cos(x);
    case UnaryOp::Gelu: return C(0.5) * x * (C(1) + std::erf(x * C(kSqrt1_2)));
    case UnaryOp::GeluTanh: return C(0.5) * x * (C(1) + std::tanh(gelu_tanh_inner(x)));
    case UnaryOp::QuickGelu: return x / (C(1) + exp(C(-1.702) * x));
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::RSubScalar: return a - x;
    case UnaryOp::RDivScalar: return a / x;
    case UnaryOp::PowScalar: return a == C(2) ? x * x : std::pow(x, a);
    case UnaryOp::Clamp: return x < a ? a : (x > b ? b : x);
    case UnaryOp::GtScalar: return C(x > a);
    case UnaryOp::GeScalar: return C(x >= a);
    case UnaryOp::LtScalar: return C(x < a);
    case UnaryOp::LeScalar: return C(x <= a);
    case UnaryOp::EqScalar: return C(x == a);
    case UnaryOp::LogicalNot: return C(x == C(0));
  }
  return x;
}

template <typename C> [[gnu::always_inline]] inline C binary_value(BinaryOp op, C a, C b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Pow: return std::pow(a, b);
    case BinaryOp::Maximum: return std::isnan(a) || a > b ? a : b;
    case BinaryOp::Minimum: return std::isnan(a) || a < b ? a : b;
    case BinaryOp::Eq: return C(a == b);
    case BinaryOp::Ne: return C(a != b);
    case BinaryOp::Lt: return C(a < b);
    case BinaryOp::Le: return C(a <= b);
    case BinaryOp::Gt: return C(a > b);
    case BinaryOp::Ge: return C(a >= b);
    case BinaryOp::GeluBackward: {
      const C cdf = C(0.5) * (C(1) + std::erf(b * C(kSqrt1_2)));
      const C pdf = std::exp(C(-0.5) * b * b) * C(0.39894228040143267794);
      return a * (cdf + b * pdf);
    }
    case BinaryOp::GeluTanhBackward: {
      const C t = std::tanh(gelu_tanh_inner(b));
      const C dinner = C(kSqrt2OverPi) * (C(1) + C(3 * 0.044715) * b * b);
      return a * (C(0.5) * (C(1) + t) + C(0.5) * b * (C(1) - t * t) * dinner);
    }
    case BinaryOp::QuickGeluBackward: {
      const C s = C(1) / (C(1) + std::exp(C(-1.702) * b));
      return a * (s + C(1.702) * b * s * (C(1) - s));
    }
    case BinaryOp::SigmoidBackwardFromOutput: return a * b * (C(1) - b);
    case BinaryOp::TanhBackwardFromOutput: return a * (C(1) - b * b);
    case BinaryOp::ReluBackward: return b > C(0) ? a : C(0);
  }
  return a;
}

// Calls f(std::integral_constant<Op, op>{}) so loops see the op as a compile-time constant and the
// switch inside unary_value/binary_value folds away (the per-element switch cost ~2x on these loops).
template <typename F> void with_unary_op(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Neg: return f(std::integral_constant<UnaryOp, UnaryOp::Neg>{});
    case UnaryOp::Exp: return f(std::integral_constant<UnaryOp, UnaryOp::Exp>{});
    case UnaryOp::Log: return f(std::integral_constant<UnaryOp, UnaryOp::Log>{});
    case UnaryOp::Sqrt: return f(std::integral_constant<UnaryOp, UnaryOp::Sqrt>{});
    case UnaryOp::Rsqrt: return f(std::integral_constant<UnaryOp, UnaryOp::Rsqrt>{});
    case UnaryOp::Abs: return f(std::integral_constant<UnaryOp, UnaryOp::Abs>{});
    case UnaryOp::Sigmoid: return f(std::integral_constant<UnaryOp, UnaryOp::Sigmoid>{});
    case UnaryOp::Tanh: return f(std::integral_constant<UnaryOp, UnaryOp::Tanh>{});
    case UnaryOp::Relu: return f(std::integral_constant<UnaryOp, UnaryOp::Relu>{});
    case UnaryOp::Sign: return f(std::integral_constant<UnaryOp, UnaryOp::Sign>{});
    case UnaryOp::Square: return f(std::integral_constant<UnaryOp, UnaryOp::Square>{});
    case UnaryOp::Reciprocal: return f(std::integral_constant<UnaryOp, UnaryOp::Reciprocal>{});
    case UnaryOp::Sin: return f(std::integral_constant<UnaryOp, UnaryOp::Sin>{});
    case UnaryOp::Cos: return f(std::integral_constant<UnaryOp, UnaryOp::Cos>{});
    case UnaryOp::Gelu: return f(std::integral_constant<UnaryOp, UnaryOp::Gelu>{});
    case UnaryOp::GeluTanh: return f(std::integral_constant<UnaryOp, UnaryOp::GeluTanh>{});
    case UnaryOp::QuickGelu: return f(std::integral_constant<UnaryOp, UnaryOp::QuickGelu>{});
    case UnaryOp::AddScalar: return f(std::integral_constant<UnaryOp, UnaryOp::AddScalar>{});
    case UnaryOp::MulScalar: return f(std::integral_constant<UnaryOp, UnaryOp::MulScalar>{});
    case UnaryOp::RSubScalar: return f(std::integral_constant<UnaryOp, UnaryOp::RSubScalar>{});
    case UnaryOp::RDivScalar: return f(std::integral_constant<UnaryOp, UnaryOp::RDivScalar>{});
    case UnaryOp::PowScalar: return f(std::integral_constant<UnaryOp, UnaryOp::PowScalar>{});
    case UnaryOp::Clamp: return f(std::integral_constant<UnaryOp, UnaryOp::Clamp>{});
    case UnaryOp::GtScalar: return f(std::integral_constant<UnaryOp, UnaryOp::GtScalar>{});
    case UnaryOp::GeScalar: return f(std::integral_constant<UnaryOp, UnaryOp::GeScalar>{});
    case UnaryOp::LtScalar: return f(std::integral_constant<UnaryOp, UnaryOp::LtScalar>{});
    case UnaryOp::LeScalar: return f(std::integral_constant<UnaryOp, UnaryOp::LeScalar>{});
    case UnaryOp::EqScalar: return f(std::integral_constant<UnaryOp, UnaryOp::EqScalar>{});
    case UnaryOp::LogicalNot: return f(std::integral_constant<UnaryOp, UnaryOp::LogicalNot>{});
  }
}

template <typename F> void with_binary_op(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: return f(std::integral_constant<BinaryOp, BinaryOp::Add>{});
    case BinaryOp::Sub: return f(std::integral_constant<BinaryOp, BinaryOp::Sub>{});
    case BinaryOp::Mul: return f(std::integral_constant<BinaryOp, BinaryOp::Mul>{});
    case BinaryOp::Div: return f(std::integral_constant<BinaryOp, BinaryOp::Div>{});
    case BinaryOp::Pow: return f(std::integral_constant<BinaryOp, BinaryOp::Pow>{});
    case BinaryOp::Maximum: return f(std::integral_constant<BinaryOp, BinaryOp::Maximum>{});
    case BinaryOp::Minimum: return f(std::integral_constant<BinaryOp, BinaryOp::Minimum>{});
    case BinaryOp::Eq: return f(std::integral_constant<BinaryOp, BinaryOp::Eq>{});
    case BinaryOp::Ne: return f(std::integral_constant<BinaryOp, BinaryOp::Ne>{});
    case BinaryOp::Lt: return f(std::integral_constant<BinaryOp, BinaryOp::Lt>{});
    case BinaryOp::Le: return f(std::integral_constant<BinaryOp, BinaryOp::Le>{});
    case BinaryOp::Gt: return f(std::integral_constant<BinaryOp, BinaryOp::Gt>{});
    case BinaryOp::Ge: return f(std::integral_constant<BinaryOp, BinaryOp::Ge>{});
    case BinaryOp::GeluBackward: return f(std::integral_constant<BinaryOp, BinaryOp::GeluBackward>{});
    case BinaryOp::GeluTanhBackward: return f(std::integral_constant<BinaryOp, BinaryOp::GeluTanhBackward>{});
    case BinaryOp::QuickGeluBackward: return f(std::integral_constant<BinaryOp, BinaryOp::QuickGeluBackward>{});
    case BinaryOp::SigmoidBackwardFromOutput:
      return f(std::integral_constant<BinaryOp, BinaryOp::SigmoidBackwardFromOutput>{});
    case BinaryOp::TanhBackwardFromOutput:
      return f(std::integral_constant<BinaryOp, BinaryOp::TanhBackwardFromOutput>{});
    case BinaryOp::ReluBackward: return f(std::integral_constant<BinaryOp, BinaryOp::ReluBackward>{});
  }
}

bool all_contiguous(std::initializer_list<const Tensor*> ts) {
  for (auto* t : ts)
    if (!t->is_contiguous()) return false;
  return true;
}

}  // namespace

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  CLIPT_CHECK(src.shape() == dst.shape(), "copy: shapes {} and {} differ", shape_str(src.shape()),
              shape_str(dst.shape()));
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memmove(dst.data_ptr(), src.data_ptr(), dst.nbytes());
    return;
  }
  dispatch(src.dtype(), [&]<typename S>() {
    dispatch(dst.dtype(), [&]<typename D>() {
      const S* s = static_cast<const S*>(src.data_ptr());
      D* d = static_cast<D*>(dst.data_ptr());
      for_each_strided_rows<2>(
          dst.shape(), {&src.strides(), &dst.strides()},
          [&](int64_t, int64_t count, const std::array<int64_t, 2>& o, const std::array<int64_t, 2>& step) {
            const S* from = s + o[0];
            D* to = d + o[1];
            if constexpr (std::is_same_v<S, D>) {
              if (step[0] == 1 && step[1] == 1) {
                std::memcpy(to, from, size_t(count) * sizeof(S));
              } else {
                for (int64_t j = 0; j < count; ++j) to[j * step[1]] = from[j * step[0]];
              }
            } else {
              for (int64_t j = 0; j < count; ++j) store(to + j * step[1], load(from + j * step[0]));
            }
          });
    });
  });
}

void CpuBackend::fill(Tensor& dst, double value) {
  dispatch(dst.dtype(), [&]<typename T>() {
    T* d = static_cast<T*>(dst.data_ptr());
    T v;
    store(&v, compute_t<T>(value));
    const int64_t n = dst.numel();
    parallel_range(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = v;
    });
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, Tensor& out, double a, double b) {
  dispatch(x.dtype(), [&]<typename T>() {
    dispatch(out.dtype(), [&]<typename O>() {
      using C = std::conditional_t<std::is_same_v<compute_t<T>, double> || std::is_same_v<compute_t<O>, double>, double,
                                   float>;
      const T* xp = static_cast<const T*>(x.data_ptr());
      O* op_ = static_cast<O*>(out.data_ptr());
      const C ca = C(a), cb = C(b);
      if constexpr (std::is_same_v<T, O> && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
        // Same float type in and out: a tight loop per op over rows (strided or not).
        with_unary_op(op, [&](auto kop) {
          for_each_strided_rows<1>(
              out.shape(), {&x.strides()},
              [&](int64_t i0, int64_t count, const std::array<int64_t, 1>& off, const std::array<int64_t, 1>& step) {
                const T* src = xp + off[0];
                T* dst = op_ + i0;
                if (step[0] == 1) {
                  for (int64_t j = 0; j < count; ++j) dst[j] = unary_value<C>(kop.value, src[j], ca, cb);
                } else {
                  for (int64_t j = 0; j < count; ++j) dst[j] = unary_value<C>(kop.value, src[j * step[0]], ca, cb);
                }
              });
        });
      } else if (x.is_contiguous()) {
        parallel_range(out.numel(), 1, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) store(op_ + i, unary_value<C>(op, C(load(xp + i)), ca, cb));
        });
      } else {
        for_each_strided<1>(out.shape(), {&x.strides()}, [&](int64_t i, const std::array<int64_t, 1>& o) {
          store(op_ + i, unary_value<C>(op, C(load(xp + o[0])), ca, cb));
        });
      }
    });
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  CLIPT_CHECK(a.dtype() == b.dtype(), "binary op: operand dtypes {} and {} differ", dtype_name(a.dtype()),
              dtype_name(b.dtype()));
  dispatch(a.dtype(), [&]<typename T>() {
    dispatch(out.dtype(), [&]<typename O>() {
      using C = compute_t<T>;
      const T* ap = static_cast<const T*>(a.data_ptr());
      const T* bp = static_cast<const T*>(b.data_ptr());
      O* o = static_cast<O*>(out.data_ptr());
      if constexpr (std::is_same_v<T, O> && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
        with_binary_op(op, [&](auto kop) {
          for_each_strided_rows<2>(
              out.shape(), {&a.strides(), &b.strides()},
              [&](int64_t i0, int64_t count, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& step) {
                const T* x = ap + off[0];
                const T* y = bp + off[1];
                T* dst = o + i0;
                if (step[0] == 1 && step[1] == 1) {
                  for (int64_t j = 0; j < count; ++j) dst[j] = binary_value<C>(kop.value, x[j], y[j]);
                } else if (step[0] == 1 && step[1] == 0) {
                  const C yv = y[0];
                  for (int64_t j = 0; j < count; ++j) dst[j] = binary_value<C>(kop.value, x[j], yv);
                } else {
                  for (int64_t j = 0; j < count; ++j)
                    dst[j] = binary_value<C>(kop.value, x[j * step[0]], y[j * step[1]]);
                }
              });
        });
      } else if (all_contiguous({&a, &b})) {
        parallel_range(out.numel(), 1, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) store(o + i, binary_value<C>(op, load(ap + i), load(bp + i)));
        });
      } else {
        for_each_strided<2>(out.shape(), {&a.strides(), &b.strides()},
                            [&](int64_t i, const std::array<int64_t, 2>& off) {
                              store(o + i, binary_value<C>(op, load(ap + off[0]), load(bp + off[1])));
                            });
      }
    });
  });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  CLIPT_CHECK(cond.dtype() == DType::Bool, "where: condition must be bool, got {}", dtype_name(cond.dtype()));
  dispatch(out.dtype(), [&]<typename T>() {
    const bool* c = static_cast<const bool*>(cond.data_ptr());
    const T* ap = static_cast<const T*>(a.data_ptr());
    const T* bp = static_cast<const T*>(b.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    for_each_strided<3>(
        out.shape(), {&cond.strides(), &a.strides(), &b.strides()},
        [&](int64_t i, const std::array<int64_t, 3>& off) { o[i] = c[off[0]] ? ap[off[1]] : bp[off[2]]; });
  });
}

void CpuBackend::copy_to_host(const Tensor& src, void* dst) { std::memcpy(dst, src.data_ptr(), src.nbytes()); }
void CpuBackend::copy_from_host(const void* src, Tensor& dst) { std::memcpy(dst.data_ptr(), src, dst.nbytes()); }

}  // namespace clipt::cpu
