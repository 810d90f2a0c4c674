// The element-wise op lists, written once. Each line names an op, its family and its formula; the macros
// below generate the enums, the names, the count guards and one __host__ __device__ formula per op, which
// the CPU backend (engine/cpu/elementwise.cpp) and the CUDA kernels (kernels/unary.cu, binary.cu) both
// call. Adding an op is one line here; the list-driven tests (tests/engine/op_list_test.cpp,
// tests/gpu/cuda_elementwise_test.cpp) then fail until the op has a test case.
//
// Families decide which dtypes an op accepts:
//   Float   — floating tensors only (transcendental functions, activation backward helpers);
//   Arith   — also integer/bool tensors (computed in f64, like the CPU backend);
//   Compare — a 0/1 result, which may be written as Bool.
// Formulas see `x` (unary) or `a`, `b` (binary), the compute type `C` (float for f32/f16/bf16, double
// otherwise), and for unary ops the scalar parameters `a`, `b`. They use the precise (non fast-math)
// functions of `formula` below, which are the same on host and device.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__)
#define CLIPT_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define CLIPT_HOST_DEVICE inline
#endif

// clang-format off
#define CLIPT_UNARY_OPS(X)                                                                   \
  X(Neg,        Arith,   "neg",         -x)                                                  \
  X(Exp,        Float,   "exp",         exp_(x))                                             \
  X(Log,        Float,   "log",         log_(x))                                             \
  X(Sqrt,       Float,   "sqrt",        sqrt_(x))                                            \
  X(Rsqrt,      Float,   "rsqrt",       C(1) / sqrt_(x))                                     \
  X(Abs,        Arith,   "abs",         fabs_(x))                                            \
  X(Sigmoid,    Float,   "sigmoid",     C(1) / (C(1) + exp_(-x)))                            \
  X(Tanh,       Float,   "tanh",        tanh_(x))                                            \
  X(Relu,       Arith,   "relu",        x > C(0) ? x : C(0))                                 \
  X(Sign,       Arith,   "sign",        C(int(x > C(0)) - int(x < C(0))))                    \
  X(Square,     Arith,   "square",      x * x)                                               \
  X(Reciprocal, Arith,   "reciprocal",  C(1) / x)                                            \
  X(Sin,        Float,   "sin",         sin_(x))                                             \
  X(Cos,        Float,   "cos",         cos_(x))                                             \
  X(Gelu,       Float,   "gelu",        C(0.5) * x * (C(1) + erf_(x * C(kSqrt1_2))))          \
  X(GeluTanh,   Float,   "gelu_tanh",   C(0.5) * x * (C(1) + tanh_(gelu_tanh_inner(x))))      \
  X(QuickGelu,  Float,   "quick_gelu",  x / (C(1) + exp_(C(-1.702) * x)))                     \
  X(AddScalar,  Arith,   "add_scalar",  x + a)                                               \
  X(MulScalar,  Arith,   "mul_scalar",  x * a)                                               \
  X(RSubScalar, Arith,   "rsub_scalar", a - x)                                               \
  X(RDivScalar, Arith,   "rdiv_scalar", a / x)                                               \
  X(PowScalar,  Arith,   "pow_scalar",  a == C(2) ? x * x : pow_(x, a))                       \
  X(Clamp,      Arith,   "clamp",       x < a ? a : (x > b ? b : x))                          \
  X(GtScalar,   Compare, "gt_scalar",   C(x > a))                                            \
  X(GeScalar,   Compare, "ge_scalar",   C(x >= a))                                           \
  X(LtScalar,   Compare, "lt_scalar",   C(x < a))                                            \
  X(LeScalar,   Compare, "le_scalar",   C(x <= a))                                           \
  X(EqScalar,   Compare, "eq_scalar",   C(x == a))                                           \
  X(LogicalNot, Compare, "logical_not", C(x == C(0)))

// Fused activation backward helpers compute out = a · f'(b) with b the forward input (or output, where
// the name says so), saving the intermediate tensors a composed backward would write.
#define CLIPT_BINARY_OPS(X)                                                                  \
  X(Add,                       Arith,   "add",                 a + b)                        \
  X(Sub,                       Arith,   "sub",                 a - b)                        \
  X(Mul,                       Arith,   "mul",                 a * b)                        \
  X(Div,                       Arith,   "div",                 a / b)                        \
  X(Pow,                       Arith,   "pow",                 pow_(a, b))                   \
  X(Maximum,                   Arith,   "maximum",             isnan_(a) || a > b ? a : b)   \
  X(Minimum,                   Arith,   "minimum",             isnan_(a) || a < b ? a : b)   \
  X(Eq,                        Compare, "eq",                  C(a == b))                    \
  X(Ne,                        Compare, "ne",                  C(a != b))                    \
  X(Lt,                        Compare, "lt",                  C(a < b))                     \
  X(Le,                        Compare, "le",                  C(a <= b))                    \
  X(Gt,                        Compare, "gt",                  C(a > b))                     \
  X(Ge,                        Compare, "ge",                  C(a >= b))                    \
  X(GeluBackward,              Float,   "gelu_backward",       a * gelu_grad(b))             \
  X(GeluTanhBackward,          Float,   "gelu_tanh_backward",  a * gelu_tanh_grad(b))        \
  X(QuickGeluBackward,         Float,   "quick_gelu_backward", a * quick_gelu_grad(b))       \
  X(SigmoidBackwardFromOutput, Float,   "sigmoid_backward",    a * b * (C(1) - b))           \
  X(TanhBackwardFromOutput,    Float,   "tanh_backward",       a * (C(1) - b * b))           \
  X(ReluBackward,              Float,   "relu_backward",       b > C(0) ? a : C(0))
