// The residual block's fused ops against the ops they replace, on the CPU backend (the reference of the
// CUDA kernels, which tests/gpu compares with it):
//   residual_layer_norm(x, r, w, b) = {x + r, layer_norm(x + r, w, b)}, values bit for bit and gradients of
//     x, r, w, b through both outputs; f64 finite-difference gradchecks; the broadcast fallback;
//   bias_quick_gelu(x, bias) = quick_gelu(x + bias), values bit for bit in f32/f16/bf16 and gradients;
//     gradchecks;
//   the EOT gather (gather along the sequence) = index_select of the flattened rows, values and gradient.
// Plus the tape's in-place accumulation of fan-out gradients: correct sums, and a gradient that a caller
// still holds is never changed under it.
#include "engine/ops/gradcheck.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

Tensor rnd(const Shape& s, uint64_t seed, DType dt = DType::F32, double scale = 1.0) {
  Generator g(seed);
  return mul(randn(s, g, DType::F32), scale).to(dt).requires_grad_();
}

// Gradients of sum(h·wh) + sum(y·wy) for a pair-valued function of (x, r, w, b).
template <typename F> TensorList pair_grads(F f, const TensorList& in, uint64_t seed) {
  auto [h, y] = f(in[0], in[1], in[2], in[3]);
  Generator g(seed);
  Tensor wh = randn(h.shape(), g), wy = randn(y.shape(), g);
  add(sum(mul(h, wh)), sum(mul(y, wy))).backward();
  TensorList out{h.detach(), y.detach()};
  for (const Tensor& t : in) out.push_back(t.grad());
  return out;
}

TensorList fresh(const TensorList& in) {
  TensorList out;
  for (const Tensor& t : in) out.push_back(t.detach().clone().requires_grad_());
  return out;
}

std::pair<Tensor, Tensor> composed_residual_ln(const Tensor& x, const Tensor& r, const Tensor& w, const Tensor& b) {
  Tensor h = add(x, r);
  return {h, layer_norm(h, w, b, 1e-5)};
}

std::pair<Tensor, Tensor> fused_residual_ln(const Tensor& x, const Tensor& r, const Tensor& w, const Tensor& b) {
  return residual_layer_norm(x, r, w, b, 1e-5);
}

TEST(ResidualLayerNorm, EqualsAddThenLayerNorm) {
  for (int64_t c : {7, 64, 256}) {
    SCOPED_TRACE(fmt::format("C {}", c));
    const TensorList in = {rnd({3, 5, c}, 1), rnd({3, 5, c}, 2), rnd({c}, 3, DType::F32, 0.5), rnd({c}, 4)};
    const TensorList fused = pair_grads(fused_residual_ln, fresh(in), 9);
    const TensorList composed = pair_grads(composed_residual_ln, fresh(in), 9);
    EXPECT_EQ(max(abs(sub(fused[0], composed[0]))).item(), 0.0) << "h differs";
    EXPECT_EQ(max(abs(sub(fused[1], composed[1]))).item(), 0.0) << "y differs";
    for (size_t i = 2; i < fused.size(); ++i) EXPECT_ALL_CLOSE(fused[i], composed[i], 1e-5, 1e-6) << "input " << i - 2;
  }
}

TEST(ResidualLayerNorm, OnlyOneOutputUsedAndNoAffine) {
  // h unused (its gradient is the tape's zeros) and no weight/bias; then y unused.
  Tensor x = rnd({4, 6}, 11), r = rnd({4, 6}, 12);
  Tensor x2 = x.detach().clone().requires_grad_(), r2 = r.detach().clone().requires_grad_();
  sum(mul(residual_layer_norm(x, r, Tensor(), Tensor()).second, 3.0)).backward();
  sum(mul(layer_norm(add(x2, r2), Tensor(), Tensor()), 3.0)).backward();
  EXPECT_ALL_CLOSE(x.grad(), x2.grad(), 1e-6, 1e-6);
  EXPECT_ALL_CLOSE(r.grad(), r2.grad(), 1e-6, 1e-6);
  x.zero_grad();
  sum(mul(residual_layer_norm(x, r, Tensor(), Tensor()).first, 2.0)).backward();
  EXPECT_ALL_CLOSE(x.grad(), Tensor::full({4, 6}, 2.0), 0, 0);
}

