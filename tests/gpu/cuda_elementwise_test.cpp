// CUDA vs CPU: element-wise ops (unary, binary with broadcasting, comparisons, where), copies and casts
// between every dtype pair, fills and view/copy ops — forward and backward, on odd and strided shapes.
#include "tests/common/elementwise_cases.h"
#include "tests/gpu/gpu_test_util.h"

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::expect_cpu_cuda_match;
using test::gpu::float_dtypes;
using test::gpu::random_cpu;
using test::gpu::tol_for;

// Every case of the op list (tests/common/elementwise_cases.h), every float dtype, contiguous and strided
// (a narrowed view of the first operand), forward and backward; integer inputs too for the
// cases defined on them.
Tensor case_input(const test::ElementwiseCase& c, DType dt, int operand) {
  const Shape shape = operand == 0 ? Shape{3, 5, 7} : Shape{1, 5, 1};  // the second operand broadcasts
  return c.domain == test::InputDomain::Positive ? random_cpu(shape, dt, 11 + operand, 0.5, 2.5)
                                                 : random_cpu(shape, dt, 11 + operand);
}

TEST(CudaElementwise, EveryOpListCaseAllDtypesContiguousAndStrided) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const auto& c : test::elementwise_cases()) {
    for (DType dt : float_dtypes()) {
      TensorList in;
      for (int i = 0; i < c.arity; ++i) in.push_back(case_input(c, dt, i));
      const auto fn = c.fn;
      const test::gpu::Tol tol = c.differentiable ? tol_for(dt) : test::gpu::Tol{0, 0};
      const std::string what = c.name + " " + std::string(dtype_name(dt));
      expect_cpu_cuda_match(what, in, fn, tol, c.differentiable);
      expect_cpu_cuda_match(
          what + " strided", in,
          [fn](const TensorList& x) {
            TensorList v = x;
            v[0] = x[0].narrow(2, 1, 5);  // strided, and misaligned for 128-bit loads
            return fn(v);
          },
          tol, c.differentiable);
    }
    if (!c.integer_inputs) continue;
    for (DType dt : {DType::I64, DType::I32}) {
      TensorList in;
      for (int i = 0; i < c.arity; ++i)
        in.push_back(random_cpu(i == 0 ? Shape{3, 4} : Shape{4}, DType::F32, 50 + i, -9, 9).to(dt));
      expect_cpu_cuda_match(c.name + " " + std::string(dtype_name(dt)), in, c.fn, {0, 0}, false);
    }
  }
}

TEST(CudaElementwise, LargeContiguousUnaryUsesVectorPathAndTail) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  // 2^20 + 3 elements: vectorised body plus a scalar tail; an offset view is misaligned for 128-bit loads.
  for (DType dt : {DType::F32, DType::F16}) {
    const Tensor x = random_cpu({(1 << 20) + 3}, dt, 5);
    expect_cpu_cuda_match(
        "quick_gelu large", {x}, [](const TensorList& in) { return quick_gelu(in[0]); }, tol_for(dt));
    expect_cpu_cuda_match(
        "exp misaligned", {x}, [](const TensorList& in) { return exp(in[0].narrow(0, 1, (1 << 20) + 1)); },
        tol_for(dt));
  }
}

TEST(CudaElementwise, MixedDtypePromotion) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  // f16 + f32 promotes to f32; the f16 input's gradient comes back in f16.
  expect_cpu_cuda_match(
      "mixed f16 f32", {random_cpu({4, 9}, DType::F16, 7), random_cpu({9}, DType::F32, 8)},
      [](const TensorList& in) { return add(in[0], in[1]); }, tol_for(DType::F32), true, test::gpu::Tol{4e-3, 4e-3});
}

TEST(CudaElementwise, ComparisonsWhereAndMaskedFill) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : float_dtypes()) {
    const Tensor a = random_cpu({4, 1, 9}, dt, 21), b = random_cpu({3, 1}, dt, 22);
    const Tensor ab = random_cpu({4, 3, 9}, dt, 23);
    for (auto fn : std::vector<std::function<Tensor(const Tensor&, const Tensor&)>>{
             [](const Tensor&x, const Tensor&y) { return eq(x, y); },
             [](const Tensor&x, const Tensor&y) { return ne(x, y); },
             [](const Tensor&x, const Tensor&y) { return lt(x, y); },
             [](const Tensor&x, const Tensor&y) { return le(x, y); },
             [](const Tensor&x, const Tensor&y) { return gt(x, y); },
             [](const Tensor&x, const Tensor&y) { return ge(x, y); }}) {
      expect_cpu_cuda_match(
          "compare", {a, b}, [fn](const TensorList& in) { return fn(in[0], in[1]); }, {0, 0}, false);
    }
    expect_cpu_cuda_match(
        "scalar compares", {ab},
        [](const TensorList& in) {
          return cat({gt(in[0], 0.1), ge(in[0], -0.3), lt(in[0], 0.7), le(in[0], 0.0), eq(in[0], 0.0),
                      logical_not(gt(in[0], 0.2))},
                     0);
        },
        {0, 0}, false);
    expect_cpu_cuda_match(
        "where", {a, b, ab}, [](const TensorList& in) { return where(gt(in[2], 0.0), in[0], in[1]); }, tol_for(dt));
    expect_cpu_cuda_match(
        "masked_fill", {ab}, [](const TensorList& in) { return masked_fill(in[0], lt(in[0], -1.0), -1e4); },
        tol_for(dt));
  }
}