// clang-format on

namespace clipt::kernels {

enum class OpFamily : uint8_t { Float, Arith, Compare };

#define CLIPT_OP_ENUM_ENTRY(name, family, text, formula) name,
enum class UnaryOp : uint8_t { CLIPT_UNARY_OPS(CLIPT_OP_ENUM_ENTRY) };
enum class BinaryOp : uint8_t { CLIPT_BINARY_OPS(CLIPT_OP_ENUM_ENTRY) };
#undef CLIPT_OP_ENUM_ENTRY

#define CLIPT_OP_COUNT(name, family, text, formula) +1
inline constexpr int kNumUnaryOps = 0 CLIPT_UNARY_OPS(CLIPT_OP_COUNT);
inline constexpr int kNumBinaryOps = 0 CLIPT_BINARY_OPS(CLIPT_OP_COUNT);
#undef CLIPT_OP_COUNT
// The enums are uint8_t and tests index ops 0..count−1: keep both true as the lists grow.
static_assert(kNumUnaryOps < 256 && kNumBinaryOps < 256);

// The precise math every formula uses, one definition for host and device (float or double).
namespace formula {

template <typename C> CLIPT_HOST_DEVICE C exp_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return expf(x);
  else
    return ::exp(x);
}
template <typename C> CLIPT_HOST_DEVICE C log_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return logf(x);
  else
    return ::log(x);
}
template <typename C> CLIPT_HOST_DEVICE C sqrt_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return sqrtf(x);
  else
    return ::sqrt(x);
}
template <typename C> CLIPT_HOST_DEVICE C erf_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return erff(x);
  else
    return ::erf(x);
}
template <typename C> CLIPT_HOST_DEVICE C tanh_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return tanhf(x);
  else
    return ::tanh(x);
}
template <typename C> CLIPT_HOST_DEVICE C sin_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return sinf(x);
  else
    return ::sin(x);
}
template <typename C> CLIPT_HOST_DEVICE C cos_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return cosf(x);
  else
    return ::cos(x);
}
template <typename C> CLIPT_HOST_DEVICE C pow_(C x, C y) {
  if constexpr (std::is_same_v<C, float>)
    return powf(x, y);
  else
    return ::pow(x, y);
}
template <typename C> CLIPT_HOST_DEVICE C fabs_(C x) {
  if constexpr (std::is_same_v<C, float>)
    return fabsf(x);
  else
    return ::fabs(x);
}
template <typename C> CLIPT_HOST_DEVICE bool isnan_(C x) { return x != x; }

inline constexpr double kSqrt1_2 = 0.70710678118654752440;
inline constexpr double kSqrt2OverPi = 0.79788456080286535588;
inline constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <typename C> CLIPT_HOST_DEVICE C gelu_tanh_inner(C x) {
  return C(kSqrt2OverPi) * (x + C(0.044715) * x * x * x);
}
// d/dx x·Φ(x) = Φ(x) + x·φ(x)
template <typename C> CLIPT_HOST_DEVICE C gelu_grad(C x) {
  const C cdf = C(0.5) * (C(1) + erf_(x * C(kSqrt1_2)));
  const C pdf = exp_(C(-0.5) * x * x) * C(kInvSqrt2Pi);
  return cdf + x * pdf;
}
template <typename C> CLIPT_HOST_DEVICE C gelu_tanh_grad(C x) {
  const C t = tanh_(gelu_tanh_inner(x));
  const C dinner = C(kSqrt2OverPi) * (C(1) + C(3 * 0.044715) * x * x);
  return C(0.5) * (C(1) + t) + C(0.5) * x * (C(1) - t * t) * dinner;
}
// d/dx x·σ(1.702x) = σ + 1.702·x·σ(1 − σ)
template <typename C> CLIPT_HOST_DEVICE C quick_gelu_grad(C x) {
  const C s = C(1) / (C(1) + exp_(C(-1.702) * x));
  return s + C(1.702) * x * s * (C(1) - s);
}

}  // namespace formula

// The formula of one op: UnaryFormula<UnaryOp::Exp>::apply(x, a, b), BinaryFormula<BinaryOp::Add>::apply(a, b).
template <UnaryOp op> struct UnaryFormula;
template <BinaryOp op> struct BinaryFormula;

