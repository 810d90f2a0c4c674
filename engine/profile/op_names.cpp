// Record names of the element-wise primitives ("unary.exp", "binary.add": the op list's names with their
// family, kernels/elementwise_ops.h) and their FLOPs per output element: one for arithmetic, comparisons
// and single transcendentals; the activations count their formula (GELU with erf ≈ 8, its tanh form ≈ 9,
// QuickGELU x·σ(1.702x) ≈ 4, σ ≈ 3, clamp 2) and each fused backward helper one more.
#include <array>
#include <string>

#include "engine/profile/recording_backend.h"

namespace clipt::profile {

namespace {

template <typename Op, int N> const std::array<std::string, N>& prefixed_names(const char* prefix) {
  static const std::array<std::string, N> names = [&] {
    std::array<std::string, N> out;
    for (int i = 0; i < N; ++i) out[size_t(i)] = std::string(prefix) + op_name(Op(i));
    return out;
  }();
  return names;
}

}  // namespace

const char* unary_record_name(UnaryOp op) {
  return prefixed_names<UnaryOp, kernels::kNumUnaryOps>("unary.")[size_t(op)].c_str();
}

const char* binary_record_name(BinaryOp op) {
  return prefixed_names<BinaryOp, kernels::kNumBinaryOps>("binary.")[size_t(op)].c_str();
}

double unary_flops_per_element(UnaryOp op) {
  switch (op) {
    case UnaryOp::Sigmoid: return 3;
    case UnaryOp::Gelu: return 8;
    case UnaryOp::GeluTanh: return 9;
    case UnaryOp::QuickGelu: return 4;
    case UnaryOp::Clamp: return 2;
    default: return 1;
  }
}

double binary_flops_per_element(BinaryOp op) {
  switch (op) {
    case BinaryOp::GeluBackward: return 9;
    case BinaryOp::GeluTanhBackward: return 10;
    case BinaryOp::QuickGeluBackward: return 5;
    case BinaryOp::SigmoidBackwardFromOutput:
    case BinaryOp::TanhBackwardFromOutput: return 3;
    default: return 1;
  }
}

}  // namespace clipt::profile