TEST(ResidualLayerNorm, Gradcheck) {
  Generator g(5);
  const TensorList in = {randn({2, 3, 5}, g, DType::F64).requires_grad_(),
                         randn({2, 3, 5}, g, DType::F64).requires_grad_(), randn({5}, g, DType::F64).requires_grad_(),
                         randn({5}, g, DType::F64).requires_grad_()};
  auto f = [](const TensorList& t) {
    auto [h, y] = residual_layer_norm(t[0], t[1], t[2], t[3]);
    return add(mul(h, 0.7), y);
  };
  const GradcheckResult r = gradcheck(f, in);
  EXPECT_TRUE(r.ok) << r.message;
  // A non-contiguous x (transposed view) goes through the same op.
  auto ft = [](const TensorList& t) {
    auto [h, y] = residual_layer_norm(transpose(t[0], 0, 1), t[1], t[2], t[3]);
    return add(h, mul(y, 1.3));
  };
  const TensorList int_ = {randn({3, 2, 5}, g, DType::F64).requires_grad_(), in[1], in[2], in[3]};
  const GradcheckResult rt = gradcheck(ft, int_);
  EXPECT_TRUE(rt.ok) << rt.message;
}

TEST(ResidualLayerNorm, BroadcastResidualTakesTheComposedPath) {
  Tensor x = rnd({3, 4, 8}, 21), r = rnd({4, 8}, 22), w = rnd({8}, 23), b = rnd({8}, 24);
  auto [h, y] = residual_layer_norm(x, r, w, b);
  EXPECT_ALL_CLOSE(h, add(x, r), 0, 0);
  EXPECT_ALL_CLOSE(y, layer_norm(add(x, r), w, b), 0, 0);
  EXPECT_ERROR_CONTAINS(residual_layer_norm(x, x, rnd({5}, 25), b), "does not match");
}

TEST(BiasQuickGelu, EqualsQuickGeluOfTheSumInEveryFloatType) {
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    Tensor x = rnd({6, 40}, 31, dt, 2.0), bias = rnd({40}, 32, dt);
    Tensor x2 = x.detach().clone().requires_grad_(), bias2 = bias.detach().clone().requires_grad_();
    Tensor fused = bias_quick_gelu(x, bias), composed = quick_gelu(add(x2, bias2));
    EXPECT_EQ(max(abs(sub(fused.to(DType::F32), composed.to(DType::F32)))).item(), 0.0);
    Generator g(33);
    Tensor wo = randn(fused.shape(), g).to(dt);
    sum(mul(fused, wo)).backward();
    sum(mul(composed, wo)).backward();
    EXPECT_EQ(max(abs(sub(x.grad().to(DType::F32), x2.grad().to(DType::F32)))).item(), 0.0);
    const double tol = dt == DType::F32 ? 1e-5 : 2e-2;
    EXPECT_ALL_CLOSE(bias.grad().to(DType::F32), bias2.grad().to(DType::F32), tol, tol);
  }
}

