// The CUDA runtime layer: transfers both ways for every dtype, pinned host buffers, streams, the memory
// pool, device selection errors and out-of-memory reporting. The first tests need no device (they check
// host-side pieces of a CUDA build: error messages, stride coalescing, the no-device path).
#include <cstring>

#include "engine/runtime/pinned_host.h"
#include "tests/gpu/gpu_test_util.h"

#ifdef CLIPT_WITH_CUDA
#include "engine/cuda/strided_layout.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/memory.h"
#endif

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::random_cpu;

TEST(CudaRuntimeHost, PinnedEmptyIsAUsableHostTensorInEveryBuild) {
  // Without a device (or without CUDA) pinned buffers fall back to ordinary host memory.
  Tensor t = pinned_empty({3, 4}, DType::F32);
  EXPECT_TRUE(t.device().is_cpu());
  t.fill_(2.5);
  EXPECT_EQ(t.to_vector<float>(), std::vector<float>(12, 2.5f));
  if (!cuda_available()) {
    EXPECT_FALSE(is_pinned_host(t.data_ptr()));
    EXPECT_ERROR_CONTAINS(Tensor::zeros({2}, DType::F32, cuda0()), "");
  }
}

TEST(CudaRuntimeHost, NoDeviceGivesOneClearError) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(cuda_device_count(), 0);
  EXPECT_ERROR_CONTAINS(cuda_backend(), "--device cpu");
  EXPECT_ERROR_CONTAINS(Tensor::ones({3}).to(cuda0()), "");
}

#ifdef CLIPT_WITH_CUDA
TEST(CudaRuntimeHost, CudaCheckNamesFileLineCallAndError) {
  // No device needed: the message is built from the status code alone.
  try {
    CLIPT_CUDA_CHECK(cudaErrorInvalidValue);
    ADD_FAILURE() << "CLIPT_CUDA_CHECK did not throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("tests/gpu/cuda_runtime_test.cpp:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cudaErrorInvalidValue"), std::string::npos) << msg;
    EXPECT_NE(msg.find("invalid argument"), std::string::npos) << msg;
  }
  EXPECT_ERROR_CONTAINS(CLIPT_CUBLAS_CHECK(7 /* CUBLAS_STATUS_INVALID_VALUE */), "CUBLAS_STATUS_INVALID_VALUE");
}

TEST(CudaRuntimeHost, StrideCoalescing) {
  // Contiguous: one dim.
  const Shape s{2, 3, 4}, cs = contiguous_strides(s);
  auto l = cuda::coalesce(s, {&cs});
  EXPECT_EQ(l.sizes, (Shape{24}));
  EXPECT_TRUE(l.contiguous(0));
  // Transposed [4, 3] view of a [3, 4] tensor: two dims, not mergeable.
  const Shape ts{4, 3}, tst{1, 4};
  l = cuda::coalesce(ts, {&tst});
  EXPECT_EQ(l.sizes, (Shape{4, 3}));
  EXPECT_EQ(l.strides[0], (Shape{1, 4}));
  // Broadcast [5, 1, 7] → [5, 6, 7] against a contiguous output; size-1 dims vanish.
  const Shape bs{5, 6, 7}, bst{7, 0, 1}, out = contiguous_strides(bs);
  l = cuda::coalesce(bs, {&bst, &out});
  EXPECT_EQ(l.sizes, (Shape{5, 6, 7}));
  const Shape ones{1, 1, 5, 1}, ost{9, 9, 2, 9};
  l = cuda::coalesce(ones, {&ost});
  EXPECT_EQ(l.sizes, (Shape{5}));
  EXPECT_EQ(l.strides[0], (Shape{2}));
  EXPECT_FALSE(l.contiguous(0));
  // A scalar is one element.
  l = cuda::coalesce(Shape{}, {&cs});
  EXPECT_EQ(l.sizes, (Shape{1}));
  // Nine dims that cannot merge exceed the kernels' limit with a clear error.
  Shape nine(9, 2), rev(9);
  for (int i = 0; i < 9; ++i) rev[size_t(i)] = int64_t(1) << i;  // fully reversed strides
  l = cuda::coalesce(nine, {&rev});
  EXPECT_EQ(l.sizes.size(), 9u);
  EXPECT_ERROR_CONTAINS((void)cuda::to_strided<1>(l, "copy"), "at most 8 dims");
  const auto g = cuda::to_strided<1>(cuda::coalesce(ts, {&tst}), "copy");
  EXPECT_EQ(g.ndim, 2);
  EXPECT_TRUE(g.index32);
}
#endif

