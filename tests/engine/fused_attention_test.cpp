// Fused attention (one backend op over the fused QKV projection, online softmax, recomputing backward)
// against the composed attention (split copies, matmuls, materialised softmax): values and gradients of
// qkv and of a shared prefix, causal and not, across the 64-row tile boundary; finite-difference
// gradchecks in f64; argument errors.
#include "engine/ops/gradcheck.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

Tensor rnd(const Shape& s, uint64_t seed, DType dt = DType::F32, double scale = 1.0) {
  Generator g(seed);
  return mul(randn(s, g, dt), scale).requires_grad_();
}

struct Case {
  int64_t batch, len, heads, head_dim, groups, prefix_len;
  bool causal;
};

// Output and input gradients of `attention` for a fixed random weighting of the output.
template <typename F> TensorList run(F attention, const Case& c, uint64_t seed) {
  Tensor qkv = rnd({c.batch, c.len, 3 * c.heads * c.head_dim}, seed);
  Tensor prefix = c.groups > 0 ? rnd({c.groups, c.prefix_len, 3 * c.heads * c.head_dim}, seed + 1) : Tensor();
  Tensor out = attention(qkv, c.heads, c.causal, std::nullopt, prefix);
  Generator g(seed + 2);
  Tensor w = randn(out.shape(), g);
  sum(mul(out, w)).backward();
  return {out.detach(), qkv.grad(), prefix.defined() ? prefix.grad() : Tensor()};
}

TEST(FusedAttention, MatchesComposedAttentionValuesAndGradients) {
  const std::vector<Case> cases = {
      {3, 70, 2, 16, 0, 0, true},   // crosses the 64-row tile, causal
      {3, 70, 2, 16, 0, 0, false},  // full attention
      {2, 5, 4, 64, 0, 0, true},    // CLIP's head size
      {4, 6, 2, 64, 1, 17, true},   // CoOp: one prefix for every row
      {6, 9, 2, 8, 3, 67, true},    // CoCoOp: one prefix per group of 2 rows, prefix across the tile
      {6, 9, 2, 8, 2, 5, false},    // a prefix without the causal mask
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("B {} L {} H {} D {} G {} P {} causal {}", c.batch, c.len, c.heads, c.head_dim, c.groups,
                             c.prefix_len, c.causal));
    const TensorList fused = run(fused_attention, c, 100 + uint64_t(c.len));
    const TensorList composed = run(composed_qkv_attention, c, 100 + uint64_t(c.len));
    EXPECT_ALL_CLOSE(fused[0], composed[0], 1e-5, 1e-6);
    EXPECT_ALL_CLOSE(fused[1], composed[1], 1e-5, 1e-6);
    if (c.groups > 0) {
      EXPECT_ALL_CLOSE(fused[2], composed[2], 1e-5, 1e-6);
      // The q part of the prefix is never read: zero gradient.
      const int64_t w = c.heads * c.head_dim;
      EXPECT_EQ(max(abs(fused[2].narrow(2, 0, w))).item(), 0.0);
    }
  }
}

TEST(FusedAttention, PrefixEqualsAttendingToTheConcatenatedSequence) {
  // Self-attention over [prefix, own] restricted to the own rows is what the prefix form computes.
  const int64_t heads = 2, d = 8, p = 4, l = 3;
  Tensor full = rnd({2, p + l, 3 * heads * d}, 7);
  Tensor whole = fused_attention(full, heads, true).narrow(1, p, l);
  // Both rows share the prefix only if their first p positions are equal: use row 0's for both.
  Tensor shared = cat({full.narrow(0, 0, 1).narrow(1, 0, p).expand({2, p, 3 * heads * d}), full.narrow(1, p, l)}, 1);
  Tensor expected = fused_attention(shared, heads, true).narrow(1, p, l);
  Tensor got = fused_attention(full.narrow(1, p, l), heads, true, std::nullopt, full.narrow(0, 0, 1).narrow(1, 0, p));
  EXPECT_ALL_CLOSE(got, expected, 1e-5, 1e-6);
  EXPECT_ALL_CLOSE(got.narrow(0, 0, 1), whole.narrow(0, 0, 1), 1e-5, 1e-6);
}

TEST(FusedAttention, GradcheckF64) {
  Tensor qkv = rnd({2, 5, 3 * 2 * 3}, 11, DType::F64), prefix1 = rnd({1, 3, 18}, 12, DType::F64),
         prefix2 = rnd({2, 4, 18}, 13, DType::F64);
  for (bool causal : {true, false}) {
    auto plain = [causal](const TensorList& x) { return fused_attention(x[0], 2, causal); };
    auto shared = [causal](const TensorList& x) { return fused_attention(x[0], 2, causal, 0.7, x[1]); };
    auto r = gradcheck(plain, {qkv});
    EXPECT_TRUE(r.ok) << r.message;
    r = gradcheck(shared, {qkv, prefix1});
    EXPECT_TRUE(r.ok) << r.message;
    r = gradcheck(shared, {qkv, prefix2});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(FusedAttention, NonContiguousInputAndNoGradPrefix) {
  Tensor base = rnd({5, 3, 2 * 3 * 2 * 8}, 21);
  Tensor qkv = base.narrow(2, 0, 3 * 2 * 8);  // a strided view: copied once, same result
  Tensor prefix = rnd({1, 2, 48}, 22).detach();
  EXPECT_ALL_CLOSE(fused_attention(qkv, 2, true, std::nullopt, prefix),
                   composed_qkv_attention(qkv, 2, true, std::nullopt, prefix), 1e-5, 1e-6);
  sum(fused_attention(qkv, 2, true, std::nullopt, prefix)).backward();
  EXPECT_TRUE(base.grad().defined());
  EXPECT_FALSE(prefix.grad().defined());
}

TEST(FusedAttention, BadArgumentsNameTheProblem) {
  Tensor qkv = rnd({2, 3, 48}, 31);
  EXPECT_ERROR_CONTAINS(fused_attention(qkv, 5, true), "does not split");
  EXPECT_ERROR_CONTAINS(fused_attention(qkv.reshape({6, 48}), 2, true), "[B, L, 3·H·D]");
  EXPECT_ERROR_CONTAINS(fused_attention(qkv, 2, true, std::nullopt, rnd({3, 2, 48}, 32)), "G dividing");
  EXPECT_ERROR_CONTAINS(fused_attention(qkv, 2, true, std::nullopt, rnd({1, 2, 24}, 33)), "prefix qkv");
}

}  // namespace
}  // namespace clipt
