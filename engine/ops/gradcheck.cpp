#include "engine/ops/gradcheck.h"

#include <cmath>

#include "engine/ops/ops.h"
#include "engine/ops/random.h"

namespace clipt {

GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs0,
                          GradcheckOptions o) {
  // Private contiguous leaf copies that can be perturbed in place.
  TensorList inputs;
  for (size_t i = 0; i < inputs0.size(); ++i) {
    const Tensor& t = inputs0[i];
    if (!t.defined() || !is_floating(t.dtype())) {
      inputs.push_back(t);
      continue;
    }
    CLIPT_CHECK(t.dtype() == DType::F64, "gradcheck: input {} is {}, expected f64", i, describe(t));
    Tensor c = t.detach().clone();
    if (t.requires_grad()) c.requires_grad_(true);
    inputs.push_back(c);
  }
  Generator gen(o.seed);
  Tensor projection;
  auto scalar_of = [&](const Tensor& out) {
    if (!projection.defined()) projection = randn(out.shape(), gen, DType::F64, out.device());
    return sum(mul(out, projection));
  };

  Tensor loss = scalar_of(f(inputs));
  TensorList wrt;
  std::vector<size_t> which;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) {
      wrt.push_back(inputs[i]);
      which.push_back(i);
    }
  CLIPT_CHECK(!wrt.empty(), "gradcheck: no input requires grad");
  TensorList analytic = grad_of(loss, wrt);

  GradcheckResult result;
  double worst = 0;
  for (size_t w = 0; w < wrt.size(); ++w) {
    Tensor x = wrt[w];
    double* data = x.data<double>();
    const std::vector<double> a = analytic[w].to_vector<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double saved = data[j];
      double plus, minus;
      {
        NoGrad ng;
        data[j] = saved + o.eps;
        plus = scalar_of(f(inputs)).item();
        data[j] = saved - o.eps;
        minus = scalar_of(f(inputs)).item();
        data[j] = saved;
      }
      const double numeric = (plus - minus) / (2 * o.eps);
      const double err = std::abs(numeric - a[size_t(j)]);
      const double tol = o.atol + o.rtol * std::abs(numeric);
      if (err > tol && err - tol > worst) {
        worst = err - tol;
        result.ok = false;
        result.message =
            fmt::format("input {} element {}: analytic {:.10g} vs numeric {:.10g}", which[w], j, a[size_t(j)], numeric);
      }
    }
  }
  return result;
}

}  // namespace clipt
