// Helpers for the CUDA-vs-CPU tests: the CPU backend is the reference. An op is run on CPU inputs and on
// bit-identical CUDA copies; outputs must agree within a per-dtype tolerance, and so must the gradients of
// every floating input (backpropagated from the same random weighting of the output).
#pragma once
#include <functional>
#include <string>

#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "tests/common/test_util.h"

namespace clipt::test::gpu {

inline Device cuda0() { return Device::cuda(0); }

struct Tol {
  double rtol, atol;
};

// One or two units in the last place of the dtype, for results that both backends round from f32 (or f64).
inline Tol tol_for(DType t) {
  switch (t) {
    case DType::F64: return {1e-10, 1e-12};
    case DType::F16: return {4e-3, 4e-3};
    case DType::BF16: return {3e-2, 3e-2};
    default: return {2e-5, 2e-5};
  }
}

// A looser tolerance for gradients, which pass through several rounded ops.
inline Tol grad_tol_for(DType t) {
  const Tol b = tol_for(t);
  return t == DType::F64 ? b : Tol{b.rtol * 4, b.atol * 4};
}

// Uniform values in [lo, hi) on the CPU, converted to `dtype` (deterministic in `seed`).
inline Tensor random_cpu(const Shape& shape, DType dtype, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape, DType::F32);
  uniform_(t, lo, hi, gen);
  return dtype == DType::F32 ? t : t.to(dtype);
}

using OpFn = std::function<Tensor(const TensorList&)>;

// Runs `f` on `cpu_inputs` and on their CUDA copies and compares outputs and input gradients.
inline void expect_cpu_cuda_match(const std::string& what, const TensorList& cpu_inputs, const OpFn& f, Tol tol,
                                  bool check_grads = true, std::optional<Tol> grad_tol = std::nullopt) {
  SCOPED_TRACE(what);
  TensorList ci, gi;
  for (const Tensor& x : cpu_inputs) {
    Tensor c = x.detach().clone();
    Tensor g = x.detach().to(cuda0());
    if (check_grads && is_floating(x.dtype())) {
      c.requires_grad_();
      g.requires_grad_();
    }
    ci.push_back(c);
    gi.push_back(g);
  }
  const Tensor yc = f(ci);
  const Tensor yg = f(gi);
  ASSERT_EQ(yg.device(), cuda0());
  ASSERT_EQ(yg.dtype(), yc.dtype());
  ASSERT_EQ(yg.shape(), yc.shape());
  EXPECT_TRUE(all_close(yg, yc, tol.rtol, tol.atol)) << what << ": forward";
  if (!check_grads || !yc.requires_grad()) return;
  const Tensor w = random_cpu(yc.shape(), DType::F32, 4242, -1.0, 1.0);
  sum(mul(yc.to(DType::F32), w)).backward();
  sum(mul(yg.to(DType::F32), w.to(cuda0()))).backward();
  const Tol gt = grad_tol.value_or(grad_tol_for(cpu_inputs.empty() ? DType::F32 : cpu_inputs[0].dtype()));
  for (size_t i = 0; i < ci.size(); ++i) {
    if (!ci[i].requires_grad()) continue;
    const Tensor gc = ci[i].grad(), gg = gi[i].grad();
    ASSERT_EQ(gc.defined(), gg.defined()) << what << ": gradient of input " << i;
    if (!gc.defined()) continue;
    EXPECT_EQ(gg.device(), cuda0());
    EXPECT_TRUE(all_close(gg, gc, gt.rtol, gt.atol)) << what << ": gradient of input " << i;
  }
}

inline const std::vector<DType>& float_dtypes() {
  static const std::vector<DType> v{DType::F32, DType::F16, DType::BF16, DType::F64};
  return v;
}

}  // namespace clipt::test::gpu
