// CUDA vs CPU: reductions (sum, mean, sum of squares, max, min over rows, columns and split long lines),
// arg-max/min with ties and NaN, top-k, norm/var and broadcast-gradient sums.
#include <cmath>
#include <limits>

#include "tests/gpu/gpu_test_util.h"

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::expect_cpu_cuda_match;
using test::gpu::random_cpu;
using test::gpu::Tol;

// f32 sums accumulate in f32 on the GPU and in f64 on the CPU: allow the f32 rounding of long sums.
Tol sum_tol(DType dt, int64_t n) {
  if (dt == DType::F64) return {1e-10, 1e-10};
  if (dt == DType::F16) return {4e-3, 4e-3 + 2e-6 * double(n)};
  if (dt == DType::BF16) return {3e-2, 3e-2 + 2e-5 * double(n)};
  return {1e-5, 1e-5 + 2e-7 * std::sqrt(double(n)) * 4};
}

TEST(CudaReduce, SumMeanOverDimsAndShapes) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;
  };
  const std::vector<Case> cases = {
      {{3, 5, 7}, {2}},    {{3, 5, 7}, {1}},   {{3, 5, 7}, {0}},   {{3, 5, 7}, {0, 2}}, {{3, 5, 7}, {}},
      {{257, 129}, {1}},   {{257, 129}, {0}},  {{1, 1}, {0, 1}},   {{2, 300000}, {1}},  {{100003, 3}, {0}},
      {{7, 513, 33}, {1}}, {{40, 20000}, {1}}, {{6304, 768}, {0}}, {{17, 1}, {0}},
  };
  for (DType dt : test::gpu::float_dtypes()) {
    for (const Case& c : cases) {
      int64_t n = 1;
      for (auto d : (c.dims.empty() ? std::vector<int64_t>{0, 1, 2} : c.dims))
        if (d < int64_t(c.shape.size())) n *= c.shape[size_t(d)];
      const Tensor x = random_cpu(c.shape, dt, 3);
      const auto dims = c.dims;
      expect_cpu_cuda_match(
          "sum " + shape_str(c.shape), {x}, [dims](const TensorList& in) { return sum(in[0], dims, false); },
          sum_tol(dt, n));
      expect_cpu_cuda_match(
          "mean " + shape_str(c.shape), {x}, [dims](const TensorList& in) { return mean(in[0], dims, true); },
          sum_tol(dt, 1));
    }
  }
}

TEST(CudaReduce, AllBackendReduceOpsIncludingMaxMinAndNaN) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  struct Geo {
    int64_t outer, n, inner;
  };
  const std::vector<Geo> geos = {{5, 7, 1},  {1, 1, 1},     {3, 100000, 1}, {1, 50000, 5},
                                 {9, 4, 37}, {2, 3000, 40}, {1000, 70, 1}};
  for (DType dt : {DType::F32, DType::F16, DType::F64, DType::I64, DType::I32}) {
    for (const Geo& g : geos) {
      Tensor x = random_cpu({g.outer * g.n * g.inner}, DType::F32, 17, -50, 50).to(dt);
      if (is_floating(dt) && g.outer * g.n * g.inner > 10) {
        // A NaN in one line must propagate through max/min (and sums).
        Tensor nan_at = x.narrow(0, 3, 1);
        nan_at.fill_(std::numeric_limits<double>::quiet_NaN());
      }
      const Tensor xg = x.to(cuda0());
      for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::SumSquares}) {
        Tensor oc = Tensor::empty({g.outer * g.inner}, dt), og = Tensor::empty({g.outer * g.inner}, dt, cuda0());
        cpu_backend().reduce(op, x, g.outer, g.n, g.inner, oc);
        cuda_backend().reduce(op, xg, g.outer, g.n, g.inner, og);
        const bool exact = op == ReduceOp::Max || op == ReduceOp::Min || !is_floating(dt);
        const double scale = op == ReduceOp::SumSquares ? 2500.0 : 50.0;
        const Tol t = exact ? Tol{0, 0} : sum_tol(dt, g.n);
        EXPECT_TRUE(test::all_close(og, oc, t.rtol, t.atol * scale))
            << "op " << int(op) << " " << dtype_name(dt) << " [" << g.outer << ", " << g.n << ", " << g.inner << "]";
      }
    }
  }
}