#define CLIPT_UNARY_FORMULA(name, fam, text, formula_expr)                  \
  template <> struct UnaryFormula<UnaryOp::name> {                          \
    static constexpr OpFamily family = OpFamily::fam;                       \
    template <typename C> CLIPT_HOST_DEVICE static C apply(C x, C a, C b) { \
      using namespace formula;                                              \
      (void)a;                                                              \
      (void)b;                                                              \
      return formula_expr;                                                  \
    }                                                                       \
  };
CLIPT_UNARY_OPS(CLIPT_UNARY_FORMULA)
#undef CLIPT_UNARY_FORMULA

#define CLIPT_BINARY_FORMULA(name, fam, text, formula_expr)            \
  template <> struct BinaryFormula<BinaryOp::name> {                   \
    static constexpr OpFamily family = OpFamily::fam;                  \
    template <typename C> CLIPT_HOST_DEVICE static C apply(C a, C b) { \
      using namespace formula;                                         \
      return formula_expr;                                             \
    }                                                                  \
  };
CLIPT_BINARY_OPS(CLIPT_BINARY_FORMULA)
#undef CLIPT_BINARY_FORMULA

// Calls f(std::integral_constant<UnaryOp, op>{}) for the run-time `op`, so a loop or kernel sees the op as a
// compile-time constant (a per-element switch cost ~2× on the CPU loops).
template <typename F> CLIPT_HOST_DEVICE decltype(auto) visit_unary(UnaryOp op, F&& f) {
  switch (op) {
#define CLIPT_UNARY_CASE(name, fam, text, formula_expr) \
  case UnaryOp::name: return f(std::integral_constant<UnaryOp, UnaryOp::name>{});
    CLIPT_UNARY_OPS(CLIPT_UNARY_CASE)
#undef CLIPT_UNARY_CASE
  }
  return f(std::integral_constant<UnaryOp, UnaryOp::Neg>{});  // not reached for a valid op
}

template <typename F> CLIPT_HOST_DEVICE decltype(auto) visit_binary(BinaryOp op, F&& f) {
  switch (op) {
#define CLIPT_BINARY_CASE(name, fam, text, formula_expr) \
  case BinaryOp::name: return f(std::integral_constant<BinaryOp, BinaryOp::name>{});
    CLIPT_BINARY_OPS(CLIPT_BINARY_CASE)
#undef CLIPT_BINARY_CASE
  }
  return f(std::integral_constant<BinaryOp, BinaryOp::Add>{});  // not reached for a valid op
}

// The op's formula with a run-time op (a uniform switch; used where per-op code would multiply
// instantiations, e.g. the CUDA kernels and the CPU's mixed-dtype paths).
template <typename C> CLIPT_HOST_DEVICE C unary_apply(UnaryOp op, C x, C a, C b) {
  switch (op) {
#define CLIPT_UNARY_APPLY(name, fam, text, formula_expr) \
  case UnaryOp::name: return UnaryFormula<UnaryOp::name>::apply<C>(x, a, b);
    CLIPT_UNARY_OPS(CLIPT_UNARY_APPLY)
#undef CLIPT_UNARY_APPLY
  }
  return x;
}

template <typename C> CLIPT_HOST_DEVICE C binary_apply(BinaryOp op, C a, C b) {
  switch (op) {
#define CLIPT_BINARY_APPLY(name, fam, text, formula_expr) \
  case BinaryOp::name: return BinaryFormula<BinaryOp::name>::apply<C>(a, b);
    CLIPT_BINARY_OPS(CLIPT_BINARY_APPLY)
#undef CLIPT_BINARY_APPLY
  }
  return a;
}

constexpr OpFamily family_of(UnaryOp op) {
  switch (op) {
#define CLIPT_UNARY_FAMILY(name, fam, text, formula_expr) \
  case UnaryOp::name: return OpFamily::fam;
    CLIPT_UNARY_OPS(CLIPT_UNARY_FAMILY)
#undef CLIPT_UNARY_FAMILY
  }
  return OpFamily::Float;
}

constexpr OpFamily family_of(BinaryOp op) {
  switch (op) {
#define CLIPT_BINARY_FAMILY(name, fam, text, formula_expr) \
  case BinaryOp::name: return OpFamily::fam;
    CLIPT_BINARY_OPS(CLIPT_BINARY_FAMILY)
#undef CLIPT_BINARY_FAMILY
  }
  return OpFamily::Float;
}

constexpr const char* op_name(UnaryOp op) {
  switch (op) {
#define CLIPT_UNARY_NAME(name, fam, text, formula_expr) \
  case UnaryOp::name: return text;
    CLIPT_UNARY_OPS(CLIPT_UNARY_NAME)
#undef CLIPT_UNARY_NAME
  }
  return "unary";
}

constexpr const char* op_name(BinaryOp op) {
  switch (op) {
#define CLIPT_BINARY_NAME(name, fam, text, formula_expr) \
  case BinaryOp::name: return text;
    CLIPT_BINARY_OPS(CLIPT_BINARY_NAME)
#undef CLIPT_BINARY_NAME
  }
  return "binary";
}

}  // namespace clipt::kernels
