// CUDA vs CPU: the fused attention kernel (head dim 64, fp16/bf16 with f32 accumulation, and f32) forward
// and backward, causal and not, with and without a shared prefix, across the 64-row tile boundary.
#include "tests/gpu/gpu_test_util.h"

namespace clipt {
namespace {

using test::gpu::expect_cpu_cuda_match;
using test::gpu::random_cpu;
using test::gpu::Tol;

TEST(CudaAttention, FusedMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  struct Case {
    int64_t batch, len, heads, groups, prefix;
    bool causal;
  };
  for (DType dt : {DType::F16, DType::BF16, DType::F32}) {
    const Tol t = dt == DType::F32 ? Tol{1e-4, 1e-5} : (dt == DType::F16 ? Tol{1e-2, 1e-2} : Tol{5e-2, 5e-2});
    for (const Case& c : {Case{2, 77, 4, 0, 0, true}, Case{3, 130, 2, 0, 0, false}, Case{6, 7, 4, 1, 17, true},
                          Case{6, 9, 2, 3, 70, true}, Case{4, 5, 2, 2, 3, false}}) {
      const Tensor qkv = random_cpu({c.batch, c.len, 3 * c.heads * 64}, dt, 71, -1, 1);
      TensorList in{qkv};
      if (c.groups > 0) in.push_back(random_cpu({c.groups, c.prefix, 3 * c.heads * 64}, dt, 72, -1, 1));
      const bool causal = c.causal;
      const int64_t heads = c.heads;
      expect_cpu_cuda_match(
          fmt::format("{} B{} L{} G{} P{} causal {}", dtype_name(dt), c.batch, c.len, c.groups, c.prefix, c.causal), in,
          [causal, heads](const TensorList& x) {
            return fused_attention(x[0], heads, causal, std::nullopt, x.size() > 1 ? x[1] : Tensor());
          },
          t, true, Tol{t.rtol * 4, t.atol * 4});
    }
  }
}

}  // namespace
}  // namespace clipt
