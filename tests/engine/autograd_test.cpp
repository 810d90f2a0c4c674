// Tape behaviour: only needed gradients are computed, no-grad mode, accumulation, detach, shared
// sub-expressions, and backward through a freed graph.
#include "engine/core/backend.h"
#include "engine/ops/ops.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

TEST(Autograd, FrozenWeightTriggersNoWeightGradientGemm) {
  Tensor x = Tensor::ones({4, 3}).requires_grad_();
  Tensor w = Tensor::ones({5, 3});  // frozen
  Backend& be = cpu_backend();
  const int64_t before_forward = be.gemm_calls;
  Tensor y = sum(linear(x, w));
  EXPECT_EQ(be.gemm_calls - before_forward, 1);
  const int64_t before = be.gemm_calls;
  y.backward();
  EXPECT_EQ(be.gemm_calls - before, 1) << "only dX = dY·W should run";
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());

  // Trainable weight, frozen input: only dW.
  Tensor x2 = Tensor::ones({4, 3});
  Tensor w2 = Tensor::ones({5, 3}).requires_grad_();
  Tensor y2 = sum(matmul(x2, w2.t()));
  const int64_t before2 = be.gemm_calls;
  y2.backward();
  EXPECT_EQ(be.gemm_calls - before2, 1);
  EXPECT_FALSE(x2.grad().defined());
}

TEST(Autograd, FrozenSubgraphRecordsNothing) {
  Tensor w = Tensor::ones({3, 3});
  Tensor y = relu(matmul(w, w));
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Autograd, NoGradGuard) {
  Tensor x = Tensor::ones({2}).requires_grad_();
  {
    NoGrad ng;
    EXPECT_FALSE(grad_enabled());
    Tensor y = mul(x, 2.0);
    EXPECT_FALSE(y.requires_grad());
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_TRUE(mul(x, 2.0).requires_grad());
}

TEST(Autograd, GradientsAccumulateUntilZeroed) {
  Tensor x = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  sum(mul(x, 3.0)).backward();
  sum(mul(x, 3.0)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 6}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 1}));
}

TEST(Autograd, DetachStopsGradient) {
  Tensor x = Tensor::from_vector({2, 3}, {2}).requires_grad_();
  Tensor y = add(mul(x, x.detach()), x);  // d/dx = x_detached + 1
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3, 4}));
  EXPECT_TRUE(x.detach().shares_storage(x));
}

TEST(Autograd, SharedSubexpressionUsedTwice) {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  Tensor s = exp(x);
  Tensor y = sum(add(mul(s, 2.0), mul(s, s)));  // d/dx = 2e^x + 2e^{2x}
  y.backward();
  auto g = x.grad().to_vector<double>();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(g[size_t(i)], 2 * std::exp(i + 1.0) + 2 * std::exp(2 * (i + 1.0)), 1e-3);
}

TEST(Autograd, BackwardTwiceNeedsRetainGraph) {
  Tensor x = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  Tensor y = sum(exp(x));
  y.backward();
  EXPECT_ERROR_CONTAINS(y.backward(), "second time");

  Tensor z = sum(exp(x));
  x.zero_grad();
  z.backward(Tensor(), /*retain_graph=*/true);
  z.backward();
  auto g = x.grad().to_vector<double>();
  EXPECT_NEAR(g[0], 2 * std::exp(1.0), 1e-4);
}

TEST(Autograd, BackwardOnNonScalarNeedsGradient) {
  Tensor x = Tensor::ones({2}).requires_grad_();
  Tensor y = mul(x, 2.0);
  EXPECT_ERROR_CONTAINS(y.backward(), "one-element");
  y.backward(Tensor::from_vector({1, 10}, {2}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 20}));
  EXPECT_ERROR_CONTAINS(Tensor::ones({2}).backward(), "does not require grad");
}

TEST(Autograd, GradOfLeavesAndIntermediatesWithoutTouchingGrad) {
  Tensor x = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  Tensor h = mul(x, 3.0);
  Tensor y = sum(mul(h, h));
  TensorList g = grad_of(y, {x, h});
  EXPECT_EQ(g[0].to_vector<float>(), (std::vector<float>{18, 36}));  // 2·9x
  EXPECT_EQ(g[1].to_vector<float>(), (std::vector<float>{6, 12}));   // 2h
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, MixedDtypeGradientsComeBackInInputDtype) {
  Tensor a = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  Tensor b = Tensor::ones({2}, DType::F16);
  Tensor y = sum(mul(a.to(DType::F16), b));
  y.backward();
  EXPECT_EQ(a.grad().dtype(), DType::F32);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{1, 1}));
}

TEST(Autograd, InPlaceWriteIntoTrainableLeafIsRefused) {
  Tensor w = Tensor::ones({2}).requires_grad_();
  EXPECT_ERROR_CONTAINS(w.copy_(Tensor::zeros({2})), "NoGrad");
  NoGrad ng;
  w.copy_(Tensor::zeros({2}));
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{0, 0}));
}

}  // namespace
}  // namespace clipt
