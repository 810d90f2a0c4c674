// CUDA vs CPU for the residual block's fused ops: residual_layer_norm (kernels/layernorm.cu's residual
// variant forward, the layer-norm backward kernels plus the residual gradient; vectorised and scalar rows)
// and bias_quick_gelu (kernels/bias_act.cu forward and backward, with the bias gradient), in every float
// dtype; and a fused ResidualAttentionBlock on CUDA against the same block composed on the CPU.
#include <map>

#include "engine/nn/transformer.h"
#include "tests/gpu/gpu_test_util.h"

namespace clipt {
namespace {

using test::gpu::cuda0;
using test::gpu::expect_cpu_cuda_match;
using test::gpu::float_dtypes;
using test::gpu::grad_tol_for;
using test::gpu::random_cpu;
using test::gpu::tol_for;

TEST(CudaFusedBlock, ResidualLayerNormForwardBackward) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : float_dtypes()) {
    // 512 (CLIP's text width, 128-bit loads), 77 (scalar path), 768.
    for (int64_t c : {512, 77, 768}) {
      const Tensor x = random_cpu({3, 5, c}, dt, 71), r = random_cpu({3, 5, c}, dt, 72);
      const Tensor w = random_cpu({c}, dt, 73, 0.5, 1.5), b = random_cpu({c}, dt, 74);
      expect_cpu_cuda_match(
          fmt::format("residual_layer_norm y C {}", c), {x, r, w, b},
          [](const TensorList& in) { return residual_layer_norm(in[0], in[1], in[2], in[3]).second; }, tol_for(dt),
          true, grad_tol_for(dt));
      // Both outputs carry gradient (the residual stream and the normalised branch).
      expect_cpu_cuda_match(
          fmt::format("residual_layer_norm h+y C {}", c), {x, r, w, b},
          [](const TensorList& in) {
            auto [h, y] = residual_layer_norm(in[0], in[1], in[2], in[3]);
            return add(h, mul(y, 0.5));
          },
          tol_for(dt), true, grad_tol_for(dt));
    }
  }
}

TEST(CudaFusedBlock, BiasQuickGeluForwardBackward) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dt : float_dtypes()) {
    for (int64_t c : {2048, 99}) {  // vectorised and scalar
      const Tensor x = random_cpu({7, c}, dt, 81, -4, 4), bias = random_cpu({c}, dt, 82);
      expect_cpu_cuda_match(
          fmt::format("bias_quick_gelu C {}", c), {x, bias},
          [](const TensorList& in) { return bias_quick_gelu(in[0], in[1]); }, tol_for(dt), true, grad_tol_for(dt));
    }
  }
}

TEST(CudaFusedBlock, FusedBlockOnCudaMatchesComposedBlockOnCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Generator gen(3);
  nn::ResidualAttentionBlock cpu_block(128, 2, 512, nn::Activation::QuickGelu, gen);
  nn::ResidualAttentionBlock gpu_block(128, 2, 512, nn::Activation::QuickGelu, gen);
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : cpu_block.state_dict()) state[name] = t;
  gpu_block.load_state_dict(state);
  gpu_block.to(cuda0());
  cpu_block.set_fused(false);
  const Tensor x = random_cpu({2, 9, 128}, DType::F32, 91);
  Tensor xc = x.clone().requires_grad_(), xg = x.to(cuda0()).requires_grad_();
  Tensor yc = cpu_block.forward(xc, true), yg = gpu_block.forward(xg, true);
  EXPECT_ALL_CLOSE(yg.to(Device::cpu()), yc, 1e-4, 1e-5);
  sum(mul(yc, yc)).backward();
  sum(mul(yg, yg)).backward();
  EXPECT_ALL_CLOSE(xg.grad().to(Device::cpu()), xc.grad(), 1e-4, 1e-4);
}

}  // namespace
}  // namespace clipt
