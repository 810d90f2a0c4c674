#include "tests/common/elementwise_cases.h"

#include "engine/ops/ops.h"

namespace clipt::test {

namespace {

using U = UnaryOp;
using B = BinaryOp;
using In = const TensorList&;

ElementwiseCase unary_case(std::string name, std::vector<U> unary, std::vector<B> binary,
                           std::function<Tensor(const Tensor&)> f, InputDomain domain = InputDomain::Any) {
  ElementwiseCase c;
  c.name = std::move(name);
  c.unary_ops = std::move(unary);
  c.binary_ops = std::move(binary);
  c.domain = domain;
  c.fn = [f](In x) { return f(x[0]); };
  return c;
}

ElementwiseCase binary_case(std::string name, std::vector<B> binary, std::vector<U> unary,
                            std::function<Tensor(const Tensor&, const Tensor&)> f,
                            InputDomain domain = InputDomain::Any) {
  ElementwiseCase c;
  c.name = std::move(name);
  c.unary_ops = std::move(unary);
  c.binary_ops = std::move(binary);
  c.arity = 2;
  c.domain = domain;
  c.fn = [f](In x) { return f(x[0], x[1]); };
  return c;
}

ElementwiseCase not_differentiable(ElementwiseCase c, bool integer_inputs) {
  c.differentiable = false;
  c.integer_inputs = integer_inputs;
  return c;
}

ElementwiseCase with_integers(ElementwiseCase c) {
  c.integer_inputs = true;
  return c;
}

std::vector<ElementwiseCase> make_cases() {
  std::vector<ElementwiseCase> cases = {
      with_integers(unary_case("neg", {U::Neg}, {}, [](const Tensor& x) { return neg(x); })),
      unary_case("exp", {U::Exp}, {B::Mul}, [](const Tensor& x) { return exp(x); }),
      unary_case(
          "log", {U::Log}, {B::Div}, [](const Tensor& x) { return log(x); }, InputDomain::Positive),
      unary_case(
          "sqrt", {U::Sqrt}, {B::Div}, [](const Tensor& x) { return sqrt(x); }, InputDomain::Positive),
      unary_case(
          "rsqrt", {U::Rsqrt, U::PowScalar}, {}, [](const Tensor& x) { return rsqrt(x); }, InputDomain::Positive),
      unary_case(
          "abs", {U::Abs, U::Sign}, {B::Mul}, [](const Tensor& x) { return abs(x); }, InputDomain::Positive),
      unary_case("sigmoid", {U::Sigmoid}, {B::SigmoidBackwardFromOutput}, [](const Tensor& x) { return sigmoid(x); }),
      unary_case("tanh", {U::Tanh}, {B::TanhBackwardFromOutput}, [](const Tensor& x) { return tanh(x); }),
      unary_case("relu", {U::Relu}, {B::ReluBackward}, [](const Tensor& x) { return relu(x); }),
      unary_case("square", {U::Square, U::MulScalar}, {}, [](const Tensor& x) { return square(x); }),
      unary_case(
          "reciprocal", {U::Reciprocal}, {}, [](const Tensor& x) { return reciprocal(x); }, InputDomain::Positive),
      unary_case("sin", {U::Sin, U::Cos}, {}, [](const Tensor& x) { return sin(x); }),
      unary_case("cos", {U::Cos, U::Sin}, {}, [](const Tensor& x) { return cos(x); }),
      not_differentiable(unary_case("sign", {U::Sign}, {}, [](const Tensor& x) { return sign(x); }), true),
      unary_case("gelu", {U::Gelu}, {B::GeluBackward}, [](const Tensor& x) { return gelu(x); }),
      unary_case("gelu_tanh", {U::GeluTanh}, {B::GeluTanhBackward}, [](const Tensor& x) { return gelu_tanh(x); }),
      unary_case("quick_gelu", {U::QuickGelu}, {B::QuickGeluBackward}, [](const Tensor& x) { return quick_gelu(x); }),
      with_integers(unary_case("add_scalar", {U::AddScalar}, {}, [](const Tensor& x) { return add(x, 1.25); })),
      with_integers(unary_case("mul_scalar", {U::MulScalar}, {}, [](const Tensor& x) { return mul(x, -3.0); })),
      with_integers(unary_case("rsub_scalar", {U::RSubScalar}, {}, [](const Tensor& x) { return rsub(2.0, x); })),
      unary_case(
          "rdiv_scalar", {U::RDivScalar}, {B::Div}, [](const Tensor& x) { return rdiv(3.0, x); },
          InputDomain::Positive),
      unary_case(
          "pow_scalar", {U::PowScalar}, {}, [](const Tensor& x) { return pow(x, 2.5); }, InputDomain::Positive),
      unary_case("pow_scalar_square", {U::PowScalar}, {}, [](const Tensor& x) { return pow(x, 2.0); }),
      with_integers(unary_case("clamp", {U::Clamp, U::GeScalar, U::LeScalar}, {},
                               [](const Tensor& x) { return clamp(x, -0.5, 0.75); })),
      not_differentiable(
          unary_case(
              "scalar_compares", {U::GtScalar, U::GeScalar, U::LtScalar, U::LeScalar, U::EqScalar, U::LogicalNot}, {},
              [](const Tensor& x) {
                return cat({gt(x, 0.1), ge(x, -0.3), lt(x, 0.7), le(x, 0.0), eq(x, 0.0), logical_not(gt(x, 0.2))}, 0);
              }),
          true),
      with_integers(binary_case("add", {B::Add}, {}, [](const Tensor& a, const Tensor& b) { return add(a, b); })),
      with_integers(binary_case("sub", {B::Sub}, {U::Neg}, [](const Tensor& a, const Tensor& b) { return sub(a, b); })),
      with_integers(binary_case("mul", {B::Mul}, {}, [](const Tensor& a, const Tensor& b) { return mul(a, b); })),
      binary_case(
          "div", {B::Div}, {U::Neg}, [](const Tensor& a, const Tensor& b) { return div(a, b); }, InputDomain::Positive),
      binary_case(
          "pow", {B::Pow}, {U::Log, U::AddScalar}, [](const Tensor& a, const Tensor& b) { return pow(a, b); },
          InputDomain::Positive),
      with_integers(binary_case("maximum", {B::Maximum, B::Eq}, {},
                                [](const Tensor& a, const Tensor& b) { return maximum(a, b); })),
      with_integers(binary_case("minimum", {B::Minimum, B::Eq}, {},
                                [](const Tensor& a, const Tensor& b) { return minimum(a, b); })),
      not_differentiable(binary_case("compares", {B::Eq, B::Ne, B::Lt, B::Le, B::Gt, B::Ge}, {},
                                     [](const Tensor& a, const Tensor& b) {
                                       return cat({eq(a, b), ne(a, b), lt(a, b), le(a, b), gt(a, b), ge(a, b)}, 0);
                                     }),
                         true),
  };
  return cases;
}

template <typename Op, int Count, typename Member> std::vector<std::string> uncovered(Member member) {
  std::vector<std::string> missing;
  for (int i = 0; i < Count; ++i) {
    const Op op = Op(i);
    bool found = false;
    for (const auto& c : elementwise_cases())
      for (Op listed : c.*member) found = found || listed == op;
    if (!found) missing.push_back(kernels::op_name(op));
  }
  return missing;
}

}  // namespace

const std::vector<ElementwiseCase>& elementwise_cases() {
  static const std::vector<ElementwiseCase> cases = make_cases();
  return cases;
}

std::vector<std::string> uncovered_unary_ops() {
  return uncovered<UnaryOp, kernels::kNumUnaryOps>(&ElementwiseCase::unary_ops);
}
std::vector<std::string> uncovered_binary_ops() {
  return uncovered<BinaryOp, kernels::kNumBinaryOps>(&ElementwiseCase::binary_ops);
}

}  // namespace clipt::test
