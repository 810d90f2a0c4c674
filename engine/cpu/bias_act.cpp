// Bias + QuickGELU on the CPU (the reference of kernels/bias_act.cu): z = x + bias is formed per element in
// the compute type and rounded to the dtype, as a GEMM's bias epilogue would store it, so the fused op
// equals linear-with-bias followed by quick_gelu bit for bit. The formulas are the element-wise ops' own.
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

namespace {

// Calls f(z, i) for every element i of x [rows, c] with z = x[i] + bias[i % c] rounded to T.
template <typename T, typename F> void for_biased(const Tensor& x, const Tensor& bias, F&& f) {
  const int64_t c = bias.numel(), rows = c == 0 ? 0 : x.numel() / c;
  const T* xp = static_cast<const T*>(x.data_ptr());
  const T* bp = static_cast<const T*>(bias.data_ptr());
  parallel_range(rows, c, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t j = 0; j < c; ++j) {
        T z;
        store(&z, load(xp + r * c + j) + load(bp + j));
        f(load(&z), r * c + j);
      }
  });
}

}  // namespace

void CpuBackend::bias_quick_gelu(const Tensor& x, const Tensor& bias, Tensor& out) {
  dispatch_floating(x.dtype(), "bias_quick_gelu", [&]<typename T>() {
    using C = compute_t<T>;
    T* op = static_cast<T*>(out.data_ptr());
    for_biased<T>(x, bias, [&](C z, int64_t i) {
      store(op + i, kernels::UnaryFormula<UnaryOp::QuickGelu>::apply<C>(z, C(0), C(0)));
    });
  });
}

void CpuBackend::bias_quick_gelu_backward(const Tensor& dy, const Tensor& x, const Tensor& bias, Tensor& dx) {
  dispatch_floating(x.dtype(), "bias_quick_gelu_backward", [&]<typename T>() {
    using C = compute_t<T>;
    const T* gp = static_cast<const T*>(dy.data_ptr());
    T* dp = static_cast<T*>(dx.data_ptr());
    for_biased<T>(x, bias, [&](C z, int64_t i) {
      store(dp + i, kernels::BinaryFormula<BinaryOp::QuickGeluBackward>::apply<C>(load(gp + i), z));
    });
  });
}

}  // namespace clipt::cpu
