// Seeded randomness. A Generator is a (seed, offset) pair over Philox-4x32-10: each draw consumes a
// block of counters, so a run is a pure function of its seed, on CPU and GPU alike.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves counters for n words and returns the offset to pass to the backend.
  uint64_t advance(uint64_t n_words) {
    const uint64_t at = offset_;
    offset_ += (n_words + 3) / 4;
    return at;
  }
  // Host-side scalar draws (sampling, shuffling, augmentation decisions).
  uint32_t next_u32();
  double uniform();                         // [0, 1)
  double uniform(double lo, double hi);     // [lo, hi)
  int64_t randint(int64_t lo, int64_t hi);  // [lo, hi), unbiased
  double normal();                          // standard normal (Box–Muller)

 private:
  uint64_t seed_ = 0;
  uint64_t offset_ = 0;
};

Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::F32, Device device = Device::cpu());
Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::F32, Device device = Device::cpu());
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen, Device device = Device::cpu());
// Fills in place (outside autograd): uniform in [a, b), or normal with mean and std.
void uniform_(Tensor& t, double a, double b, Generator& gen);
void normal_(Tensor& t, double mean, double std, Generator& gen);
// A uniformly random permutation of 0..n−1 (Fisher–Yates on the host).
std::vector<int64_t> randperm(int64_t n, Generator& gen);
Tensor randperm_tensor(int64_t n, Generator& gen, Device device = Device::cpu());

}  // namespace clipt
