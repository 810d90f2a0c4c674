// Philox random fills and the fused optimizer updates on CUDA.
#include <cmath>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"
#include "kernels/optimizer.h"
#include "kernels/random.h"

namespace clipt::cuda {

static_assert(int(RandomKind::Uniform) == int(kernels::RandomDist::Uniform) &&
              int(RandomKind::Normal) == int(kernels::RandomDist::Normal) &&
              int(RandomKind::Bernoulli) == int(kernels::RandomDist::Bernoulli));

void CudaBackend::random(RandomKind kind, Tensor& out, uint64_t seed, uint64_t offset, double a, double b) {
  LaunchContext lc(out);
  require_contiguous(out, "random", "output");
  if (out.numel() == 0) return;
  CLIPT_LAUNCH(lc, kernels::random_fill(static_cast<kernels::RandomDist>(kind), kd(out.dtype()), out.data_ptr(),
                                        out.numel(), seed, offset, a, b, lc.stream));
}

namespace {
void check_master(const Tensor& t, const Tensor& param, const LaunchContext& lc, const char* op, const char* name) {
  require_cuda(t, lc, op, name);
  require_contiguous(t, op, name);
  CLIPT_CHECK(t.dtype() == DType::F32 && t.numel() == param.numel(), "{}: {} must be f32 like the parameter {}, got {}",
              op, name, describe(param), describe(t));
}
}  // namespace

void CudaBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& buf, const SgdArgs& s) {
  LaunchContext lc(param);
  check_master(param, param, lc, "sgd_update", "parameter");
  require_cuda(grad, lc, "sgd_update", "gradient");
  require_contiguous(grad, "sgd_update", "gradient");
  CLIPT_CHECK(is_floating(grad.dtype()) && grad.numel() == param.numel(), "sgd_update: gradient {} for parameter {}",
              describe(grad), describe(param));
  float* m = nullptr;
  if (s.momentum != 0) {
    check_master(buf, param, lc, "sgd_update", "momentum buffer");
    m = static_cast<float*>(buf.data_ptr());
  }
  const kernels::SgdParams p{s.lr, s.momentum, 1.0f - s.dampening, s.weight_decay, s.nesterov, s.first_step};
  CLIPT_LAUNCH(lc, kernels::sgd_update(static_cast<float*>(param.data_ptr()), kd(grad.dtype()), grad.data_ptr(), m,
                                       param.numel(), p, lc.stream));
}

void CudaBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                               const AdamWArgs& s) {
  LaunchContext lc(param);
  check_master(param, param, lc, "adamw_update", "parameter");
  check_master(exp_avg, param, lc, "adamw_update", "exp_avg");
  check_master(exp_avg_sq, param, lc, "adamw_update", "exp_avg_sq");
  require_cuda(grad, lc, "adamw_update", "gradient");
  require_contiguous(grad, "adamw_update", "gradient");
  CLIPT_CHECK(is_floating(grad.dtype()) && grad.numel() == param.numel(), "adamw_update: gradient {} for parameter {}",
              describe(grad), describe(param));
  // Host-side constants computed exactly as the CPU backend computes them (f32, same expressions).
  const float bc1 = 1.0f - std::pow(s.beta1, float(s.step));
  const float bc2_sqrt = std::sqrt(1.0f - std::pow(s.beta2, float(s.step)));
  kernels::AdamWParams p;
  p.lr = s.lr;
  p.one_minus_beta1 = 1.0f - s.beta1;
  p.beta2 = s.beta2;
  p.one_minus_beta2 = 1.0f - s.beta2;
  p.eps = s.eps;
  p.decay = 1.0f - s.lr * s.weight_decay;
  p.step_size = s.lr / bc1;
  p.bc2_sqrt = bc2_sqrt;
  CLIPT_LAUNCH(lc, kernels::adamw_update(static_cast<float*>(param.data_ptr()), kd(grad.dtype()), grad.data_ptr(),
                                         static_cast<float*>(exp_avg.data_ptr()),
                                         static_cast<float*>(exp_avg_sq.data_ptr()), param.numel(), p, lc.stream));
}

}  // namespace clipt::cuda
