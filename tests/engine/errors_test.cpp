// Bad input raises clipt::Error naming the op and the offending values.
#include "engine/ops/ops.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

TEST(Errors, ShapeMismatches) {
  Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({4, 5});
  EXPECT_ERROR_CONTAINS(matmul(a, b), "matmul: inner dimensions differ: [2, 3] · [4, 5]");
  EXPECT_ERROR_CONTAINS(add(a, b), "add: shapes [2, 3] and [4, 5]");
  EXPECT_ERROR_CONTAINS(linear(a, b), "linear");
  EXPECT_ERROR_CONTAINS(cat({a, b}, 0), "cat: tensor 1 has shape [4, 5]");
  EXPECT_ERROR_CONTAINS(a.reshape({7}), "reshape");
  EXPECT_ERROR_CONTAINS(a.narrow(1, 2, 2), "narrow: range [2, 4) out of bounds");
  EXPECT_ERROR_CONTAINS(a.transpose(0, 2), "dim 2 out of range");
  EXPECT_ERROR_CONTAINS(layer_norm(a, Tensor::ones({4}), Tensor()), "layer_norm");
  EXPECT_ERROR_CONTAINS(cross_entropy(a, Tensor::zeros({3}, DType::I64)), "cross_entropy: labels");
  EXPECT_ERROR_CONTAINS(a.t().view({6}), "view");
}

TEST(Errors, DtypeMismatches) {
  Tensor ids = Tensor::zeros({2}, DType::I64);
  EXPECT_ERROR_CONTAINS(exp(ids), "exp: expected a floating tensor, got i64[2]");
  EXPECT_ERROR_CONTAINS(cross_entropy(Tensor::ones({2, 3}), Tensor::ones({2})), "labels must be integers");
  EXPECT_ERROR_CONTAINS(index_select(Tensor::ones({3}), 0, Tensor::ones({1})), "index must be i64 or i32");
  EXPECT_ERROR_CONTAINS(Tensor::ones({2}).data<double>(), "tensor is f32, requested f64");
  EXPECT_ERROR_CONTAINS(parse_dtype("float8"), "unknown dtype 'float8'");
}

TEST(Errors, DeviceMismatchesAndUnavailableDevices) {
  EXPECT_ERROR_CONTAINS(parse_device("tpu"), "unknown device 'tpu'");
  if (!cuda_available()) { EXPECT_ERROR_CONTAINS(Tensor::ones({2}).to(Device::cuda(0)), ""); }
}

TEST(Errors, OutOfRangeIndices) {
  Tensor w = Tensor::ones({4, 2});
  EXPECT_ERROR_CONTAINS(embedding(w, Tensor::from_vector(std::vector<int64_t>{1, 4}, {2})),
                        "index_select: index 4 at position 1 is out of range [0, 4)");
  EXPECT_ERROR_CONTAINS(gather(w, 1, Tensor::from_vector(std::vector<int64_t>{0, 2, 1, 1, 0, 0, 1, 1}, {4, 2})),
                        "gather: index 2");
  EXPECT_ERROR_CONTAINS(cross_entropy(Tensor::ones({2, 3}), Tensor::from_vector(std::vector<int64_t>{0, 3}, {2})),
                        "label 3 at row 1 is out of range for 3 classes");
  EXPECT_ERROR_CONTAINS(w.select(0, 4), "select: index 4 out of range");
  EXPECT_ERROR_CONTAINS(topk(w, 3, 1), "topk: k = 3 out of range");
}

TEST(Errors, UndefinedTensor) {
  Tensor u;
  EXPECT_ERROR_CONTAINS(u.shape(), "undefined tensor");
  EXPECT_ERROR_CONTAINS(add(u, Tensor::ones({1})), "undefined");
}

}  // namespace
}  // namespace clipt
