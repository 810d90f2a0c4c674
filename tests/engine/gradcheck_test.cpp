// Finite-difference gradchecks (f64) of every differentiable op (the element-wise list is checked case by
// case in op_list_test.cpp), with broadcasting, awkward shapes and
// non-contiguous inputs (transposed, sliced, expanded views built inside the checked function).
#include "engine/ops/gradcheck.h"

#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

Tensor rnd(const Shape& s, uint64_t seed, double scale = 1.0, double shift = 0.0) {
  Generator g(seed);
  return add(mul(randn(s, g, DType::F64), scale), shift).requires_grad_();
}
Tensor positive(const Shape& s, uint64_t seed) {  // values in [0.5, 2.5)
  Generator g(seed);
  Tensor t = Tensor::empty(s, DType::F64);
  uniform_(t, 0.5, 2.5, g);
  return t.requires_grad_();
}

#define EXPECT_GRADCHECK(fn, ...)                    \
  do {                                               \
    auto r = gradcheck(fn, TensorList{__VA_ARGS__}); \
    EXPECT_TRUE(r.ok) << r.message;                  \
  } while (0)

TEST(Gradcheck, BinaryWithBroadcasting) {
  Tensor a = rnd({3, 1, 4}, 1), b = rnd({5, 4}, 2), pb = positive({5, 4}, 3), pa = positive({3, 1, 4}, 4);
  EXPECT_GRADCHECK([](const TensorList& x) { return add(x[0], x[1]); }, a, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return sub(x[0], x[1]); }, a, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return mul(x[0], x[1]); }, a, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return div(x[0], x[1]); }, a, pb);
  EXPECT_GRADCHECK([](const TensorList& x) { return pow(x[0], x[1]); }, pa, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return maximum(x[0], x[1]); }, a, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return minimum(x[0], x[1]); }, a, b);
  // Non-contiguous: a transposed operand.
  Tensor m = rnd({4, 3}, 5), n = rnd({3, 4}, 6);
  EXPECT_GRADCHECK([](const TensorList& x) { return mul(x[0].t(), x[1]); }, m, n);
}

TEST(Gradcheck, Reductions) {
  Tensor a = rnd({3, 4, 5}, 11);
  EXPECT_GRADCHECK([](const TensorList& x) { return sum(x[0]); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return sum(x[0], {0, 2}); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return sum(x[0], {1}, true); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return mean(x[0], {-1}); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return mean(x[0], {0, 1}, true); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return max(x[0], 1); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return min(x[0], 2, true); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return max(x[0]); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return topk(x[0], 2, 1).first; }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return var(x[0], {2}); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return var(x[0], {0, 2}, false, true); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return norm(x[0], {1}); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return norm(x[0]); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return sum(x[0].transpose(0, 2), {1}); }, a);
}

TEST(Gradcheck, ShapesAndViews) {
  Tensor a = rnd({2, 3, 4}, 12), b = rnd({2, 2, 4}, 13), c = rnd({3, 1}, 14);
  EXPECT_GRADCHECK([](const TensorList& x) { return x[0].reshape({4, 6}).t(); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return x[0].permute({2, 0, 1}).contiguous(); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return x[0].narrow(1, 1, 2); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return x[0].select(2, -1); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return x[0].expand({2, 3, 5}); }, c);
  EXPECT_GRADCHECK([](const TensorList& x) { return cat({x[0], x[1]}, 1); }, a, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return stack({x[0], neg(x[0])}, 0); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return split(x[0], 3, 2)[1]; }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return mul(chunk(x[0], 2, 1)[0], 2.0); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return repeat(x[0], {2, 1, 3}); }, c);
  EXPECT_GRADCHECK(
      [](const TensorList& x) {
        TensorList parts = unbind(x[0], 1);
        return add(mul(parts[0], parts[2]), parts[1]);  // parts[1] and [2] used, [0] too: all gradients meet
      },
      a);
  EXPECT_GRADCHECK([](const TensorList& x) { return mul(unbind(x[0], 2)[3], 2.0); }, a);  // others get zeros
  EXPECT_GRADCHECK([](const TensorList& x) { return x[0].unsqueeze(1).squeeze(1).flatten(1); }, a);
}

