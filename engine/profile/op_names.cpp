// Record names and FLOP counts of the element-wise primitives. The tables follow UnaryOp / BinaryOp
// (engine/core/backend.h) entry for entry; the static_asserts stop the build when those lists change.
// FLOPs per element: one for arithmetic, comparisons and single transcendentals; the activations count
// their formula (GELU with erf ≈ 8, its tanh form ≈ 9, QuickGELU x·σ(1.702x) ≈ 4, each backward one more).
#include "engine/profile/recording_backend.h"

namespace clipt::profile {

namespace {

struct ElementwiseEntry {
  const char* name;
  double flops;
};

constexpr ElementwiseEntry kUnary[] = {
    {"unary.neg", 1},         {"unary.exp", 1},        {"unary.log", 1},        {"unary.sqrt", 1},
    {"unary.rsqrt", 1},       {"unary.abs", 1},        {"unary.sigmoid", 3},    {"unary.tanh", 1},
    {"unary.relu", 1},        {"unary.sign", 1},       {"unary.square", 1},     {"unary.reciprocal", 1},
    {"unary.sin", 1},         {"unary.cos", 1},        {"unary.gelu", 8},       {"unary.gelu_tanh", 9},
    {"unary.quick_gelu", 4},  {"unary.add_scalar", 1}, {"unary.mul_scalar", 1}, {"unary.rsub_scalar", 1},
    {"unary.rdiv_scalar", 1}, {"unary.pow_scalar", 1}, {"unary.clamp", 2},      {"unary.gt_scalar", 1},
    {"unary.ge_scalar", 1},   {"unary.lt_scalar", 1},  {"unary.le_scalar", 1},  {"unary.eq_scalar", 1},
    {"unary.logical_not", 1},
};
static_assert(std::size(kUnary) == size_t(UnaryOp::LogicalNot) + 1, "kUnary follows UnaryOp");

constexpr ElementwiseEntry kBinary[] = {
    {"binary.add", 1},
    {"binary.sub", 1},
    {"binary.mul", 1},
    {"binary.div", 1},
    {"binary.pow", 1},
    {"binary.maximum", 1},
    {"binary.minimum", 1},
    {"binary.eq", 1},
    {"binary.ne", 1},
    {"binary.lt", 1},
    {"binary.le", 1},
    {"binary.gt", 1},
    {"binary.ge", 1},
    {"binary.gelu_backward", 9},
    {"binary.gelu_tanh_backward", 10},
    {"binary.quick_gelu_backward", 5},
    {"binary.sigmoid_backward", 3},
    {"binary.tanh_backward", 3},
    {"binary.relu_backward", 1},
};
static_assert(std::size(kBinary) == size_t(BinaryOp::ReluBackward) + 1, "kBinary follows BinaryOp");

}  // namespace

const char* unary_record_name(UnaryOp op) { return kUnary[size_t(op)].name; }
const char* binary_record_name(BinaryOp op) { return kBinary[size_t(op)].name; }
double unary_flops_per_element(UnaryOp op) { return kUnary[size_t(op)].flops; }
double binary_flops_per_element(BinaryOp op) { return kBinary[size_t(op)].flops; }

}  // namespace clipt::profile
