// Element-wise ops with broadcasting. Mixed dtypes are promoted (the cast is itself differentiable, so
// gradients come back in each input's dtype); backward sums gradients down to each input's shape.
#include <cmath>

#include "engine/ops/ops.h"

namespace clipt {

namespace {

struct Broadcast {
  Tensor a, b;
  Shape shape;
};

Broadcast broadcast_pair(const char* op, const Tensor& a, const Tensor& b, bool promote = true) {
  CLIPT_CHECK(a.defined() && b.defined(), "{}: undefined input", op);
  check_same_device(op, a, b);
  Broadcast r;
  r.shape = broadcast_shapes(a.shape(), b.shape(), op);
  const DType t = promote ? promote_types(a.dtype(), b.dtype()) : a.dtype();
  r.a = to_dtype(a, t);
  r.b = to_dtype(b, promote ? t : b.dtype());
  return r;
}

Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b, const Shape& shape, DType out_dtype) {
  Tensor out = Tensor::empty(shape, out_dtype, a.device());
  if (out.numel() == 0) return out;
  NoGrad ng;  // the expands below are plumbing, not part of the graph
  backend_for(a.device()).binary(op, expand(a, shape), expand(b, shape), out);
  return out;
}

Tensor unary_raw(UnaryOp op, const Tensor& x, double p0 = 0, double p1 = 0, std::optional<DType> dtype = {}) {
  Tensor out = Tensor::empty(x.shape(), dtype.value_or(x.dtype()), x.device());
  if (out.numel() > 0) backend_for(x.device()).unary(op, x, out, p0, p1);
  return out;
}

void check_floating(const char* op, const Tensor& x) {
  CLIPT_CHECK(is_floating(x.dtype()), "{}: expected a floating tensor, got {}", op, describe(x));
}

// Records the backward of a binary op given the gradient w.r.t. each (broadcast) operand.
template <typename GradA, typename GradB>
void record_binary(const char* name, const Tensor& a, const Tensor& b, Tensor& y, GradA ga, GradB gb) {
  const Shape sa = a.shape(), sb = b.shape();
  record(name, {a, b}, {&y}, [sa, sb, ga, gb](const TensorList& g, const Node& n) -> TensorList {
    TensorList r(2);
    if (n.needs_input_grad(0)) r[0] = sum_to(ga(g[0]), sa);
    if (n.needs_input_grad(1)) r[1] = sum_to(gb(g[0]), sb);
    return r;
  });
}

}  // namespace

Tensor add(const Tensor& a0, const Tensor& b0) {
  auto [a, b, shape] = broadcast_pair("add", a0, b0);
  Tensor y = binary_raw(BinaryOp::Add, a, b, shape, a.dtype());
  record_binary(
      "add", a, b, y, [](const Tensor& g) { return g; }, [](const Tensor& g) { return g; });
  return y;
}

Tensor sub(const Tensor& a0, const Tensor& b0) {
  auto [a, b, shape] = broadcast_pair("sub", a0, b0);
  Tensor y = binary_raw(BinaryOp::Sub, a, b, shape, a.dtype());
  record_binary(
      "sub", a, b, y, [](const Tensor& g) { return g; }, [](const Tensor& g) { return neg(g); });
  return y;
}

Tensor mul(const Tensor& a0, const Tensor& b0) {
  auto [a, b, shape] = broadcast_pair("mul", a0, b0);
  Tensor y = binary_raw(BinaryOp::Mul, a, b, shape, a.dtype());
  if (any_requires_grad({&a, &b})) {
    Tensor sa = a.requires_grad() ? b.detach() : Tensor(), sb = b.requires_grad() ? a.detach() : Tensor();
    record_binary(
        "mul", a, b, y, [sa](const Tensor& g) { return mul(g, sa); }, [sb](const Tensor& g) { return mul(g, sb); });
  }
  return y;
}

Tensor div(const Tensor& a0, const Tensor& b0) {
  auto [a, b, shape] = broadcast_pair("div", a0, b0);
  Tensor y = binary_raw(BinaryOp::Div, a, b, shape, a.dtype());
  if (any_requires_grad({&a, &b})) {
    Tensor bd = b.detach(), yd = y.detach();
    record_binary(
        "div", a, b, y, [bd](const Tensor& g) { return div(g, bd); },
        [bd, yd](const Tensor& g) { return neg(div(mul(g, yd), bd)); });
  }
  return y;
}

Tensor pow(const Tensor& a0, const Tensor& b0) {
  auto [a, b, shape] = broadcast_pair("pow", a0, b0);
  Tensor y = binary_raw(BinaryOp::Pow, a, b, shape, a.dtype());
  if (any_requires_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach(), yd = y.detach();
    // d/da a^b = b·a^(b−1); d/db a^b = a^b·log a.
    record_binary(
        "pow", a, b, y, [ad, bd](const Tensor& g) { return mul(g, mul(bd, pow(ad, sub(bd, 1.0)))); },
        [ad, yd](const Tensor& g) { return mul(g, mul(yd, log(ad))); });
  }
  return y;
}