TEST(CudaRuntime, RoundTripEveryDtype) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64, DType::U8, DType::Bool}) {
    const Tensor x = random_cpu({3, 5, 7}, DType::F32, 401, 0, 100).to(dt);
    const Tensor g = x.to(cuda0());
    EXPECT_EQ(g.device(), cuda0());
    EXPECT_TRUE(test::bit_equal(g.to(Device::cpu()), x)) << dtype_name(dt);
    // Non-contiguous source on either side.
    EXPECT_TRUE(test::bit_equal(x.transpose(0, 2).to(cuda0()), x.transpose(0, 2).contiguous())) << dtype_name(dt);
    EXPECT_TRUE(test::bit_equal(g.transpose(0, 2).to(Device::cpu()), x.transpose(0, 2).contiguous()));
    // copy_ across devices into a strided destination.
    Tensor dst = Tensor::zeros({7, 5, 3}, dt, cuda0());
    Tensor view = dst.transpose(0, 2);
    view.copy_(x);
    EXPECT_TRUE(test::bit_equal(dst, x.transpose(0, 2).contiguous())) << dtype_name(dt);
  }
  const Tensor empty = Tensor::empty({0, 4}, DType::F32, cuda0());
  EXPECT_EQ(empty.to(Device::cpu()).numel(), 0);
  EXPECT_DOUBLE_EQ(Tensor::scalar(3.5, DType::F32, cuda0()).item(), 3.5);
}

TEST(CudaRuntime, AutogradThroughDeviceTransfers) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor x = random_cpu({4, 3}, DType::F32, 402).requires_grad_();
  Tensor y = mul(x.to(cuda0()), 3.0).to(Device::cpu());
  sum(y).backward();
  EXPECT_EQ(x.grad().device(), Device::cpu());
  EXPECT_EQ(x.grad().to_vector<float>(), std::vector<float>(12, 3.0f));
}

#ifdef CLIPT_WITH_CUDA
TEST(CudaRuntime, PinnedHostTransfersAreAsyncButOrdered) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor pinned = pinned_empty({1 << 20}, DType::F32);
  EXPECT_TRUE(is_pinned_host(pinned.data_ptr()));
  const Tensor src = random_cpu({1 << 20}, DType::F32, 403);
  std::memcpy(pinned.data_ptr(), src.data_ptr(), src.nbytes());
  const Tensor g = pinned.to(cuda0());  // asynchronous H→D
  cuda::synchronize(0);                 // before the pinned buffer may be reused
  std::memset(pinned.data_ptr(), 0, pinned.nbytes());
  EXPECT_TRUE(test::bit_equal(g, src));
  // D→H into pinned memory completes before returning.
  Tensor back = pinned_empty({1 << 20}, DType::F32);
  back.copy_(g);
  EXPECT_EQ(std::memcmp(back.data_ptr(), src.data_ptr(), src.nbytes()), 0);
}

TEST(CudaRuntime, StreamGuardRunsOpsOnAnotherStream) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  {
    cuda::StreamGuard guard(0, s);
    EXPECT_EQ(cuda::current_stream(0), s);
    const Tensor a = random_cpu({64, 32}, DType::F32, 404);
    const Tensor r = matmul(exp(a.to(cuda0())), a.t().to(cuda0()));
    EXPECT_TRUE(test::all_close(r, matmul(exp(a), a.t()), 1e-4, 1e-4));
  }  // tensors allocated on s are freed on s before it is destroyed
  EXPECT_NE(cuda::current_stream(0), s);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  ASSERT_EQ(cudaStreamDestroy(s), cudaSuccess);
}

TEST(CudaRuntime, DeviceSelectionAndOutOfMemoryErrors) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const int n = cuda_device_count();
  EXPECT_ERROR_CONTAINS(Tensor::zeros({2}, DType::F32, Device::cuda(n)), "does not exist");
  EXPECT_ERROR_CONTAINS(Tensor::empty({int64_t(1) << 44}, DType::U8, cuda0()), "out of memory on cuda:0");
  // The device is still usable afterwards.
  EXPECT_DOUBLE_EQ(sum(Tensor::ones({1000}, DType::F32, cuda0())).item(), 1000.0);
  const cuda::PoolStats st = cuda::pool_stats(0);
  EXPECT_GE(st.reserved_current, st.used_current);
}

TEST(CudaRuntime, CopyBetweenTwoDevices) {
  if (cuda_device_count() < 2) GTEST_SKIP() << "needs two CUDA devices";
  const Tensor x = random_cpu({33, 17}, DType::F16, 405);
  const Tensor a = x.to(Device::cuda(0));
  const Tensor b = a.to(Device::cuda(1));
  EXPECT_EQ(b.device(), Device::cuda(1));
  EXPECT_TRUE(test::bit_equal(b, x));
  EXPECT_TRUE(test::all_close(sum(b), sum(x), 1e-3, 1e-2));
}
#endif

}  // namespace
}  // namespace clipt
