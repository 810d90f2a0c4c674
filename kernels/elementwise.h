// Launchers for the element-wise kernels (unary, binary, where). The op lists and formulas are in
// kernels/elementwise_ops.h, shared with the CPU backend.
#pragma once
#include "kernels/elementwise_ops.h"
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// Ops defined for integer and bool tensors (computed in f64, like the CPU backend).
inline bool unary_is_compare(UnaryOp op) { return family_of(op) == OpFamily::Compare; }
inline bool unary_is_arithmetic(UnaryOp op) { return family_of(op) != OpFamily::Float; }
inline bool binary_is_arithmetic(BinaryOp op) { return family_of(op) != OpFamily::Float; }

// Which (op, input dtype, output dtype) combinations the kernels implement: float inputs support every op
// with the same dtype out; integer/bool inputs the arithmetic ops; comparisons may write Bool.
inline bool unary_supported(UnaryOp op, KDType in, KDType out) {
  if (out == KDType::Bool && unary_is_compare(op)) return true;
  if (out != in) return false;
  return kdtype_is_float(in) || unary_is_arithmetic(op);
}

inline bool binary_supported(BinaryOp op, KDType in, KDType out) {
  if (out != in && out != KDType::Bool) return false;
  return kdtype_is_float(in) || binary_is_arithmetic(op);
}

// y[i] = op(x[i]; a, b) for i < n. y is contiguous; x is contiguous when geo is null, else strided by it.
cudaError_t unary(UnaryOp op, KDType in, KDType out, const void* x, void* y, int64_t n, const Strided<1>* geo, double a,
                  double b, cudaStream_t stream);

// y[i] = op(a[i], b[i]); a and b share dtype `in`; geo (if any) holds a's and b's strides.
cudaError_t binary(BinaryOp op, KDType in, KDType out, const void* a, const void* b, void* y, int64_t n,
                   const Strided<2>* geo, cudaStream_t stream);

// y[i] = cond[i] ? a[i] : b[i]; geo (if any) holds the strides of cond, a and b.
cudaError_t where(KDType dtype, const bool* cond, const void* a, const void* b, void* y, int64_t n,
                  const Strided<3>* geo, cudaStream_t stream);

}  // namespace clipt::kernels
