#include "engine/ops/random.h"

#include <cmath>

#include "engine/core/backend.h"
#include "engine/ops/ops.h"
#include "kernels/philox.h"

namespace clipt {

uint32_t Generator::next_u32() { return philox::word(seed_, advance(1), 0); }

double Generator::uniform() {
  // 53 random bits from two words.
  const uint64_t at = advance(2);
  const uint64_t hi = philox::word(seed_, at, 0) >> 5, lo = philox::word(seed_, at, 1) >> 6;
  return double(hi * 67108864ull + lo) * (1.0 / 9007199254740992.0);
}

double Generator::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int64_t Generator::randint(int64_t lo, int64_t hi) {
  CLIPT_CHECK(hi > lo, "randint: empty range [{}, {})", lo, hi);
  const uint64_t range = uint64_t(hi - lo);
  // Rejection sampling on 64-bit words avoids modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  for (;;) {
    const uint64_t at = advance(2);
    const uint64_t r = (uint64_t(philox::word(seed_, at, 0)) << 32) | philox::word(seed_, at, 1);
    if (r < limit) return lo + int64_t(r % range);
  }
}

double Generator::normal() {
  double u1 = uniform();
  const double u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

namespace {
void fill_random(Tensor& t, RandomKind kind, double a, double b, Generator& gen) {
  CLIPT_CHECK(t.is_contiguous(), "random fill: tensor must be contiguous, got strides {}", shape_str(t.strides()));
  if (t.numel() == 0) return;
  // Normal draws use two words per element (Box–Muller), uniform one.
  const uint64_t words = uint64_t(t.numel()) * (kind == RandomKind::Normal ? 2 : 1);
  backend_for(t.device()).random(kind, t, gen.seed(), gen.advance(words), a, b);
}
}  // namespace

void uniform_(Tensor& t, double a, double b, Generator& gen) {
  NoGrad ng;
  if (is_floating(t.dtype()) && t.dtype() != DType::F32 && t.dtype() != DType::F64) {
    Tensor tmp = Tensor::empty(t.shape(), DType::F32, t.device());
    fill_random(tmp, RandomKind::Uniform, a, b, gen);
    t.copy_(tmp);
    return;
  }
  fill_random(t, RandomKind::Uniform, a, b, gen);
}

void normal_(Tensor& t, double mean, double std, Generator& gen) {
  NoGrad ng;
  if (t.dtype() != DType::F32 && t.dtype() != DType::F64) {
    Tensor tmp = Tensor::empty(t.shape(), DType::F32, t.device());
    fill_random(tmp, RandomKind::Normal, mean, std, gen);
    t.copy_(tmp);
    return;
  }
  fill_random(t, RandomKind::Normal, mean, std, gen);
}

Tensor rand(const Shape& shape, Generator& gen, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  uniform_(t, 0.0, 1.0, gen);
  return t;
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  normal_(t, 0.0, 1.0, gen);
  return t;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen, Device device) {
  CLIPT_CHECK(high > low, "randint: empty range [{}, {})", low, high);
  std::vector<int64_t> v(size_t(numel_of(shape)));
  for (auto& x : v) x = gen.randint(low, high);
  return Tensor::from_vector(v, shape, device);
}

std::vector<int64_t> randperm(int64_t n, Generator& gen) {
  std::vector<int64_t> p(size_t(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[size_t(gen.randint(0, i + 1))]);
  return p;
}

Tensor randperm_tensor(int64_t n, Generator& gen, Device device) {
  return Tensor::from_vector(randperm(n, gen), {n}, device);
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  CLIPT_CHECK(p >= 0 && p <= 1, "dropout: probability {} outside [0, 1]", p);
  if (!training || p == 0) return x;
  if (p == 1) return mul(x, 0.0);
  Tensor keep = Tensor::empty(x.shape(), DType::F32, x.device());
  {
    NoGrad ng;
    const uint64_t words = uint64_t(keep.numel());
    if (words > 0)
      backend_for(x.device()).random(RandomKind::Bernoulli, keep, gen.seed(), gen.advance(words), 1 - p, 0);
  }
  return mul(x, mul(keep, 1.0 / (1.0 - p)).to(x.dtype()));
}

}  // namespace clipt
