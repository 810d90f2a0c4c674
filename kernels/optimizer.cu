// Fused SGD (momentum, dampening, Nesterov, weight decay) and AdamW updates on f32 master weights, in
// PyTorch's update order (see kernels/optimizer.h for the formulas). Every operation is an explicitly
// rounded f32 intrinsic (no FMA contraction), so a step matches the CPU backend's loop bit for bit.
#include "kernels/device_common.cuh"
#include "kernels/optimizer.h"

namespace clipt::kernels {

namespace {

template <typename G> __device__ __forceinline__ float grad_value(const G* g, int64_t i) {
  return float(to_compute(g[i]));
}

template <typename G> __global__ void __launch_bounds__(kThreads)
    sgd_kernel(float* p, const G* g, float* m, int64_t n, SgdParams s) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float d = grad_value(g, i);
    if (s.weight_decay != 0.0f) d = __fadd_rn(d, __fmul_rn(s.weight_decay, p[i]));
    if (m != nullptr) {
      const float mi = s.first_step ? d : __fadd_rn(__fmul_rn(s.momentum, m[i]), __fmul_rn(s.one_minus_dampening, d));
      m[i] = mi;
      d = s.nesterov ? __fadd_rn(d, __fmul_rn(s.momentum, mi)) : mi;
    }
    p[i] = __fsub_rn(p[i], __fmul_rn(s.lr, d));
  }
}

template <typename G> __global__ void __launch_bounds__(kThreads)
    adamw_kernel(float* p, const G* g, float* m, float* v, int64_t n, AdamWParams a) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float gi = grad_value(g, i);
    const float pi = __fmul_rn(p[i], a.decay);
    const float mi = __fadd_rn(m[i], __fmul_rn(a.one_minus_beta1, __fsub_rn(gi, m[i])));
    const float vi = __fadd_rn(__fmul_rn(v[i], a.beta2), __fmul_rn(__fmul_rn(a.one_minus_beta2, gi), gi));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), a.bc2_sqrt), a.eps);
    m[i] = mi;
    v[i] = vi;
    p[i] = __fsub_rn(pi, __fmul_rn(a.step_size, __fdiv_rn(mi, denom)));
  }
}

}  // namespace

cudaError_t sgd_update(float* param, KDType grad_dtype, const void* grad, float* momentum_buffer, int64_t n,
                       const SgdParams& p, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool ok = dispatch_float(grad_dtype, [&]<typename G>() {
    sgd_kernel<G><<<grid_for(n), kThreads, 0, stream>>>(param, static_cast<const G*>(grad), momentum_buffer, n, p);
  });
  return launch_status(ok);
}

cudaError_t adamw_update(float* param, KDType grad_dtype, const void* grad, float* exp_avg, float* exp_avg_sq,
                         int64_t n, const AdamWParams& p, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool ok = dispatch_float(grad_dtype, [&]<typename G>() {
    adamw_kernel<G>
        <<<grid_for(n), kThreads, 0, stream>>>(param, static_cast<const G*>(grad), exp_avg, exp_avg_sq, n, p);
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
