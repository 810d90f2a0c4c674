// Storage formats and randomness: f16/bf16 conversion, Philox known answers, generator streams.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <set>

#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "kernels/philox.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

TEST(Half, EveryFiniteHalfRoundTripsThroughFloat) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const uint16_t h = uint16_t(b);
    const float f = half_bits_to_float(h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(half_bits_to_float(float_to_half_bits(f))));
      continue;
    }
    ASSERT_EQ(float_to_half_bits(f), h) << "bits " << b;
  }
}

TEST(Half, RoundsToNearestEven) {
  EXPECT_EQ(float_to_half_bits(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half_bits(65504.f), 0x7bff);
  EXPECT_EQ(float_to_half_bits(65520.f), 0x7c00);                   // overflows to +inf
  EXPECT_EQ(float_to_half_bits(1.0f + 1.0f / 2048), 0x3c00);        // tie → even
  EXPECT_EQ(float_to_half_bits(1.0f + 3.0f / 2048), 0x3c02);        // tie → even (up)
  EXPECT_EQ(float_to_half_bits(5.9604644775390625e-08f), 0x0001);   // smallest subnormal
  EXPECT_EQ(float_to_half_bits(2.98023223876953125e-08f), 0x0000);  // half of it: tie → 0
  EXPECT_EQ(float_to_half_bits(-0.0f), 0x8000);
  EXPECT_FLOAT_EQ(half_bits_to_float(0x3555), 0.333251953125f);
}

TEST(Half, BFloat16) {
  EXPECT_EQ(float_to_bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16_bits(1.00390625f), 0x3f80);  // tie → even
  EXPECT_EQ(float_to_bf16_bits(1.01171875f), 0x3f82);
  EXPECT_FLOAT_EQ(bf16_bits_to_float(0x4049), 3.140625f);
  Tensor t = Tensor::from_vector({1.5f, -2.25f, std::ldexp(1.0f, 100)}, {3});  // exactly representable
  EXPECT_EQ(t.to(DType::BF16).to(DType::F32).to_vector<float>(), t.to_vector<float>());
}

TEST(Philox, KnownAnswerVectors) {
  // Random123's kat_vectors for philox4x32_10.
  auto a = philox::philox4x32_10({0, 0, 0, 0}, 0, 0);
  EXPECT_EQ(a.x, 0x6627e8d5u);
  EXPECT_EQ(a.y, 0xe169c58du);
  EXPECT_EQ(a.z, 0xbc57ac4cu);
  EXPECT_EQ(a.w, 0x9b00dbd8u);
  auto b = philox::philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, 0xffffffffu, 0xffffffffu);
  EXPECT_EQ(b.x, 0x408f276du);
  EXPECT_EQ(b.y, 0x41c83b0eu);
  EXPECT_EQ(b.z, 0xa20bc7c6u);
  EXPECT_EQ(b.w, 0x6d5451fdu);
  auto c = philox::philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(c.x, 0xd16cfe09u);
  EXPECT_EQ(c.y, 0x94fdccebu);
  EXPECT_EQ(c.z, 0x5001e420u);
  EXPECT_EQ(c.w, 0x24126ea1u);
}

TEST(Generator, SeededStreamsAreReproducibleAndDistinct) {
  Generator g1(42), g2(42), g3(43);
  Tensor a = randn({1000}, g1), b = randn({1000}, g2), c = randn({1000}, g3);
  EXPECT_TRUE(test::bit_equal(a, b));
  EXPECT_FALSE(test::bit_equal(a, c));
  // Successive draws differ.
  EXPECT_FALSE(test::bit_equal(randn({1000}, g1), a));
  // Moments of N(0, 1) and U(0, 1).
  Generator g(7);
  auto n = randn({200000}, g).to_vector<double>();
  double m = 0, v = 0;
  for (double x : n) m += x;
  m /= double(n.size());
  for (double x : n) v += (x - m) * (x - m);
  v /= double(n.size());
  EXPECT_NEAR(m, 0.0, 0.01);
  EXPECT_NEAR(v, 1.0, 0.02);
  auto u = rand({200000}, g).to_vector<double>();
  double mu = 0;
  for (double x : u) {
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    mu += x;
  }
  EXPECT_NEAR(mu / double(u.size()), 0.5, 0.005);
}

TEST(Generator, PermutationAndRandint) {
  Generator g(3);
  auto p = randperm(100, g);
  std::set<int64_t> s(p.begin(), p.end());
  EXPECT_EQ(s.size(), 100u);
  EXPECT_EQ(*s.begin(), 0);
  EXPECT_EQ(*s.rbegin(), 99);
  int counts[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 50000; ++i) ++counts[g.randint(0, 5)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  Generator h(3);
  EXPECT_EQ(randperm(100, h), p);
}

TEST(Reductions, LongSumsAreExactEnoughAndThreadIndependent) {
  Tensor ones = Tensor::ones({3000001});
  EXPECT_DOUBLE_EQ(sum(ones).item(), 3000001.0);
  EXPECT_DOUBLE_EQ(mean(ones).item(), 1.0);
  Generator g(5);
  Tensor x = randn({1 << 20}, g);
  const double s1 = sum(x).item();
  omp_set_num_threads(1);
  const double s2 = sum(x).item();
  omp_set_num_threads(omp_get_num_procs());
  EXPECT_EQ(s1, s2);
}

TEST(Ops, ArgmaxTopkAndComparisons) {
  Tensor x = Tensor::from_vector({3, 1, 3, 2, 7, 7, 0, -1}, {2, 4});
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(argmin(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 3}));
  auto [v, i] = topk(x, 3, 1);
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{3, 3, 2, 7, 7, 0}));
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 3, 0, 1, 2}));
  EXPECT_EQ(gt(x, 2.5).to(DType::F32).to_vector<float>(), (std::vector<float>{1, 0, 1, 0, 1, 1, 0, 0}));
  EXPECT_EQ(one_hot(Tensor::from_vector(std::vector<int64_t>{2, 0}, {2}), 3).to_vector<float>(),
            (std::vector<float>{0, 0, 1, 1, 0, 0}));
}

TEST(Ops, HalfPrecisionMatchesFloatWithinTolerance) {
  Generator g(11);
  Tensor a = randn({37, 65}, g), b = randn({65, 29}, g);
  Tensor ref = matmul(a, b);
  for (DType t : {DType::F16, DType::BF16}) {
    Tensor y = matmul(a.to(t), b.to(t));
    EXPECT_EQ(y.dtype(), t);
    EXPECT_ALL_CLOSE(y, ref, t == DType::F16 ? 1e-2 : 5e-2, t == DType::F16 ? 2e-2 : 1e-1);
    Tensor ln = layer_norm(a.to(t), Tensor(), Tensor());
    EXPECT_ALL_CLOSE(ln, layer_norm(a, Tensor(), Tensor()), 1e-2, t == DType::F16 ? 5e-3 : 3e-2);
    EXPECT_ALL_CLOSE(softmax(a.to(t), -1), softmax(a, -1), 1e-2, t == DType::F16 ? 1e-3 : 5e-3);
  }
}

}  // namespace
}  // namespace clipt
