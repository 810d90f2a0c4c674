#include "models/clip/preprocess.h"

#include "data/transforms.h"

namespace clipt::clip {

namespace {
data::ImageTransform clip_test_transform(int64_t resolution) {
  data::TransformConfig c;
  c.transforms = {"normalize"};
  c.height = c.width = int(resolution);
  c.interpolation = data::Interpolation::Bicubic;
  c.mean = data::kClipMean;
  c.std = data::kClipStd;
  c.dct_scaling_test = false;
  return data::ImageTransform::test(c);
}
}  // namespace

Tensor preprocess_images(const std::vector<std::filesystem::path>& paths, int64_t resolution) {
  const data::ImageTransform t = clip_test_transform(resolution);
  Tensor out = Tensor::empty({int64_t(paths.size()), 3, resolution, resolution});
  Generator unused(0);
  for (size_t i = 0; i < paths.size(); ++i)
    t.apply(data::EncodedImage::read(paths[i]), unused, out.data<float>() + i * t.image_floats());
  return out;
}

Tensor preprocess_image(const std::filesystem::path& path, int64_t resolution) {
  return preprocess_images({path}, resolution).select(0, 0);
}

}  // namespace clipt::clip
