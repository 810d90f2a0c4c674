#include "engine/ops/ops.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

TEST(Tensor, FactoriesAndViews) {
  Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_TRUE(a.is_contiguous());
  Tensor t = a.t();
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.contiguous().to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(a.narrow(1, 1, 2).contiguous().to_vector<float>(), (std::vector<float>{2, 3, 5, 6}));
  EXPECT_EQ(slice(a, 1, 0, 3, 2).contiguous().to_vector<float>(), (std::vector<float>{1, 3, 4, 6}));
  Tensor e = Tensor::from_vector({1, 2}, {2, 1}).expand({2, 3});
  EXPECT_EQ(e.contiguous().to_vector<float>(), (std::vector<float>{1, 1, 1, 2, 2, 2}));
  EXPECT_TRUE(a.reshape({3, 2}).shares_storage(a));
  EXPECT_EQ(a.to(DType::F16).to(DType::F32).to_vector<float>(), a.to_vector<float>());
  EXPECT_NE(a.str().find("f32[2, 3]"), std::string::npos);
}

TEST(Tensor, BroadcastArithmetic) {
  Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector({10, 20, 30}, {3});
  EXPECT_EQ((a + b).to_vector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ((a * 2.0).to_vector<float>(), (std::vector<float>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(sum(a, {1}).to_vector<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(sum(a, {0}, true).shape(), (Shape{1, 3}));
  EXPECT_ERROR_CONTAINS(add(a, Tensor::ones({4})), "cannot be broadcast");
}

TEST(Tensor, MatmulMatchesHandComputed) {
  Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector({1, 0, 0, 1, 1, 1}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_vector<float>(), (std::vector<float>{4, 5, 10, 11}));
  EXPECT_EQ(matmul(b.t(), a.t()).to_vector<float>(), (std::vector<float>{4, 10, 5, 11}));
}

TEST(Autograd, SimpleChain) {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  Tensor y = sum(mul(x, x));
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 4, 6}));
}

}  // namespace
}  // namespace clipt
