// Launchers for the element-wise kernels (unary, binary, where). The op lists mirror the engine's
// UnaryOp / BinaryOp (engine/core/backend.h) value for value; the CUDA glue static_asserts that.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

enum class UnaryKind : uint8_t {
  Neg,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Abs,
  Sigmoid,
  Tanh,
  Relu,
  Sign,
  Square,
  Reciprocal,
  Sin,
  Cos,
  Gelu,
  GeluTanh,
  QuickGelu,
  AddScalar,
  MulScalar,
  RSubScalar,
  RDivScalar,
  PowScalar,
  Clamp,
  GtScalar,
  GeScalar,
  LtScalar,
  LeScalar,
  EqScalar,
  LogicalNot,
};

enum class BinaryKind : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  GeluBackward,
  GeluTanhBackward,
  QuickGeluBackward,
  SigmoidBackwardFromOutput,
  TanhBackwardFromOutput,
  ReluBackward,
};

inline bool unary_is_compare(UnaryKind op) {
  return op == UnaryKind::GtScalar || op == UnaryKind::GeScalar || op == UnaryKind::LtScalar ||
         op == UnaryKind::LeScalar || op == UnaryKind::EqScalar || op == UnaryKind::LogicalNot;
}

// Ops defined for integer and bool tensors (computed in double, like the CPU backend).
inline bool unary_is_arithmetic(UnaryKind op) {
  switch (op) {
    case UnaryKind::Neg:
    case UnaryKind::Abs:
    case UnaryKind::Relu:
    case UnaryKind::Sign:
    case UnaryKind::Square:
    case UnaryKind::Reciprocal:
    case UnaryKind::AddScalar:
    case UnaryKind::MulScalar:
    case UnaryKind::RSubScalar:
    case UnaryKind::RDivScalar:
    case UnaryKind::PowScalar:
    case UnaryKind::Clamp: return true;
    default: return unary_is_compare(op);
  }
}

inline bool binary_is_arithmetic(BinaryKind op) { return uint8_t(op) <= uint8_t(BinaryKind::Ge); }

// Which (op, input dtype, output dtype) combinations the kernels implement: float inputs support every op
// with the same dtype out; integer/bool inputs the arithmetic ops; comparisons may write Bool.
inline bool unary_supported(UnaryKind op, KDType in, KDType out) {
  if (out == KDType::Bool && unary_is_compare(op)) return true;
  if (out != in) return false;
  return kdtype_is_float(in) || unary_is_arithmetic(op);
}

inline bool binary_supported(BinaryKind op, KDType in, KDType out) {
  if (out != in && out != KDType::Bool) return false;
  return kdtype_is_float(in) || binary_is_arithmetic(op);
}

// y[i] = op(x[i]; a, b) for i < n. y is contiguous; x is contiguous when geo is null, else strided by it.
cudaError_t unary(UnaryKind op, KDType in, KDType out, const void* x, void* y, int64_t n, const Strided<1>* geo,
                  double a, double b, cudaStream_t stream);

// y[i] = op(a[i], b[i]); a and b share dtype `in`; geo (if any) holds a's and b's strides.
cudaError_t binary(BinaryKind op, KDType in, KDType out, const void* a, const void* b, void* y, int64_t n,
                   const Strided<2>* geo, cudaStream_t stream);

// y[i] = cond[i] ? a[i] : b[i]; geo (if any) holds the strides of cond, a and b.
cudaError_t where(KDType dtype, const bool* cond, const void* a, const void* b, void* y, int64_t n,
                  const Strided<3>* geo, cudaStream_t stream);

}  // namespace clipt::kernels