TEST(Gradcheck, Indexing) {
  Tensor w = rnd({6, 3}, 15), a = rnd({3, 5}, 16);
  Tensor ids = Tensor::from_vector(std::vector<int64_t>{1, 5, 1, 0}, {2, 2});
  Tensor idx = Tensor::from_vector(std::vector<int64_t>{4, 0, 4}, {3});
  Tensor gidx = Tensor::from_vector(std::vector<int64_t>{0, 2, 2, 1, 4, 4}, {3, 2});
  EXPECT_GRADCHECK([ids](const TensorList& x) { return embedding(x[0], ids); }, w);
  EXPECT_GRADCHECK([idx](const TensorList& x) { return index_select(x[0], 1, idx); }, a);
  EXPECT_GRADCHECK([gidx](const TensorList& x) { return gather(x[0], 1, gidx); }, a);
  Tensor mask =
      gt(Tensor::from_vector(std::vector<double>{1, -1, 2, -2, 0, 3, -3, 1, -1, 2, 0, 1, 1, -1, 5}, {3, 5}), 0.0);
  EXPECT_GRADCHECK([mask](const TensorList& x) { return where(mask, x[0], x[1]); }, a, rnd({5}, 17));
  EXPECT_GRADCHECK([mask](const TensorList& x) { return masked_fill(x[0], mask, -2.0); }, a);
}

TEST(Gradcheck, MatmulAndLinear) {
  Tensor a = rnd({2, 3, 4}, 18), b = rnd({4, 5}, 19), bb = rnd({2, 4, 5}, 20);
  EXPECT_GRADCHECK([](const TensorList& x) { return matmul(x[0], x[1]); }, a, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return matmul(x[0], x[1]); }, a, bb);
  EXPECT_GRADCHECK([](const TensorList& x) { return matmul(x[1].transpose(1, 2), x[0].transpose(1, 2)); }, a, bb);
  EXPECT_GRADCHECK([](const TensorList& x) { return matmul(x[0].select(0, 1), x[1]); }, a, b);  // 2-d, offset
  Tensor v = rnd({4}, 21);
  EXPECT_GRADCHECK([](const TensorList& x) { return matmul(x[0], x[1]); }, a, v);
  Tensor w = rnd({5, 4}, 22), bias = rnd({5}, 23);
  EXPECT_GRADCHECK([](const TensorList& x) { return linear(x[0], x[1], x[2]); }, a, w, bias);
  EXPECT_GRADCHECK([](const TensorList& x) { return linear(x[0].transpose(0, 1), x[1]); }, a, w);
}

TEST(Gradcheck, NeuralNetworkFunctions) {
  Tensor a = rnd({3, 6}, 24), w = rnd({6}, 25), b = rnd({6}, 26);
  EXPECT_GRADCHECK([](const TensorList& x) { return softmax(x[0], -1); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return softmax(x[0], 0); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return log_softmax(x[0].t(), 1); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return layer_norm(x[0], x[1], x[2]); }, a, w, b);
  EXPECT_GRADCHECK([](const TensorList& x) { return layer_norm(x[0], Tensor(), Tensor()); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return l2_normalize(x[0], -1); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return cosine_similarity(x[0], x[1], 1); }, a, rnd({3, 6}, 27));
  Tensor labels = Tensor::from_vector(std::vector<int64_t>{5, 0, 2}, {3});
  EXPECT_GRADCHECK([labels](const TensorList& x) { return cross_entropy(x[0], labels); }, a);
  EXPECT_GRADCHECK([labels](const TensorList& x) { return cross_entropy(x[0], labels, 0.2, Reduction::None); }, a);
  EXPECT_GRADCHECK([](const TensorList& x) { return cross_entropy_soft(x[0], softmax(x[1], -1)); }, a, rnd({3, 6}, 28));
  EXPECT_GRADCHECK([](const TensorList& x) { return kl_div(log_softmax(x[0], -1), softmax(x[1], -1)); }, a,
                   rnd({3, 6}, 29));
  Tensor q = rnd({2, 5, 4}, 30), k = rnd({2, 5, 4}, 31), v = rnd({2, 5, 3}, 32);
  EXPECT_GRADCHECK([](const TensorList& x) { return scaled_dot_product_attention(x[0], x[1], x[2], true); }, q, k, v);
  EXPECT_GRADCHECK([](const TensorList& x) { return scaled_dot_product_attention(x[0], x[1], x[2], false, 0.3); }, q, k,
                   v);
  Tensor img = rnd({1, 2, 4, 6}, 33), pw = rnd({3, 2, 2, 2}, 34), pb = rnd({3}, 35);
  EXPECT_GRADCHECK([](const TensorList& x) { return conv2d_patchify(x[0], x[1], x[2]); }, img, pw, pb);
  EXPECT_GRADCHECK(
      [](const TensorList& x) {
        Generator g(77);  // the same mask on every evaluation
        return dropout(x[0], 0.3, true, g);
      },
      a);
}

}  // namespace
}  // namespace clipt
