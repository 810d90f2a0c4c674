#include "engine/optim/grad_utils.h"

#include <cmath>

#include "engine/ops/ops.h"

namespace clipt::optim {

Grads grads_of(const std::vector<Tensor>& params) {
  NoGrad ng;
  Grads out;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    out.push_back(g.defined() ? g.clone() : zeros_like(p));
  }
  return out;
}

double dot(const Tensor& a, const Tensor& b) {
  NoGrad ng;
  CLIPT_CHECK(a.shape() == b.shape(), "dot: shapes {} and {} differ", shape_str(a.shape()), shape_str(b.shape()));
  const DType t = a.dtype() == DType::F64 ? DType::F64 : DType::F32;
  return sum(mul(a.to(t), b.to(t))).item();
}

double dot(const Grads& a, const Grads& b) {
  CLIPT_CHECK(a.size() == b.size(), "dot: {} and {} tensors", a.size(), b.size());
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += dot(a[i], b[i]);
  return s;
}

double global_norm(const Grads& g) { return std::sqrt(dot(g, g)); }

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGrad ng;
  Grads g;
  for (const Tensor& p : params)
    if (p.grad().defined()) g.push_back(p.grad());
  const double total = global_norm(g);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0)
    for (const Tensor& p : params)
      if (p.grad().defined()) {
        Tensor pg = p.grad();
        pg.copy_(mul(pg, coef));
      }
  return total;
}

}  // namespace clipt::optim
