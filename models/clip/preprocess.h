// CLIP's test-time image transform: resize the shorter side to the model resolution with PIL's bicubic
// filter (torchvision's Resize(int) size rule), center crop (torchvision's rounding), /255, normalise
// with CLIP's mean and std. Pixel-exact with PIL/torchvision (the data pipeline's test transform).
#pragma once
#include <filesystem>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt::clip {

// One image file → f32 [3, R, R]. A missing or corrupt file is an Error naming the path.
Tensor preprocess_image(const std::filesystem::path& path, int64_t resolution);
// Several files → f32 [N, 3, R, R].
Tensor preprocess_images(const std::vector<std::filesystem::path>& paths, int64_t resolution);

}  // namespace clipt::clip
