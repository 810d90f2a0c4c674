// CPU halves of the defects found by reading the CUDA runtime (issue 19): index_add sums colliding
// indices in the compute type and rounds once (f16 embedding gradients lost small adds when every add was
// rounded to f16); scatter_add and gather refuse an index that does not fit the target on the other dims
// (the elements were addressed with the target's strides, reaching outside it); a copy between
// overlapping views reads a staged source (element-wise copies raced or smeared); and the L2 norm of f16
// values whose squares sum past f16's range stays finite. The CUDA kernels implement the same rules and
// are compared with these in tests/gpu.
#include <cmath>
#include <numeric>

#include "engine/core/backend.h"
#include "engine/ops/ops.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

TEST(RuntimeDefects, IndexAddSumsCollisionsInF32AndRoundsOnce) {
  // 4096 ones into one f16 row: adding and rounding one at a time sticks at 2048 (2048 + 1 rounds to 2048).
  const int64_t m = 4096, inner = 3;
  Tensor out = Tensor::zeros({2, inner}, DType::F16);
  Tensor index = Tensor::from_vector(std::vector<int64_t>(size_t(m), 0), {m});
  Tensor src = Tensor::full({m, inner}, 1.0, DType::F16);
  cpu_backend().index_add(out, index, 1, 2, inner, src);
  const auto v = out.to(DType::F32).to_vector<float>();
  for (int64_t j = 0; j < inner; ++j) {
    EXPECT_EQ(v[size_t(j)], 4096.0f);
    EXPECT_EQ(v[size_t(inner + j)], 0.0f);
  }
}

TEST(RuntimeDefects, IndexAddMatchesRunSumsInIndexOrder) {
  // Interleaved collisions, several outer slices: each destination gets out + (sum of its run in index
  // order, in f32) — the exact rule the CUDA kernel follows, so the two agree bit for bit.
  const int64_t outer = 2, n = 5, inner = 7;
  const std::vector<int64_t> idx{3, 0, 3, 4, 0, 3, 1, 3};
  const int64_t m = int64_t(idx.size());
  std::vector<float> src_v(size_t(outer * m * inner)), out_v(size_t(outer * n * inner));
  for (size_t i = 0; i < src_v.size(); ++i) src_v[i] = float(std::sin(double(i) * 1.7)) * 1e3f + 1e-3f * float(i);
  for (size_t i = 0; i < out_v.size(); ++i) out_v[i] = float(std::cos(double(i))) * 1e4f;
  Tensor out = Tensor::from_vector(out_v, {outer, n, inner});
  cpu_backend().index_add(out, Tensor::from_vector(idx, {m}), outer, n, inner,
                          Tensor::from_vector(src_v, {outer, m, inner}));
  std::vector<float> expected = out_v;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) {
        float run = 0;
        bool any = false;
        for (int64_t i = 0; i < m; ++i)
          if (idx[size_t(i)] == k) {
            run += src_v[size_t((o * m + i) * inner + j)];
            any = true;
          }
        if (any) expected[size_t((o * n + k) * inner + j)] += run;
      }
  EXPECT_TRUE(test::bit_equal(out, Tensor::from_vector(expected, {outer, n, inner})));
}

TEST(RuntimeDefects, IndexSelectBackwardOfF16EmbeddingKeepsSmallAdds) {
  // The embedding gradient of a token seen 3000 times, each contributing 1: exact in f32, and representable
  // in f16 (3000 is), so rounding once gives exactly 3000.
  Tensor w = Tensor::zeros({4, 8}, DType::F16).requires_grad_();
  Tensor ids = Tensor::from_vector(std::vector<int64_t>(3000, 2), {3000});
  sum(index_select(w, 0, ids).to(DType::F32)).backward();
  const auto g = w.grad().to(DType::F32).to_vector<float>();
  for (int64_t j = 0; j < 8; ++j) EXPECT_EQ(g[size_t(2 * 8 + j)], 3000.0f);
}