TEST(CudaReduce, ArgMaxArgMinTiesAndNaN) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x =
      Tensor::from_vector(std::vector<float>{1, 5, 5, 2, -3, -3, 0, 0, 7, nan, 7, nan, 4, 4, 4, 4}, {4, 4});
  for (int64_t dim : {0, 1}) {
    expect_cpu_cuda_match(
        "argmax", {x}, [dim](const TensorList& in) { return argmax(in[0], dim); }, {0, 0}, false);
    expect_cpu_cuda_match(
        "argmin", {x}, [dim](const TensorList& in) { return argmin(in[0], dim, true); }, {0, 0}, false);
  }
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::I64}) {
    const Tensor r = random_cpu({37, 1001}, DType::F32, 9, -20, 20).to(dt);
    expect_cpu_cuda_match(
        "argmax rows", {r}, [](const TensorList& in) { return argmax(in[0], 1); }, {0, 0}, false);
    expect_cpu_cuda_match(
        "argmin columns", {r}, [](const TensorList& in) { return argmin(in[0], 0); }, {0, 0}, false);
  }
  // max/min along a dim route the gradient to the arg element.
  const Tensor y = random_cpu({6, 11, 5}, DType::F32, 10);
  expect_cpu_cuda_match("max dim", {y}, [](const TensorList& in) { return max(in[0], 1); }, {0, 0});
  expect_cpu_cuda_match("min all", {y}, [](const TensorList& in) { return min(in[0]); }, {0, 0});
}

TEST(CudaReduce, TopKWithTiesAndGradient) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor ties = Tensor::from_vector(std::vector<float>{3, 1, 3, 2, 3, 0, 1, 1, 1, 1}, {2, 5});
  expect_cpu_cuda_match(
      "topk ties indices", {ties}, [](const TensorList& in) { return topk(in[0], 4, 1).second; }, {0, 0}, false);
  for (DType dt : {DType::F32, DType::F16, DType::I64}) {
    const Tensor x = random_cpu({37, 1000}, DType::F32, 12, -5, 5).to(dt);
    expect_cpu_cuda_match(
        "topk indices", {x}, [](const TensorList& in) { return topk(in[0], 5, 1).second; }, {0, 0}, false);
    expect_cpu_cuda_match(
        "topk values dim 0", {x}, [](const TensorList& in) { return topk(in[0], 3, 0).first; }, {0, 0},
        is_floating(dt));
  }
  const Tensor one_row = random_cpu({1, 100000}, DType::F32, 13);
  expect_cpu_cuda_match(
      "topk long row", {one_row}, [](const TensorList& in) { return topk(in[0], 7).second; }, {0, 0}, false);
}

TEST(CudaReduce, NormVarAndBroadcastGradients) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : {DType::F32, DType::F64, DType::F16}) {
    const Tensor x = random_cpu({13, 17, 5}, dt, 14);
    const Tol t = sum_tol(dt, 100);
    expect_cpu_cuda_match(
        "norm", {x}, [](const TensorList& in) { return norm(in[0], {1}); }, t);
    expect_cpu_cuda_match(
        "norm all", {x}, [](const TensorList& in) { return norm(in[0]); }, t);
    expect_cpu_cuda_match(
        "var", {x},
        [](const TensorList& in) {
          return var(in[0], {0, 2});
        },
        t);
    expect_cpu_cuda_match(
        "sum_to", {x},
        [](const TensorList& in) {
          return sum_to(in[0], {17, 1});
        },
        t);
    expect_cpu_cuda_match(
        "broadcast add backward", {x, random_cpu({17, 1}, dt, 15)},
        [](const TensorList& in) { return mul(in[0], in[1]); }, test::gpu::tol_for(dt));
  }
}

}  // namespace
}  // namespace clipt