TEST(CudaElementwise, IntegerArithmeticAndComparisons) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<int64_t> v{-7, 0, 3, 12, 5, -1, 9, 2, 100, -50, 4, 8};
  for (DType dt : {DType::I64, DType::I32}) {
    const Tensor a = Tensor::from_vector(v, {3, 4}).to(dt);
    const Tensor b = Tensor::from_vector(std::vector<int64_t>{1, 2, 3, 4}, {4}).to(dt);
    expect_cpu_cuda_match(
        "int ops", {a, b},
        [](const TensorList& in) {
          return cat({add(in[0], in[1]), sub(in[0], in[1]), mul(in[0], in[1]), maximum(in[0], in[1]),
                      minimum(in[0].t().contiguous().t(), in[1]), add(in[0], 3.0), mul(in[0], 2.0), rsub(1.0, in[0]),
                      clamp(in[0], -2, 10)},
                     0);
        },
        {0, 0}, false);
    expect_cpu_cuda_match(
        "int compares", {a, b},
        [](const TensorList& in) {
          return cat({eq(in[0], in[1]), lt(in[0], in[1]), ge(in[0], 0.0), eq(in[0], 3.0)}, 0);
        },
        {0, 0}, false);
  }
  const Tensor mask = Tensor::from_vector(std::vector<uint8_t>{1, 0, 1, 1, 0, 0}, {2, 3}).to(DType::Bool);
  expect_cpu_cuda_match(
      "bool not", {mask}, [](const TensorList& in) { return logical_not(in[0]); }, {0, 0}, false);
}

TEST(CudaElementwise, CopyAndCastBetweenEveryDtypePair) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const std::vector<DType> all{DType::F32, DType::F64, DType::F16, DType::BF16,
                               DType::I32, DType::I64, DType::U8,  DType::Bool};
  // Non-negative values below 100 (u8-safe), with fractions so float→int truncation is exercised.
  const Tensor base = random_cpu({6, 5, 3}, DType::F32, 31, 0.0, 99.0);
  for (DType from : all) {
    const Tensor x = base.to(from);
    for (DType to : all) {
      const std::string what = std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to));
      expect_cpu_cuda_match(
          what + " contiguous", {x}, [to](const TensorList& in) { return in[0].to(to); }, {0, 0}, false);
      expect_cpu_cuda_match(
          what + " strided", {x},
          [to](const TensorList& in) {
            return in[0].permute({2, 0, 1}).narrow(1, 1, 4).to(to);
          },
          {0, 0}, false);
      // Writing into a strided destination of another dtype (a cast through a temporary).
      expect_cpu_cuda_match(
          what + " into strided", {x},
          [to](const TensorList& in) {
            Tensor dst = Tensor::zeros({5, 6, 3}, to, in[0].device());
            Tensor window = dst.transpose(0, 1);
            window.copy_(in[0]);
            return dst;
          },
          {0, 0}, false);
    }
  }
}

TEST(CudaElementwise, FillEveryDtype) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64, DType::U8, DType::Bool}) {
    for (double v : {0.0, 1.0, 3.7, 255.0}) {
      // 37 elements: unaligned head/tail around the 128-bit body; a narrowed view starts misaligned.
      const Tensor g = Tensor::full({37}, v, dt, cuda0());
      const Tensor c = Tensor::full({37}, v, dt);
      EXPECT_TRUE(test::bit_equal(g, c)) << dtype_name(dt) << " " << v;
      Tensor big = Tensor::zeros({41}, dt, cuda0());
      Tensor inner = big.narrow(0, 1, 37);
      inner.fill_(v);
      Tensor ref = Tensor::zeros({41}, dt);
      ref.narrow(0, 1, 37).fill_(v);
      EXPECT_TRUE(test::bit_equal(big, ref)) << dtype_name(dt) << " " << v << " offset";
    }
  }
}

TEST(CudaElementwise, ViewAndCopyOpsForwardAndBackward) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : {DType::F32, DType::F16}) {
    const Tensor a = random_cpu({3, 4, 5}, dt, 41), b = random_cpu({3, 2, 5}, dt, 42);
    expect_cpu_cuda_match(
        "cat", {a, b},
        [](const TensorList& in) {
          return cat({in[0], in[1], in[0]}, 1);
        },
        tol_for(dt));
    expect_cpu_cuda_match(
        "stack", {a, a},
        [](const TensorList& in) {
          return stack({in[0], in[1] * 2.0}, 2);
        },
        tol_for(dt));
    expect_cpu_cuda_match(
        "split", {a},
        [](const TensorList& in) {
          auto parts = split(in[0], 2, 1);
          return cat({parts[1], parts[0]}, 1);
        },
        tol_for(dt));
    expect_cpu_cuda_match(
        "slice step", {a}, [](const TensorList& in) { return slice(in[0], 2, 0, 5, 2) * 3.0; }, tol_for(dt));
    expect_cpu_cuda_match(
        "permute contiguous", {a},
        [](const TensorList& in) {
          return in[0].permute({2, 0, 1}).contiguous();
        },
        tol_for(dt));
    expect_cpu_cuda_match(
        "expand", {b},
        [](const TensorList& in) {
          return in[0].narrow(1, 0, 1).expand({3, 7, 5}).contiguous();
        },
        tol_for(dt));
    expect_cpu_cuda_match(
        "repeat", {b},
        [](const TensorList& in) {
          return repeat(in[0], {2, 1, 3});
        },
        tol_for(dt));
    expect_cpu_cuda_match(
        "reshape of transpose", {a},
        [](const TensorList& in) {
          return in[0].transpose(1, 2).reshape({3, 20});
        },
        tol_for(dt));
  }
}

}  // namespace
}  // namespace clipt
