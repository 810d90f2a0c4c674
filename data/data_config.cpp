#include "data/data_config.h"

#include "engine/core/error.h"

namespace clipt::data {

TransformConfig transform_config_from(const Config& config) {
  TransformConfig t;
  if (config.has("INPUT.SIZE")) {
    const auto size = config.get_list_int("INPUT.SIZE");
    CLIPT_CHECK(size.size() == 2 && size[0] > 0 && size[1] > 0,
                "config key INPUT.SIZE must be two positive integers (height, width), got {}",
                config.get("INPUT.SIZE").repr());
    t.height = int(size[0]);
    t.width = int(size[1]);
  }
  if (config.has("INPUT.INTERPOLATION"))
    t.interpolation = parse_interpolation(config.get_string("INPUT.INTERPOLATION"));
  for (const auto& [key, target] : {std::pair{"INPUT.PIXEL_MEAN", &t.mean}, std::pair{"INPUT.PIXEL_STD", &t.std}}) {
    if (!config.has(key)) continue;
    const auto values = config.get_list_float(key);
    CLIPT_CHECK(values.size() == 3, "config key {} must hold 3 numbers (R, G, B), got {}", key, config.get(key).repr());
    for (size_t c = 0; c < 3; ++c) (*target)[c] = float(values[c]);
  }
  if (config.has("INPUT.TRANSFORMS")) t.transforms = config.get_list_string("INPUT.TRANSFORMS");
  if (config.has("INPUT.RRCROP_SCALE")) {
    const auto scale = config.get_list_float("INPUT.RRCROP_SCALE");
    CLIPT_CHECK(scale.size() == 2, "config key INPUT.RRCROP_SCALE must hold 2 numbers, got {}",
                config.get("INPUT.RRCROP_SCALE").repr());
    t.rrc_scale_min = scale[0];
    t.rrc_scale_max = scale[1];
  }
  // Validate now, so a bad transform name is reported against the config rather than at first use.
  (void)ImageTransform::train(t);
  return t;
}

}  // namespace clipt::data
