// CUDA vs CPU: Philox random streams (uniform and bernoulli bit-identical, normal to the last ulp of the
// device's logf/cosf) and the fused SGD / AdamW updates (PyTorch's update order, f32 master weights with
// f32 or 16-bit gradients).
#include "tests/gpu/gpu_test_util.h"

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::random_cpu;

TEST(CudaRandom, UniformAndBernoulliAreBitIdenticalToCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (int64_t n : {1, 3, 4, 5, 1001, 1 << 16}) {
      Generator gc(1234), gg(1234);
      (void)gc.next_u32();  // start at a non-zero offset
      (void)gg.next_u32();
      const Tensor c = rand({n}, gc, dt);
      const Tensor g = rand({n}, gg, dt, cuda0());
      EXPECT_TRUE(test::bit_equal(g, c)) << dtype_name(dt) << " n=" << n;
      EXPECT_EQ(gc.offset(), gg.offset());
    }
  }
  Tensor uc = Tensor::empty({7, 9}), ug = Tensor::empty({7, 9}, DType::F32, cuda0());
  Generator a(9), b(9);
  uniform_(uc, -3.0, 5.0, a);
  uniform_(ug, -3.0, 5.0, b);
  EXPECT_TRUE(test::bit_equal(ug, uc));
  // Bernoulli straight from the backend (as dropout uses it), into f32 and u8.
  for (DType dt : {DType::F32, DType::U8}) {
    Tensor bc = Tensor::empty({999}, dt), bg = Tensor::empty({999}, dt, cuda0());
    cpu_backend().random(RandomKind::Bernoulli, bc, 77, 5, 0.3, 0);
    cuda_backend().random(RandomKind::Bernoulli, bg, 77, 5, 0.3, 0);
    EXPECT_TRUE(test::bit_equal(bg, bc)) << dtype_name(dt);
  }
}

TEST(CudaRandom, NormalMatchesCpuToRounding) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (int64_t n : {1, 2, 3, 1001, 1 << 16}) {
    Generator gc(55), gg(55);
    const Tensor c = randn({n}, gc);
    const Tensor g = randn({n}, gg, DType::F32, cuda0());
    EXPECT_TRUE(test::all_close(g, c, 1e-5, 1e-5)) << "n=" << n;
    EXPECT_EQ(gc.offset(), gg.offset());
  }
  Tensor c = Tensor::empty({301}, DType::F64), g = Tensor::empty({301}, DType::F64, cuda0());
  Generator a(3), b(3);
  normal_(c, 0.5, 2.0, a);
  normal_(g, 0.5, 2.0, b);
  EXPECT_TRUE(test::all_close(g, c, 1e-5, 1e-5));
}

TEST(CudaOptim, SgdUpdateMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType gdt : {DType::F32, DType::F16, DType::BF16}) {
    for (const SgdArgs& args :
         {SgdArgs{0.1f, 0.9f, 0.0f, 5e-4f, false, true}, SgdArgs{0.05f, 0.9f, 0.1f, 0.0f, true, false},
          SgdArgs{0.02f, 0.0f, 0.0f, 1e-2f, false, false}}) {
      Tensor pc = random_cpu({1003}, DType::F32, 301), mc = random_cpu({1003}, DType::F32, 302);
      Tensor pg = pc.to(cuda0()), mg = mc.to(cuda0());
      for (int step = 0; step < 3; ++step) {
        const Tensor grad = random_cpu({1003}, gdt, 303 + uint64_t(step));
        SgdArgs s = args;
        s.first_step = args.first_step && step == 0;
        cpu_backend().sgd_update(pc, grad, mc, s);
        Tensor gg = grad.to(cuda0());
        cuda_backend().sgd_update(pg, gg, mg, s);
      }
      EXPECT_TRUE(test::all_close(pg, pc, 1e-6, 1e-7)) << dtype_name(gdt);
      EXPECT_TRUE(test::all_close(mg, mc, 1e-6, 1e-7)) << dtype_name(gdt);
    }
  }
}

TEST(CudaOptim, AdamWUpdateMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType gdt : {DType::F32, DType::F16, DType::BF16}) {
    Tensor pc = random_cpu({4097}, DType::F32, 311);
    Tensor mc = Tensor::zeros({4097}), vc = Tensor::zeros({4097});
    Tensor pg = pc.to(cuda0()), mg = mc.to(cuda0()), vg = vc.to(cuda0());
    for (int64_t step = 1; step <= 5; ++step) {
      const Tensor grad = random_cpu({4097}, gdt, 320 + uint64_t(step), -0.1, 0.1);
      const AdamWArgs a{2e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step};
      cpu_backend().adamw_update(pc, grad, mc, vc, a);
      Tensor gg = grad.to(cuda0());
      cuda_backend().adamw_update(pg, gg, mg, vg, a);
    }
    EXPECT_TRUE(test::all_close(pg, pc, 1e-6, 1e-7)) << dtype_name(gdt);
    EXPECT_TRUE(test::all_close(mg, mc, 1e-6, 1e-9)) << dtype_name(gdt);
    EXPECT_TRUE(test::all_close(vg, vc, 1e-6, 1e-12)) << dtype_name(gdt);
  }
}

}  // namespace
}  // namespace clipt