TEST(RuntimeDefects, ScatterAddRefusesAnIndexLargerThanTheTargetOnOtherDims) {
  Tensor target = Tensor::zeros({2, 3});
  Tensor index = Tensor::from_vector(std::vector<int64_t>(12, 0), {4, 3});  // 4 rows into a 2-row target
  Tensor src = Tensor::ones({4, 3});
  EXPECT_ERROR_CONTAINS(scatter_add(target, 1, index, src), "larger than input");
  // The backend itself checks too (it is also called directly, e.g. by gather's backward).
  EXPECT_ERROR_CONTAINS(cpu_backend().scatter_add(target, 1, index, src), "larger than tensor");
  Tensor flat = Tensor::from_vector(std::vector<int64_t>(6, 0), {6});
  EXPECT_ERROR_CONTAINS(cpu_backend().scatter_add(target, 0, flat, Tensor::ones({6})), "differ in rank");
  Tensor out = Tensor::zeros({4, 3});
  EXPECT_ERROR_CONTAINS(cpu_backend().gather(target, 1, index, out), "larger than tensor");
  // The valid case still works: column sums of ones.
  Tensor ok =
      scatter_add(target, 0, Tensor::from_vector(std::vector<int64_t>{0, 1, 1, 1, 0, 0}, {2, 3}), Tensor::ones({2, 3}));
  EXPECT_TRUE(test::all_close(ok, Tensor::from_vector({1, 1, 1, 1, 1, 1}, {2, 3})));
}

TEST(RuntimeDefects, CopyBetweenOverlappingViewsReadsTheOldValues) {
  std::vector<float> v(16);
  std::iota(v.begin(), v.end(), 0.0f);
  // In-place transpose: the same start, other strides.
  Tensor x = Tensor::from_vector(v, {4, 4});
  Tensor expected_t = transpose(x, 0, 1).contiguous();
  x.copy_(transpose(x, 0, 1));
  EXPECT_TRUE(test::bit_equal(x, expected_t));
  // Shift the columns right by one inside the same buffer (strided, overlapping).
  Tensor y = Tensor::from_vector(v, {4, 4});
  Tensor dst = narrow(y, 1, 1, 3);
  dst.copy_(narrow(y, 1, 0, 3));
  std::vector<float> shifted = v;
  for (int r = 0; r < 4; ++r)
    for (int c = 1; c < 4; ++c) shifted[size_t(r * 4 + c)] = v[size_t(r * 4 + c - 1)];
  EXPECT_TRUE(test::bit_equal(y, Tensor::from_vector(shifted, {4, 4})));
  // A view copied onto itself is left as it is.
  Tensor z = Tensor::from_vector(v, {4, 4});
  z.copy_(z);
  EXPECT_TRUE(test::bit_equal(z, Tensor::from_vector(v, {4, 4})));
}

TEST(RuntimeDefects, F16NormWhoseSquaresOverflowStaysFinite) {
  // ‖x‖ = 300·√1000 ≈ 9486.8 fits f16, but ‖x‖² ≈ 9·10⁷ is far past f16's 65504.
  Tensor x = Tensor::full({2, 1000}, 300.0, DType::F16);
  const auto n = norm(x, {1}).to(DType::F32).to_vector<float>();
  for (float e : n) EXPECT_NEAR(e, 300.0 * std::sqrt(1000.0), 8.0);  // one f16 ulp at 9487 is 8
  const auto all = norm(Tensor::full({4, 50, 40}, 100.0, DType::F16)).to(DType::F32).item();
  EXPECT_NEAR(all, 100.0 * std::sqrt(8000.0), 8.0);
  Tensor unit = l2_normalize(x, 1).to(DType::F32);
  EXPECT_NEAR(norm(unit, {1}).to_vector<float>()[0], 1.0, 1e-2);
  // Its gradient stays finite too.
  Tensor leaf = x.detach().requires_grad_();
  sum(norm(leaf, {1}).to(DType::F32)).backward();
  const auto g = leaf.grad().to(DType::F32).to_vector<float>();
  for (float e : g) ASSERT_TRUE(std::isfinite(e));
}

}  // namespace
}  // namespace clipt