static Tensor min_max(const char* name, BinaryOp op, const Tensor& a0, const Tensor& b0) {
  auto [a, b, shape] = broadcast_pair(name, a0, b0);
  Tensor y = binary_raw(op, a, b, shape, a.dtype());
  if (any_requires_grad({&a, &b})) {
    // The gradient goes to the selected operand; ties split it equally (as PyTorch).
    Tensor ad = a.detach(), bd = b.detach(), yd = y.detach();
    auto share = [yd](const Tensor& self, const Tensor& other) {
      Tensor is_self = to_dtype(eq(self, yd), yd.dtype());
      Tensor tie = to_dtype(eq(self, other), yd.dtype());
      return sub(is_self, mul(tie, 0.5));
    };
    record_binary(
        name, a, b, y, [=](const Tensor& g) { return mul(g, share(ad, bd)); },
        [=](const Tensor& g) { return mul(g, share(bd, ad)); });
  }
  return y;
}
Tensor maximum(const Tensor& a, const Tensor& b) { return min_max("maximum", BinaryOp::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return min_max("minimum", BinaryOp::Minimum, a, b); }

// ---- scalar ops ----
static Tensor scalar_op(const char* name, UnaryOp op, const Tensor& x, double s,
                        std::function<Tensor(const Tensor& g, const Tensor& x, const Tensor& y)> grad) {
  CLIPT_CHECK(x.defined(), "{}: undefined input", name);
  Tensor in = is_floating(x.dtype()) || s == std::floor(s) ? x : to_dtype(x, DType::F32);
  Tensor y = unary_raw(op, in, s);
  if (any_requires_grad({&in})) {
    Tensor xd = in.detach(), yd = y.detach();
    record(name, {in}, {&y},
           [grad, xd, yd](const TensorList& g, const Node&) -> TensorList { return {grad(g[0], xd, yd)}; });
  }
  return y;
}

Tensor add(const Tensor& a, double b) {
  return scalar_op("add", UnaryOp::AddScalar, a, b, [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
}
Tensor sub(const Tensor& a, double b) { return add(a, -b); }
Tensor mul(const Tensor& a, double b) {
  return scalar_op("mul", UnaryOp::MulScalar, a, b,
                   [b](const Tensor& g, const Tensor&, const Tensor&) { return mul(g, b); });
}
Tensor div(const Tensor& a, double b) {
  CLIPT_CHECK(is_floating(a.dtype()), "div: expected a floating tensor, got {}", describe(a));
  return mul(a, 1.0 / b);
}
Tensor rsub(double a, const Tensor& b) {
  return scalar_op("rsub", UnaryOp::RSubScalar, b, a,
                   [](const Tensor& g, const Tensor&, const Tensor&) { return neg(g); });
}
Tensor rdiv(double a, const Tensor& b) {
  return scalar_op("rdiv", UnaryOp::RDivScalar, b, a,
                   [](const Tensor& g, const Tensor& x, const Tensor& y) { return neg(div(mul(g, y), x)); });
}
Tensor pow(const Tensor& a, double e) {
  return scalar_op("pow", UnaryOp::PowScalar, a, e,
                   [e](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, mul(pow(x, e - 1.0), e)); });
}

// ---- unary math ----
namespace {
using UnaryGrad = std::function<Tensor(const Tensor& g, const Tensor& x, const Tensor& y)>;

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, UnaryGrad grad) {
  CLIPT_CHECK(x.defined(), "{}: undefined input", name);
  check_floating(name, x);
  Tensor y = unary_raw(op, x);
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach(), yd = y.detach();
    record(name, {x}, {&y},
           [grad, xd, yd](const TensorList& g, const Node&) -> TensorList { return {grad(g[0], xd, yd)}; });
  }
  return y;
}

// Gradient through a fused backward kernel: out = g · f'(input).
Tensor fused_grad(BinaryOp op, const Tensor& g, const Tensor& input) {
  return binary_raw(op, g, input, g.shape(), g.dtype());
}
}  // namespace