TEST(BiasQuickGelu, Gradcheck) {
  Generator g(41);
  const TensorList in = {mul(randn({3, 4, 6}, g, DType::F64), 2.0).requires_grad_(),
                         randn({6}, g, DType::F64).requires_grad_()};
  GradcheckResult r = gradcheck([](const TensorList& t) { return bias_quick_gelu(t[0], t[1]); }, in);
  EXPECT_TRUE(r.ok) << r.message;
  r = gradcheck([](const TensorList& t) { return bias_quick_gelu(transpose(t[0], 0, 1), t[1]); }, in);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(BiasQuickGelu, ArgumentErrors) {
  EXPECT_ERROR_CONTAINS(bias_quick_gelu(rnd({2, 3}, 1), rnd({4}, 2)), "bias");
  EXPECT_ERROR_CONTAINS(bias_quick_gelu(Tensor::zeros({2, 3}, DType::I64), rnd({3}, 2)), "floating");
}

TEST(EotGather, EqualsIndexSelectOfTheFlattenedRows) {
  // The text tower's EOT selection: row i takes position eot[i] of sequence i.
  const int64_t n = 5, len = 7, w = 12;
  Tensor x = rnd({n, len, w}, 51), x2 = x.detach().clone().requires_grad_();
  Tensor eot = Tensor::from_vector(std::vector<int64_t>{6, 0, 3, 3, 5}, {n});
  Tensor got = gather(x, 1, eot.reshape({n, 1, 1}).expand({n, 1, w})).reshape({n, w});
  Tensor rows = add(mul(Tensor::arange(n, DType::I64), double(len)), eot);
  Tensor want = index_select(x2.reshape({n * len, w}), 0, rows);
  EXPECT_ALL_CLOSE(got, want, 0, 0);
  Generator g(52);
  Tensor wo = randn({n, w}, g);
  sum(mul(got, wo)).backward();
  sum(mul(want, wo)).backward();
  EXPECT_ALL_CLOSE(x.grad(), x2.grad(), 0, 0);
}

TEST(InPlaceGradients, FanOutSumsAreExactAndHeldGradientsStay) {
  // x feeds three consumers through y; y's gradient is summed from three nodes (in place after the first).
  Tensor x = Tensor::from_vector(std::vector<double>{1, -2, 3}, {3}).requires_grad_();
  Tensor y = mul(x, 2.0);
  Tensor loss = add(add(sum(mul(y, y)), sum(mul(y, 3.0))), sum(exp(y)));
  loss.backward();
  // d/dx = 2·(2y + 3 + e^y)
  Tensor yv = mul(x.detach(), 2.0);
  EXPECT_ALL_CLOSE(x.grad(), mul(add(add(mul(yv, 2.0), 3.0), exp(yv)), 2.0), 1e-12, 1e-12);
  // add() hands one gradient to both of its inputs: the shared tensor must not be summed into in place.
  Tensor a = Tensor::from_vector(std::vector<double>{0.5, 1.5}, {2}).requires_grad_();
  Tensor s = add(a, a);
  sum(mul(add(s, mul(s, s)), 1.0)).backward();
  EXPECT_ALL_CLOSE(a.grad(), mul(add(mul(a.detach(), 4.0), 1.0), 2.0), 1e-12, 1e-12);  // 2·(1 + 2s), s = 2a
  // A gradient captured by grad_of for an intermediate is the value at that node, unchanged afterwards.
  Tensor z = mul(x, 1.0);
  Tensor l2 = add(sum(mul(z, 2.0)), sum(mul(z, 5.0)));
  TensorList gz = grad_of(l2, {z, x});
  EXPECT_ALL_CLOSE(gz[0], Tensor::full({3}, 7.0, DType::F64), 0, 0);
  EXPECT_ALL_CLOSE(gz[1], Tensor::full({3}, 7.0, DType::F64), 0, 0);
}

TEST(InPlaceGradients, LeafGradIsNotAliasedWithAKeptGradient) {
  // Two backward passes into the same leaf: the first .grad, cloned by the caller, must stay as it was.
  Tensor x = Tensor::from_vector(std::vector<float>{1, 2}, {2}).requires_grad_();
  sum(mul(x, 3.0)).backward();
  Tensor kept = x.grad();
  Tensor snapshot = kept.clone();
  sum(mul(x, 4.0)).backward();
  EXPECT_ALL_CLOSE(kept, snapshot, 0, 0);
  EXPECT_ALL_CLOSE(x.grad(), Tensor::full({2}, 7.0), 0, 0);
}

}  // namespace
}  // namespace clipt
