// Launcher for Philox random fills (kernels/philox.h gives the stream layout shared with the CPU).
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

enum class RandomDist : uint8_t { Uniform, Normal, Bernoulli };  // mirrors the engine's RandomKind

// Fills n contiguous elements: element i of a uniform/bernoulli draw uses word i of the stream keyed by
// (seed, offset); a normal draw uses words 2i and 2i+1 (Box–Muller). Uniform in [a, b); normal with mean a
// and std b; bernoulli 1 with probability a.
cudaError_t random_fill(RandomDist dist, KDType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double a,
                        double b, cudaStream_t stream);

}  // namespace clipt::kernels
