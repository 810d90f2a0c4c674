// The pretraining corpus of the built-in world: an endless, indexable stream of (image, caption) pairs
// rendered on the fly, so CLIP pretraining needs no disk and any index can be regenerated exactly (a sample
// is a pure function of the spec and its index: shuffling, sharding and resuming are index arithmetic).
//
// Held-out combinations. By default (Holdout::NewClassPairs) no object in any pretraining image has the
// (colour, shape) of a new class of the benchmark class set: pretraining sees "red" and "square" in many
// other combinations but never a red square, so zero-shot accuracy on the new classes measures
// compositional transfer, and is still well above chance because CLIP learned the attributes separately.
// Holdout::None pretrains on every combination (the setting of real CLIP, whose web data contains the
// benchmark classes).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/world/classes.h"
#include "data/world/render.h"
#include "data/world/scene.h"

namespace clipt::world {

enum class Holdout { None, NewClassPairs };

struct PretrainSpec {
  uint64_t seed = 0;
  int image_size = 64;
  ClassSet classes = default_class_set();  // the benchmark whose new classes are held out
  Holdout holdout = Holdout::NewClassPairs;
  // Relative frequency of each render style (photo, sketch, cartoon, texture, noisy): mostly photos, but
  // every domain occurs, as drawings and noisy pictures do on the web.
  std::array<float, kNumStyles> style_weights = {0.6f, 0.1f, 0.1f, 0.1f, 0.1f};
  float distractor_probability = 0.3f;
  // Consecutive samples come in groups of this many whose subjects share one colour (1: no grouping).
  // A batch of contiguous indices then holds hard negatives that differ in shape: with independent
  // samples nearly every pair in a batch already differs in colour, contrastive learning stops there,
  // and the image tower never learns shape (measured: shape at chance after 600 steps).
  int colour_group = 1;
};

struct PretrainSample {
  Scene scene;
  Image image;
  std::string caption;
};

class PretrainStream {
 public:
  explicit PretrainStream(PretrainSpec spec);

  Scene scene_at(uint64_t index) const;
  std::string caption_at(uint64_t index) const;
  PretrainSample at(uint64_t index) const;
  // Renders sample `index` into `rgb` (image_size² × 3 bytes, RGB interleaved) and returns its caption:
  // the allocation-free path for data loaders.
  std::string render_at(uint64_t index, uint8_t* rgb) const;

  const PretrainSpec& spec() const { return spec_; }
  const std::vector<std::pair<Colour, Shape>>& held_out_pairs() const { return options_.excluded_pairs; }

 private:
  PretrainSpec spec_;
  SceneOptions options_;
  std::array<float, kNumStyles> cumulative_{};
};

// Seed streams of the world (see derive_seed): kept apart so that, e.g., benchmark test images and
// pretraining images never share a seed.
enum SeedStream : uint32_t {
  kStreamPretrainScene = 1,
  kStreamPretrainCaption = 2,
  kStreamPretrainStyle = 3,
  kStreamPretrainColourGroup = 4,
  kStreamBenchmark = 16,    // + style
  kStreamDgBenchmark = 32,  // + style
};

}  // namespace clipt::world
