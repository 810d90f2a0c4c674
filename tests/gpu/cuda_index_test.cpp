// CUDA vs CPU: index_select / embedding (and their index_add backward with repeated indices), gather /
// scatter_add / one_hot, and the deferred out-of-range error.
#include "tests/gpu/gpu_test_util.h"

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::expect_cpu_cuda_match;
using test::gpu::random_cpu;
using test::gpu::tol_for;

Tensor ids(std::vector<int64_t> v, const Shape& shape) { return Tensor::from_vector(v, shape); }

TEST(CudaIndex, IndexSelectAndBackwardWithRepeats) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor idx = ids({4, 0, 4, 2, 4, 1, 0}, {7});
  for (DType dt : test::gpu::float_dtypes()) {
    // Rows of 64 elements move in 16-byte units; rows of 3 element by element.
    for (const Shape& s : {Shape{5, 64}, Shape{5, 3}, Shape{2, 5, 7}}) {
      const Tensor x = random_cpu(s, dt, 101);
      const int64_t dim = s.size() == 3 ? 1 : 0;
      expect_cpu_cuda_match(
          "index_select " + shape_str(s), {x, idx},
          [dim](const TensorList& in) { return index_select(in[0], dim, in[1]); }, {0, 0}, true, tol_for(dt));
    }
  }
  const Tensor x = random_cpu({3, 5}, DType::F32, 102);
  expect_cpu_cuda_match("index_select i32 index", {x, idx.to(DType::I32)},
                        [](const TensorList& in) { return index_select(in[0], 1, in[1]); }, {0, 0});
}

TEST(CudaIndex, EmbeddingWithManyRepeatedTokens) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  // Padding-like repeats: the backward adds many rows into the same embedding row, in index order.
  std::vector<int64_t> tokens(3 * 77);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = i % 5 == 0 ? int64_t(i % 50) : 0;
  const Tensor t = ids(tokens, {3, 77});
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    const Tensor w = random_cpu({50, 40}, dt, 103);
    expect_cpu_cuda_match(
        "embedding", {w, t}, [](const TensorList& in) { return embedding(in[0], in[1]); }, {0, 0}, true,
        dt == DType::F32 ? test::gpu::Tol{1e-5, 1e-5} : tol_for(dt));
  }
}

TEST(CudaIndex, GatherScatterAddOneHot) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor x = random_cpu({4, 6, 5}, DType::F32, 104);
  const Tensor g1 = ids({0, 5, 5, 1, 2, 3, 4, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0, 0}, {4, 1, 5});
  expect_cpu_cuda_match("gather dim 1", {x, g1}, [](const TensorList& in) { return gather(in[0], 1, in[1]); }, {0, 0});
  const Tensor g2 = ids({4, 4, 0, 1, 2, 3, 4, 0}, {1, 2, 4});
  expect_cpu_cuda_match("gather dim 2", {x, g2}, [](const TensorList& in) { return gather(in[0], 2, in[1]); }, {0, 0});
  for (DType dt : {DType::F32, DType::F16, DType::I64}) {
    const Tensor base = random_cpu({3, 4}, DType::F32, 105, -3, 3).to(dt);
    const Tensor src = random_cpu({3, 6}, DType::F32, 106, -3, 3).to(dt);
    const Tensor where_to = ids({0, 1, 1, 1, 3, 0, 2, 2, 2, 2, 2, 2, 3, 0, 1, 3, 0, 1}, {3, 6});
    expect_cpu_cuda_match(
        "scatter_add", {base, where_to, src}, [](const TensorList& in) { return scatter_add(in[0], 1, in[1], in[2]); },
        tol_for(dt), false);
  }
  const Tensor labels = ids({3, 0, 2, 2, 1}, {5});
  expect_cpu_cuda_match(
      "one_hot", {labels}, [](const TensorList& in) { return one_hot(in[0], 4); }, {0, 0}, false);
}

TEST(CudaIndex, OutOfRangeIndexRaisesAtNextSynchronisation) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor x = random_cpu({5, 3}, DType::F32, 107).to(cuda0());
  const Tensor bad = Tensor::from_vector(std::vector<int64_t>{1, 7, 2}, {3}, cuda0());
  EXPECT_ERROR_CONTAINS(index_select(x, 0, bad).to_vector<float>(),
                        "index_select: index 7 at position 1 is out of range [0, 5)");
  const Tensor bad_gather = Tensor::from_vector(std::vector<int64_t>{0, 1, 3, 0, 0, 0}, {2, 3}, cuda0());
  EXPECT_ERROR_CONTAINS(gather(x.narrow(0, 0, 2), 1, bad_gather).to_vector<float>(), "gather: index 3");
  EXPECT_ERROR_CONTAINS(
      {
        (void)index_select(x, 0, Tensor::from_vector(std::vector<int64_t>{-1}, {1}, cuda0()));
        cuda_backend().synchronize();
      },
      "index -1 at position 0 is out of range");
  // After the error the device and its error record are usable again.
  EXPECT_EQ(index_select(x, 0, Tensor::from_vector(std::vector<int64_t>{4}, {1}, cuda0())).to_vector<float>(),
            x.narrow(0, 4, 1).to_vector<float>());
}

}  // namespace
}  // namespace clipt
