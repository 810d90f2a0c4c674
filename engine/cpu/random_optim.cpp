// Philox random fills and the fused optimizer updates (PyTorch's exact update order).
#include <cmath>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "kernels/philox.h"

namespace clipt::cpu {

void CpuBackend::random(RandomKind kind, Tensor& out, uint64_t seed, uint64_t offset, double a, double b) {
  const int64_t n = out.numel();
  dispatch(out.dtype(), [&]<typename T>() {
    T* o = static_cast<T*>(out.data_ptr());
    parallel_range(n, 4, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        double v = 0;
        switch (kind) {
          case RandomKind::Uniform:
            v = a + (b - a) * double(philox::to_unit_float(philox::word(seed, offset, uint64_t(i))));
            break;
          case RandomKind::Bernoulli:
            v = philox::to_unit_float(philox::word(seed, offset, uint64_t(i))) < float(a) ? 1.0 : 0.0;
            break;
          case RandomKind::Normal: {
            // Box–Muller on words 2i and 2i+1; u1 in (0, 1] avoids log(0).
            const float u1 = 1.0f - philox::to_unit_float(philox::word(seed, offset, 2 * uint64_t(i)));
            const float u2 = philox::to_unit_float(philox::word(seed, offset, 2 * uint64_t(i) + 1));
            v = a + b * double(std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853071795864f * u2));
            break;
          }
        }
        store(o + i, compute_t<T>(v));
      }
    });
  });
}

void CpuBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& buf, const SgdArgs& s) {
  float* p = param.data<float>();
  float* m = s.momentum != 0 ? buf.data<float>() : nullptr;
  const int64_t n = param.numel();
  dispatch_floating(grad.dtype(), "sgd_update", [&]<typename G>() {
    const G* g = static_cast<const G*>(grad.data_ptr());
    parallel_range(n, 4, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        float d = float(g[i]);
        if (s.weight_decay != 0) d += s.weight_decay * p[i];
        if (m) {
          m[i] = s.first_step ? d : s.momentum * m[i] + (1.0f - s.dampening) * d;
          d = s.nesterov ? d + s.momentum * m[i] : m[i];
        }
        p[i] -= s.lr * d;
      }
    });
  });
}

void CpuBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                              const AdamWArgs& s) {
  float* p = param.data<float>();
  float* m = exp_avg.data<float>();
  float* v = exp_avg_sq.data<float>();
  const int64_t n = param.numel();
  const float bc1 = 1.0f - std::pow(s.beta1, float(s.step));
  const float bc2_sqrt = std::sqrt(1.0f - std::pow(s.beta2, float(s.step)));
  const float step_size = s.lr / bc1;
  dispatch_floating(grad.dtype(), "adamw_update", [&]<typename G>() {
    const G* g = static_cast<const G*>(grad.data_ptr());
    parallel_range(n, 4, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const float gi = float(g[i]);
        p[i] *= 1.0f - s.lr * s.weight_decay;
        m[i] += (1.0f - s.beta1) * (gi - m[i]);  // PyTorch: exp_avg.lerp_(grad, 1 - beta1)
        v[i] = v[i] * s.beta2 + (1.0f - s.beta2) * gi * gi;
        const float denom = std::sqrt(v[i]) / bc2_sqrt + s.eps;
        p[i] -= step_size * (m[i] / denom);
      }
    });
  });
}

}  // namespace clipt::cpu
