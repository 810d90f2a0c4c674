// Where every random decision of the data layer comes from. A stream is keyed by (seed, epoch, stream
// kind) and each sample index owns a disjoint block of Philox counters inside it, so the augmentation
// of sample i in epoch e is the same whichever thread computes it and in whatever order.
#pragma once
#include <cstdint>

#include "engine/ops/random.h"

namespace clipt::data {

// Stream kinds: separate keys so that, e.g., the shuffle of epoch 3 never shares draws with the
// augmentation of epoch 3.
enum class RngStream : uint64_t {
  Augment = 1,  // per-sample crop / flip decisions of the main epoch stream
  Shuffle = 2,  // the sampler's permutation
  FewShot = 3,  // k-shot selection
  Extra = 16,   // on-demand loads (DPC negatives): Extra + caller's stream id
};

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Each sample index gets 2^16 Philox blocks (2^18 words): far more than any transform draws.
constexpr int kSampleCounterBits = 16;

inline Generator stream_generator(uint64_t seed, uint64_t epoch, uint64_t stream, uint64_t index = 0) {
  const uint64_t key = splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ stream);
  Generator g(key);
  g.set_state(key, index << kSampleCounterBits);
  return g;
}

// Augmentation draws of sample `index`: stream_id 0 is the main epoch stream, stream_id k > 0 an extra
// stream (e.g. DPC's negative images, one stream per training step).
inline Generator sample_generator(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream_id = 0) {
  const uint64_t stream = stream_id == 0 ? uint64_t(RngStream::Augment) : uint64_t(RngStream::Extra) + stream_id;
  return stream_generator(seed, epoch, stream, index);
}

}  // namespace clipt::data
