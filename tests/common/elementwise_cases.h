// One test case per element-wise engine op, tied to the op list of kernels/elementwise_ops.h: each case
// names the list ops it runs (forward or in its backward). The list-driven tests loop over these cases —
// gradchecks on CPU (tests/engine/op_list_test.cpp), CUDA vs CPU (tests/gpu/cuda_elementwise_test.cpp) —
// and a coverage test fails for any op in the list that no case names, so a new op fails until it is
// covered here.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/core/tensor.h"

namespace clipt::test {

enum class InputDomain {
  Any,       // values in [-2, 2)
  Positive,  // values in [0.5, 2.5): log, sqrt, reciprocal, pow with real exponents
};

struct ElementwiseCase {
  std::string name;
  std::vector<UnaryOp> unary_ops;  // the list ops it runs, forward or backward
  std::vector<BinaryOp> binary_ops;
  int arity = 1;  // number of tensor inputs
  InputDomain domain = InputDomain::Any;
  bool differentiable = true;   // false: comparisons and sign (checked with exact equality, no gradient)
  bool integer_inputs = false;  // also defined for i32/i64 inputs (the Arith and Compare families)
  std::function<Tensor(const TensorList&)> fn;
};

const std::vector<ElementwiseCase>& elementwise_cases();

// "neg, exp" style names of the list ops no case covers (empty when every op has a case).
std::vector<std::string> uncovered_unary_ops();
std::vector<std::string> uncovered_binary_ops();

}  // namespace clipt::test
