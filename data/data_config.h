// Dassl config keys → data-layer settings. The trainer defines the keys (with Dassl's defaults); these
// readers take whichever of them are defined, so the peers' YAML files drive the pipeline unchanged:
//   INPUT.SIZE, INPUT.INTERPOLATION, INPUT.PIXEL_MEAN, INPUT.PIXEL_STD, INPUT.TRANSFORMS,
//   INPUT.RRCROP_SCALE → TransformConfig.
#pragma once
#include "data/transforms.h"
#include "engine/config/config.h"

namespace clipt::data {

// Starts from TransformConfig's defaults (CoOp's recipe) and overrides what the config defines.
// Bad values (a SIZE that is not two positive ints, an unknown interpolation or transform) → Error
// naming the key.
TransformConfig transform_config_from(const Config& config);

}  // namespace clipt::data
