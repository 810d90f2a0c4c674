#include "data/world/pretrain_stream.h"

#include "data/world/captions.h"
#include "engine/core/error.h"
#include "engine/ops/random.h"
#include "kernels/philox.h"

namespace clipt::world {

PretrainStream::PretrainStream(PretrainSpec spec) : spec_(std::move(spec)) {
  CLIPT_CHECK(spec_.image_size > 0 && spec_.image_size <= 4096, "world pretrain: image_size {} not in [1, 4096]",
              spec_.image_size);
  float total = 0.0f;
  for (int s = 0; s < kNumStyles; ++s) {
    CLIPT_CHECK(spec_.style_weights[size_t(s)] >= 0.0f, "world pretrain: style weight of '{}' is negative ({})",
                style_name(Style(s)), spec_.style_weights[size_t(s)]);
    total += spec_.style_weights[size_t(s)];
    cumulative_[size_t(s)] = total;
  }
  CLIPT_CHECK(total > 0.0f, "world pretrain: all style weights are zero");
  CLIPT_CHECK(spec_.colour_group >= 1, "world pretrain: colour_group {} must be at least 1", spec_.colour_group);
  for (float& c : cumulative_) c /= total;
  options_.distractor_probability = spec_.distractor_probability;
  if (spec_.holdout == Holdout::NewClassPairs) options_.excluded_pairs = new_class_pairs(make_classes(spec_.classes));
}

Scene PretrainStream::scene_at(uint64_t index) const {
  SceneOptions options = options_;
  const uint64_t style_seed = derive_seed(spec_.seed, kStreamPretrainStyle, index);
  const float u = philox::to_unit_float(uint32_t(style_seed >> 32));
  int style = 0;
  while (style + 1 < kNumStyles && u >= cumulative_[size_t(style)]) ++style;
  options.style = Style(style);
  if (spec_.colour_group > 1) {
    Generator group(derive_seed(spec_.seed, kStreamPretrainColourGroup, index / uint64_t(spec_.colour_group)));
    options.colour = Colour(group.randint(0, kNumColours));
  }
  return sample_scene(options, derive_seed(spec_.seed, kStreamPretrainScene, index));
}

std::string PretrainStream::caption_at(uint64_t index) const {
  return caption(scene_at(index), derive_seed(spec_.seed, kStreamPretrainCaption, index));
}

std::string PretrainStream::render_at(uint64_t index, uint8_t* rgb) const {
  const Scene scene = scene_at(index);
  render(scene, spec_.image_size, spec_.image_size, rgb);
  return caption(scene, derive_seed(spec_.seed, kStreamPretrainCaption, index));
}

PretrainSample PretrainStream::at(uint64_t index) const {
  PretrainSample s;
  s.scene = scene_at(index);
  s.image = render(s.scene, spec_.image_size, spec_.image_size);
  s.caption = caption(s.scene, derive_seed(spec_.seed, kStreamPretrainCaption, index));
  return s;
}

}  // namespace clipt::world
