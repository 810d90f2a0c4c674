// CUDA (cuBLASLt) vs CPU (OpenBLAS) GEMMs: transposed operands, batched and broadcast batches, 1-d
// operands, linear with the bias epilogue and with a misaligned bias (separate add), f32/f16/bf16/f64,
// TF32 on request, and the plan cache (repeated shapes reuse it).
#include "tests/gpu/gpu_test_util.h"

#ifdef CLIPT_WITH_CUDA
#include "engine/cuda/cuda_backend.h"
#endif

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::expect_cpu_cuda_match;
using test::gpu::random_cpu;
using test::gpu::Tol;

// f32 GEMMs differ only by summation order; 16-bit results by one rounding of the f32 accumulator.
Tol gemm_tol(DType dt, int64_t k) {
  switch (dt) {
    case DType::F64: return {1e-10, 1e-10};
    case DType::F16: return {4e-3, 2e-3 * std::sqrt(double(k))};
    case DType::BF16: return {3e-2, 1.6e-2 * std::sqrt(double(k))};
    default: return {1e-4, 2e-5 * std::sqrt(double(k))};
  }
}

TEST(CudaGemm, MatmulShapesTransposesAndBatches) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : test::gpu::float_dtypes()) {
    const Tol t = gemm_tol(dt, 13);
    const Tol gt = gemm_tol(dt, 64);
    const Tensor a = random_cpu({7, 13}, dt, 201), b = random_cpu({13, 5}, dt, 202);
    const Tensor a3 = random_cpu({3, 7, 13}, dt, 203), b3 = random_cpu({3, 13, 5}, dt, 204);
    const Tensor at = random_cpu({13, 7}, dt, 205), bt = random_cpu({5, 13}, dt, 206);
    auto mm = [](const TensorList& in) { return matmul(in[0], in[1]); };
    expect_cpu_cuda_match("2d", {a, b}, mm, t, true, gt);
    expect_cpu_cuda_match(
        "a transposed", {at, b}, [](const TensorList& in) { return matmul(in[0].t(), in[1]); }, t, true, gt);
    expect_cpu_cuda_match(
        "b transposed", {a, bt}, [](const TensorList& in) { return matmul(in[0], in[1].t()); }, t, true, gt);
    expect_cpu_cuda_match(
        "both transposed", {at, bt}, [](const TensorList& in) { return matmul(in[0].t(), in[1].t()); }, t, true, gt);
    expect_cpu_cuda_match("batched", {a3, b3}, mm, t, true, gt);
    expect_cpu_cuda_match("batch folded into rows", {a3, b}, mm, t, true, gt);
    expect_cpu_cuda_match("broadcast first operand", {a, b3}, mm, t, true, gt);
    expect_cpu_cuda_match(
        "batched transposed", {a3, b3},
        [](const TensorList& in) { return matmul(in[1].transpose(1, 2), in[0].transpose(1, 2)); }, t, true, gt);
    expect_cpu_cuda_match("vector matrix", {random_cpu({13}, dt, 207), b}, mm, t, true, gt);
    expect_cpu_cuda_match("matrix vector", {a, random_cpu({13}, dt, 208)}, mm, t, true, gt);
    expect_cpu_cuda_match("4d attention-like", {random_cpu({2, 3, 9, 16}, dt, 209), random_cpu({2, 3, 16, 9}, dt, 210)},
                          mm, gemm_tol(dt, 16), true, gemm_tol(dt, 16));
  }
}

TEST(CudaGemm, LinearBiasEpilogueAndMisalignedBias) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : test::gpu::float_dtypes()) {
    const Tol t = gemm_tol(dt, 96);
    const Tensor x = random_cpu({4, 11, 96}, dt, 211), w = random_cpu({40, 96}, dt, 212), b = random_cpu({40}, dt, 213);
    expect_cpu_cuda_match(
        "linear bias", {x, w, b}, [](const TensorList& in) { return linear(in[0], in[1], in[2]); }, t, true,
        gemm_tol(dt, 64));
    expect_cpu_cuda_match(
        "linear no bias", {x, w}, [](const TensorList& in) { return linear(in[0], in[1]); }, t, true, gemm_tol(dt, 64));
    // A bias starting one element into its buffer is not 16-byte aligned: the epilogue is skipped.
    const Tensor big_b = random_cpu({41}, dt, 214);
    expect_cpu_cuda_match(
        "linear misaligned bias", {x, w, big_b},
        [](const TensorList& in) { return linear(in[0], in[1], in[2].narrow(0, 1, 40)); }, t, true, gemm_tol(dt, 64));
  }
}

TEST(CudaGemm, LargerF32MatchesOpenBlasAndCountsCalls) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor a = random_cpu({300, 700}, DType::F32, 215), b = random_cpu({700, 257}, DType::F32, 216);
  const int64_t before = cuda_backend().gemm_calls;
  for (int rep = 0; rep < 3; ++rep)  // repeated shapes go through the cached plan
    expect_cpu_cuda_match(
        "300x700x257", {a, b}, [](const TensorList& in) { return matmul(in[0], in[1]); }, gemm_tol(DType::F32, 700),
        false);
  EXPECT_EQ(cuda_backend().gemm_calls - before, 3);
}

#ifdef CLIPT_WITH_CUDA
TEST(CudaGemm, Tf32IsOptIn) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const bool was = cuda::allow_tf32();
  const Tensor a = random_cpu({128, 512}, DType::F32, 217), b = random_cpu({512, 64}, DType::F32, 218);
  const Tensor ref = matmul(a, b);
  cuda::set_allow_tf32(true);
  const Tensor tf32 = matmul(a.to(cuda0()), b.to(cuda0()));
  cuda::set_allow_tf32(false);
  const Tensor exact = matmul(a.to(cuda0()), b.to(cuda0()));
  cuda::set_allow_tf32(was);
  // TF32 keeps 10 mantissa bits: close, but looser than f32.
  EXPECT_TRUE(test::all_close(tf32, ref, 1e-2, 5e-2));
  EXPECT_TRUE(test::all_close(exact, ref, 1e-4, 1e-3));
}
#endif

}  // namespace
}  // namespace clipt
