// CUDA vs CPU: element-wise ops (unary, binary with broadcasting, comparisons, where), copies and casts
// between every dtype pair, fills and view/copy ops — forward and backward, on odd and strided shapes.
#include "tests/gpu/gpu_test_util.h"

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::expect_cpu_cuda_match;
using test::gpu::float_dtypes;
using test::gpu::random_cpu;
using test::gpu::tol_for;

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
  bool positive;  // needs inputs away from 0 and > 0
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, false},
      {"exp", [](const Tensor& x) { return exp(x); }, false},
      {"log", [](const Tensor& x) { return log(x); }, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, true},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, true},
      {"abs", [](const Tensor& x) { return abs(x); }, false},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, false},
      {"tanh", [](const Tensor& x) { return tanh(x); }, false},
      {"relu", [](const Tensor& x) { return relu(x); }, false},
      {"square", [](const Tensor& x) { return square(x); }, false},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, true},
      {"sin", [](const Tensor& x) { return sin(x); }, false},
      {"cos", [](const Tensor& x) { return cos(x); }, false},
      {"sign", [](const Tensor& x) { return sign(x); }, false},
      {"gelu", [](const Tensor& x) { return gelu(x); }, false},
      {"gelu_tanh", [](const Tensor& x) { return gelu_tanh(x); }, false},
      {"quick_gelu", [](const Tensor& x) { return quick_gelu(x); }, false},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.75); }, false},
      {"pow3", [](const Tensor& x) { return pow(x, 3.0); }, false},
      {"pow_half", [](const Tensor& x) { return pow(x, 0.5); }, true},
      {"add_scalar", [](const Tensor& x) { return add(x, 1.25); }, false},
      {"mul_scalar", [](const Tensor& x) { return mul(x, -3.0); }, false},
      {"rsub", [](const Tensor& x) { return rsub(2.0, x); }, false},
      {"rdiv", [](const Tensor& x) { return rdiv(3.0, x); }, true},
  };
}

TEST(CudaElementwise, UnaryOpsAllFloatDtypesContiguousAndStrided) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : float_dtypes()) {
    for (const auto& c : unary_cases()) {
      const Tensor x = c.positive ? random_cpu({3, 5, 7}, dt, 11, 0.25, 3.0) : random_cpu({3, 5, 7}, dt, 11);
      const auto fn = c.fn;
      expect_cpu_cuda_match(
          std::string(c.name) + " " + std::string(dtype_name(dt)), {x},
          [fn](const TensorList& in) { return fn(in[0]); }, tol_for(dt));
      // A transposed, narrowed view exercises the strided kernel path.
      expect_cpu_cuda_match(
          std::string(c.name) + " strided " + std::string(dtype_name(dt)), {x},
          [fn](const TensorList& in) { return fn(in[0].transpose(0, 2).narrow(1, 1, 3)); }, tol_for(dt));
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

TEST(CudaElementwise, BinaryOpsWithBroadcastAndPromotion) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  using Bin = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::vector<std::pair<const char*, Bin>> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, add(abs(b), 0.5)); }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(add(abs(a), 0.5), b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
  };
  for (DType dt : float_dtypes()) {
    const Tensor a = random_cpu({5, 1, 7}, dt, 1), b = random_cpu({1, 6, 1}, dt, 2);
    const Tensor full = random_cpu({5, 6, 7}, dt, 3);
    for (const auto& [name, fn] : ops) {
      expect_cpu_cuda_match(
          std::string(name) + " broadcast " + std::string(dtype_name(dt)), {a, b},
          [fn](const TensorList& in) { return fn(in[0], in[1]); }, tol_for(dt));
      expect_cpu_cuda_match(
          std::string(name) + " transposed " + std::string(dtype_name(dt)), {full, a},
          [fn](const TensorList& in) { return fn(in[0].transpose(0, 2), in[1].transpose(0, 2)); }, tol_for(dt));
      expect_cpu_cuda_match(
          std::string(name) + " contiguous " + std::string(dtype_name(dt)), {full, full * 0.5},
          [fn](const TensorList& in) { return fn(in[0], in[1]); }, tol_for(dt));
    }
  }
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
