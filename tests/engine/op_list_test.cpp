// Tests driven by the element-wise op list (kernels/elementwise_ops.h): every op has a case, every
// differentiable case passes a finite-difference gradcheck in f64 on contiguous and strided inputs, and
// f32 agrees with f64 (the backend's two compute types). A new op fails here until it is covered in
// tests/common/elementwise_cases.cpp.
#include <fmt/format.h>

#include <set>

#include "engine/ops/gradcheck.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "tests/common/elementwise_cases.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using test::elementwise_cases;
using test::InputDomain;

Tensor case_input(const Shape& shape, InputDomain domain, DType dtype, uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::empty(shape, DType::F64);
  if (domain == InputDomain::Positive)
    uniform_(t, 0.5, 2.5, g);
  else
    uniform_(t, -2.0, 2.0, g);
  return t.to(dtype);
}

TEST(OpList, EveryOpHasATestCase) {
  const auto unary = test::uncovered_unary_ops(), binary = test::uncovered_binary_ops();
  EXPECT_TRUE(unary.empty()) << "unary ops without a case in tests/common/elementwise_cases.cpp: "
                             << fmt::format("{}", fmt::join(unary, ", "));
  EXPECT_TRUE(binary.empty()) << "binary ops without a case in tests/common/elementwise_cases.cpp: "
                              << fmt::format("{}", fmt::join(binary, ", "));
}

TEST(OpList, NamesAreUniqueAndCountsMatchTheEnums) {
  std::set<std::string> names;
  for (int i = 0; i < kernels::kNumUnaryOps; ++i) names.insert(op_name(UnaryOp(i)));
  EXPECT_EQ(int(names.size()), kernels::kNumUnaryOps);
  names.clear();
  for (int i = 0; i < kernels::kNumBinaryOps; ++i) names.insert(op_name(BinaryOp(i)));
  EXPECT_EQ(int(names.size()), kernels::kNumBinaryOps);
  // The last enumerator is the count minus one: a list line without an enum entry cannot slip in.
  EXPECT_EQ(int(UnaryOp::LogicalNot), kernels::kNumUnaryOps - 1);
  EXPECT_EQ(int(BinaryOp::ReluBackward), kernels::kNumBinaryOps - 1);
}

TEST(OpList, GradcheckEveryDifferentiableCase) {
  for (const auto& c : elementwise_cases()) {
    if (!c.differentiable) continue;
    SCOPED_TRACE(c.name);
    TensorList inputs;
    for (int i = 0; i < c.arity; ++i) {
      // The second operand broadcasts along the first dim.
      const Shape shape = i == 0 ? Shape{3, 4} : Shape{1, 4};
      inputs.push_back(case_input(shape, c.domain, DType::F64, 100 + i).requires_grad_());
    }
    auto r = gradcheck(c.fn, inputs);
    EXPECT_TRUE(r.ok) << r.message;
    // A transposed view of the first operand takes the strided paths.
    TensorList strided = inputs;
    strided[0] = case_input({4, 3}, c.domain, DType::F64, 200).requires_grad_();
    const auto fn = c.fn;
    auto rs = gradcheck(
        [fn](const TensorList& x) {
          TensorList v = x;
          v[0] = x[0].t();
          return fn(v);
        },
        strided);
    EXPECT_TRUE(rs.ok) << "strided: " << rs.message;
  }
}

TEST(OpList, FloatAgreesWithDoubleForEveryCase) {
  for (const auto& c : elementwise_cases()) {
    SCOPED_TRACE(c.name);
    TensorList in64, in32;
    for (int i = 0; i < c.arity; ++i) {
      Tensor x = case_input({5, 7}, c.domain, DType::F64, 300 + i);
      in32.push_back(x.to(DType::F32));
      in64.push_back(in32.back().to(DType::F64));  // the same values in both precisions
    }
    const Tensor y32 = c.fn(in32), y64 = c.fn(in64);
    if (c.differentiable) {
      EXPECT_ALL_CLOSE(y32.to(DType::F64), y64, 1e-5, 1e-6);
    } else {
      EXPECT_ALL_CLOSE(y32.to(DType::F64), y64.to(DType::F64), 0, 0);
    }
  }
}

}  // namespace
}  // namespace clipt