Tensor neg(const Tensor& x) {
  return unary_op("neg", UnaryOp::Neg, x, [](const Tensor& g, const Tensor&, const Tensor&) { return neg(g); });
}
Tensor exp(const Tensor& x) {
  return unary_op("exp", UnaryOp::Exp, x, [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, y); });
}
Tensor log(const Tensor& x) {
  return unary_op("log", UnaryOp::Log, x, [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, x); });
}
Tensor sqrt(const Tensor& x) {
  return unary_op("sqrt", UnaryOp::Sqrt, x,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return div(g, mul(y, 2.0)); });
}
Tensor rsqrt(const Tensor& x) {
  // d/dx x^-1/2 = −½ y³
  return unary_op("rsqrt", UnaryOp::Rsqrt, x,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, mul(pow(y, 3.0), -0.5)); });
}
Tensor abs(const Tensor& x) {
  return unary_op("abs", UnaryOp::Abs, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, sign(x)); });
}
Tensor sigmoid(const Tensor& x) {
  return unary_op("sigmoid", UnaryOp::Sigmoid, x, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return fused_grad(BinaryOp::SigmoidBackwardFromOutput, g, y);
  });
}
Tensor tanh(const Tensor& x) {
  return unary_op("tanh", UnaryOp::Tanh, x, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return fused_grad(BinaryOp::TanhBackwardFromOutput, g, y);
  });
}
Tensor relu(const Tensor& x) {
  return unary_op("relu", UnaryOp::Relu, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return fused_grad(BinaryOp::ReluBackward, g, x);
  });
}
Tensor square(const Tensor& x) {
  return unary_op("square", UnaryOp::Square, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, mul(x, 2.0)); });
}
Tensor reciprocal(const Tensor& x) {
  return unary_op("reciprocal", UnaryOp::Reciprocal, x,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return neg(mul(g, square(y))); });
}
Tensor sin(const Tensor& x) {
  return unary_op("sin", UnaryOp::Sin, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, cos(x)); });
}
Tensor cos(const Tensor& x) {
  return unary_op("cos", UnaryOp::Cos, x,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return neg(mul(g, sin(x))); });
}
Tensor sign(const Tensor& x) {
  NoGrad ng;
  return unary_raw(UnaryOp::Sign, x);
}
Tensor gelu(const Tensor& x) {
  return unary_op("gelu", UnaryOp::Gelu, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return fused_grad(BinaryOp::GeluBackward, g, x);
  });
}
Tensor gelu_tanh(const Tensor& x) {
  return unary_op("gelu_tanh", UnaryOp::GeluTanh, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return fused_grad(BinaryOp::GeluTanhBackward, g, x);
  });
}
Tensor quick_gelu(const Tensor& x) {
  return unary_op("quick_gelu", UnaryOp::QuickGelu, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return fused_grad(BinaryOp::QuickGeluBackward, g, x);
  });
}

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  const double l = lo.value_or(-INFINITY), h = hi.value_or(INFINITY);
  CLIPT_CHECK(l <= h, "clamp: min {} greater than max {}", l, h);
  Tensor y = unary_raw(UnaryOp::Clamp, x, l, h);
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach();
    record("clamp", {x}, {&y}, [xd, l, h](const TensorList& g, const Node&) -> TensorList {
      // Gradient passes where the input lies inside [lo, hi] (PyTorch: boundaries included).
      Tensor inside = to_dtype(mul(to_dtype(ge(xd, l), g[0].dtype()), to_dtype(le(xd, h), g[0].dtype())), g[0].dtype());
      return {mul(g[0], inside)};
    });
  }
  return y;
}

// ---- comparisons (Bool results, no gradient) ----
#define CLIPT_COMPARE(fn, op)                                           \
  Tensor fn(const Tensor& a0, const Tensor& b0) {                       \
    auto [a, b, shape] = broadcast_pair(#fn, a0.detach(), b0.detach()); \
    return binary_raw(BinaryOp::op, a, b, shape, DType::Bool);          \
  }
CLIPT_COMPARE(eq, Eq)
CLIPT_COMPARE(ne, Ne)
CLIPT_COMPARE(lt, Lt)
CLIPT_COMPARE(le, Le)
CLIPT_COMPARE(gt, Gt)
CLIPT_COMPARE(ge, Ge)
#undef CLIPT_COMPARE

Tensor gt(const Tensor& a, double b) { return unary_raw(UnaryOp::GtScalar, a, b, 0, DType::Bool); }
Tensor ge(const Tensor& a, double b) { return unary_raw(UnaryOp::GeScalar, a, b, 0, DType::Bool); }
Tensor lt(const Tensor& a, double b) { return unary_raw(UnaryOp::LtScalar, a, b, 0, DType::Bool); }
Tensor le(const Tensor& a, double b) { return unary_raw(UnaryOp::LeScalar, a, b, 0, DType::Bool); }
Tensor eq(const Tensor& a, double b) { return unary_raw(UnaryOp::EqScalar, a, b, 0, DType::Bool); }
Tensor logical_not(const Tensor& x) { return unary_raw(UnaryOp::LogicalNot, x, 0, 0, DType::Bool); }

Tensor where(const Tensor& cond, const Tensor& a0, const Tensor& b0) {
  auto [a, b, shape_ab] = broadcast_pair("where", a0, b0);
  check_same_device("where", cond, a);
  const Shape shape = broadcast_shapes(cond.shape(), shape_ab, "where");
  Tensor c = cond.dtype() == DType::Bool ? cond : ne(cond, Tensor::scalar(0, cond.dtype(), cond.device()));
  Tensor y = Tensor::empty(shape, a.dtype(), a.device());
  if (y.numel() > 0) {
    NoGrad ng;
    backend_for(a.device()).where(expand(c, shape), expand(a, shape), expand(b, shape), y);
  }
  if (any_requires_grad({&a, &b})) {
    Tensor cd = c.detach();
    record_binary(
        "where", a, b, y, [cd](const Tensor& g) { return where(cd, g, Tensor::scalar(0, g.dtype(), g.device())); },
        [cd](const Tensor& g) { return where(cd, Tensor::scalar(0, g.dtype(), g.device()), g); });
  }
  return y;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return where(mask, Tensor::scalar(value, x.dtype(), x.device()), x);
}

}  // namespace clipt
