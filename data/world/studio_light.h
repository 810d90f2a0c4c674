// The light the world benchmarks (base-to-new and DG) are photographed under: a warm, slightly desaturating colour cast
// that the pretraining images never have. It is the downstream domain gap of the built-in world, the analogue of a real
// dataset's camera, season or sensor: zero-shot prompts ("a photo of a red circle.") do not know it, so zero-shot
// accuracy drops (red and orange, blue and purple drift together), while the image tower still separates the classes,
// so few-shot prompt tuning can learn the cast and win it back. Without it the benchmark is the pretraining
// distribution itself and nothing is left to tune for (measured: CoOp equals zero-shot on base classes at every
// learning rate tried).
#pragma once
#include <cstdint>

namespace clipt::world {

// Applies the cast in place to `pixels` (RGB interleaved, n_pixels·3 bytes). strength 0 leaves the image
// unchanged; 1 is the full cast: a 3×3 colour mixing toward warm tones plus a small warm offset.
void apply_studio_light(uint8_t* pixels, int64_t n_pixels, float strength);

}  // namespace clipt::world
