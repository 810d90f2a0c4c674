// torchvision / Dassl transforms over PIL-exact resampling (see transforms.h).
#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/core/error.h"
#include "kernels/normalize_images_math.h"

namespace clipt::data {
namespace {

// Python's round() for the non-negative values used here: half to even.
int round_half_even(double v) { return int(std::nearbyint(v)); }

// torch.empty(1).uniform_(a, b) in float32: u·(b − a) + a, each operation rounded to float.
double uniform_float32(double u, double a, double b) {
  const float fa = float(a), fb = float(b), fu = float(u);
  const float span = fb - fa;
  const float scaled = fu * span;
  const float value = scaled + fa;
  return double(value);
}

// torch.randint(lo, hi) from one uniform draw: lo + floor(u · (hi − lo)).
int randint_from(double u, int lo, int hi) {
  const int n = hi - lo;
  int k = int(std::floor(u * n));
  if (k >= n) k = n - 1;
  return lo + std::max(k, 0);
}

bool contains(const std::vector<std::string>& list, const char* name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

std::array<int, 2> resize_shorter_side(int height, int width, int size) {
  CLIPT_CHECK(height > 0 && width > 0 && size > 0, "resize: bad sizes (image {}x{}, target {})", width, height, size);
  const bool width_is_short = width <= height;
  const int shorter = width_is_short ? width : height, longer = width_is_short ? height : width;
  const int new_long = int(double(size) * double(longer) / double(shorter));  // int() truncates, as Python
  return width_is_short ? std::array<int, 2>{new_long, size} : std::array<int, 2>{size, new_long};
}

CropBox center_crop_box(int height, int width, int crop_height, int crop_width) {
  CropBox box;
  box.height = crop_height;
  box.width = crop_width;
  box.top = round_half_even((height - crop_height) / 2.0);
  box.left = round_half_even((width - crop_width) / 2.0);
  return box;
}

CropBox random_resized_crop_box(int height, int width, const RandomResizedCropParams& params,
                                const std::function<double()>& uniform01) {
  CLIPT_CHECK(height > 0 && width > 0, "random_resized_crop: empty image {}x{}", width, height);
  const double area = double(height) * double(width);
  // torch.log(torch.tensor(ratio)) is float32.
  const double log_lo = double(std::log(float(params.ratio_min)));
  const double log_hi = double(std::log(float(params.ratio_max)));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform_float32(uniform01(), params.scale_min, params.scale_max);
    const double aspect_ratio = double(std::exp(float(uniform_float32(uniform01(), log_lo, log_hi))));
    const int w = round_half_even(std::sqrt(target_area * aspect_ratio));
    const int h = round_half_even(std::sqrt(target_area / aspect_ratio));
    if (0 < w && w <= width && 0 < h && h <= height) {
      CropBox box;
      box.height = h;
      box.width = w;
      box.top = randint_from(uniform01(), 0, height - h + 1);
      box.left = randint_from(uniform01(), 0, width - w + 1);
      return box;
    }
  }
  // Fallback to the central crop, clamped to the ratio range.
  const double in_ratio = double(width) / double(height);
  const double rmin = std::min(params.ratio_min, params.ratio_max), rmax = std::max(params.ratio_min, params.ratio_max);
  CropBox box;
  if (in_ratio < rmin) {
    box.width = width;
    box.height = round_half_even(box.width / rmin);
  } else if (in_ratio > rmax) {
    box.height = height;
    box.width = round_half_even(box.height * rmax);
  } else {
    box.width = width;
    box.height = height;
  }
  box.top = (height - box.height) / 2;  // floor division of non-negative values
  box.left = (width - box.width) / 2;
  return box;
}

Normalizer::Normalizer(const std::array<float, 3>& mean, const std::array<float, 3>& std, bool normalize) {
  for (int c = 0; c < 3; ++c) {
    CLIPT_CHECK(!normalize || std[size_t(c)] != 0.0f, "normalize: INPUT.PIXEL_STD[{}] is zero", c);
    // ToTensor (img.float().div(255)) then Normalize; without Normalize, mean 0 and std 1 leave x exact.
    const float m = normalize ? mean[size_t(c)] : 0.0f, sd = normalize ? std[size_t(c)] : 1.0f;
    for (int v = 0; v < 256; ++v) table[size_t(c)][size_t(v)] = kernels::normalize_pixel(uint8_t(v), m, sd);
  }
}

void Normalizer::to_chw(const Image& image, bool flip, float* out) const {
  const size_t plane = size_t(image.width) * size_t(image.height);
  float* r = out;
  float* g = out + plane;
  float* b = out + 2 * plane;
  const auto& tr = table[0];
  const auto& tg = table[1];
  const auto& tb = table[2];
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* src = image.row(y);
    const size_t base = size_t(y) * size_t(image.width);
    if (!flip) {
      for (int x = 0; x < image.width; ++x) {
        r[base + size_t(x)] = tr[src[3 * x]];
        g[base + size_t(x)] = tg[src[3 * x + 1]];
        b[base + size_t(x)] = tb[src[3 * x + 2]];
      }
    } else {
      const int last = image.width - 1;
      for (int x = 0; x < image.width; ++x) {
        const uint8_t* p = src + 3 * (last - x);
        r[base + size_t(x)] = tr[p[0]];
        g[base + size_t(x)] = tg[p[1]];
        b[base + size_t(x)] = tb[p[2]];
      }
    }
  }
}

void to_chw_u8(const Image& image, bool flip, uint8_t* out) {
  const size_t plane = size_t(image.width) * size_t(image.height);
  uint8_t* r = out;
  uint8_t* g = out + plane;
  uint8_t* b = out + 2 * plane;
  const int last = image.width - 1;
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* src = image.row(y);
    const size_t base = size_t(y) * size_t(image.width);
    for (int x = 0; x < image.width; ++x) {
      const uint8_t* p = src + 3 * (flip ? last - x : x);
      r[base + size_t(x)] = p[0];
      g[base + size_t(x)] = p[1];
      b[base + size_t(x)] = p[2];
    }
  }
}

const std::vector<std::string>& supported_transforms() {
  static const std::vector<std::string> names{"random_resized_crop", "random_flip", "center_crop", "normalize"};
  return names;
}

int choose_dct_scale(int kept_height, int kept_width, int target_height, int target_width) {
  for (int d : {8, 4, 2})
    if (kept_width >= d * target_width && kept_height >= d * target_height) return d;
  return 1;
}

ImageTransform::ImageTransform(const TransformConfig& config, bool train)
    : config_(config), train_(train), normalizer_(config.mean, config.std, contains(config.transforms, "normalize")) {
  CLIPT_CHECK(config.height > 0 && config.width > 0, "INPUT.SIZE must be positive, got [{}, {}]", config.height,
              config.width);
  for (const auto& name : config.transforms) {
    CLIPT_CHECK(contains(supported_transforms(), name.c_str()),
                "INPUT.TRANSFORMS: unsupported transform \"{}\" (supported: {})", name,
                fmt::join(supported_transforms(), ", "));
  }
  CLIPT_CHECK(config.rrc_scale_min > 0 && config.rrc_scale_min <= config.rrc_scale_max && config.rrc_scale_max <= 1.0,
              "INPUT.RRCROP_SCALE must satisfy 0 < min <= max <= 1, got ({}, {})", config.rrc_scale_min,
              config.rrc_scale_max);
  random_resized_crop_ = contains(config.transforms, "random_resized_crop");
  center_crop_ = contains(config.transforms, "center_crop");
  random_flip_ = contains(config.transforms, "random_flip");
  normalize_ = contains(config.transforms, "normalize");
}

ImageTransform ImageTransform::train(const TransformConfig& config) { return ImageTransform(config, true); }
ImageTransform ImageTransform::test(const TransformConfig& config) { return ImageTransform(config, false); }

std::string ImageTransform::describe() const {
  const std::string size = fmt::format("{}x{}", config_.width, config_.height);
  const char* interp = interpolation_name(config_.interpolation);
  std::vector<std::string> steps;
  if (train_) {
    if (random_resized_crop_)
      steps.push_back(fmt::format("random_resized_crop({}, scale=({}, {}), {})", size, config_.rrc_scale_min,
                                  config_.rrc_scale_max, interp));
    else
      steps.push_back(fmt::format("resize({}, {})", size, interp));
    if (center_crop_) steps.push_back(fmt::format("center_crop({})", size));
    if (random_flip_) steps.push_back("random_flip(0.5)");
  } else {
    steps.push_back(fmt::format("resize(shorter side {}, {})", std::max(config_.height, config_.width), interp));
    steps.push_back(fmt::format("center_crop({})", size));
  }
  steps.push_back("to_tensor");
  if (normalize_) steps.push_back("normalize(clip mean/std)");
  const bool dct = train_ ? config_.dct_scaling_train : config_.dct_scaling_test;
  if (dct) steps.push_back("[JPEG DCT scaling on]");
  return fmt::format("{}", fmt::join(steps, " → "));
}

namespace {

// Resamples the float box `box` (full-resolution pixel units) of `encoded` to out_h × out_w,
// decoding a JPEG at 1/d scale (d from choose_dct_scale when allowed) and only around the box.
Image resample_box(const EncodedImage& encoded, double x0, double y0, double x1, double y1, int out_h, int out_w,
                   Interpolation interpolation, bool allow_dct, OutputWindow window = {}) {
  if (encoded.format() != ImageFormat::Jpeg) {
    const DecodedImage full = decode(encoded);
    const int ix0 = int(std::floor(x0)), iy0 = int(std::floor(y0));
    const int ix1 = std::min(int(std::ceil(x1)), full.full_width), iy1 = std::min(int(std::ceil(y1)), full.full_height);
    const ImageView v = crop_view(view_of(full.image), ix0, iy0, ix1 - ix0, iy1 - iy0);
    return resample(v, out_w, out_h, interpolation, ResampleBox{x0 - ix0, y0 - iy0, x1 - ix0, y1 - iy0}, window);
  }
  // Only what the output window reads would be needed; keeping the whole box is simpler and the
  // windowed users (test transform) keep most of it anyway.
  int d = 1;
  if (allow_dct) d = choose_dct_scale(int(y1 - y0), int(x1 - x0), out_h, out_w);
  const int scaled_w = (encoded.width() + d - 1) / d, scaled_h = (encoded.height() + d - 1) / d;
  const double sx0 = x0 / d, sy0 = y0 / d, sx1 = std::min(x1 / d, double(scaled_w)),
               sy1 = std::min(y1 / d, double(scaled_h));
  DecodeRequest request;
  request.scale_denom = d;
  request.has_region = true;
  request.region.x = int(std::floor(sx0));
  request.region.y = int(std::floor(sy0));
  request.region.width = std::min(int(std::ceil(sx1)), scaled_w) - request.region.x;
  request.region.height = std::min(int(std::ceil(sy1)), scaled_h) - request.region.y;
  const DecodedImage decoded = decode(encoded, request);
  const ImageView v = crop_view(view_of(decoded.image), request.region.x - decoded.origin_x,
                                request.region.y - decoded.origin_y, request.region.width, request.region.height);
  const ResampleBox box{sx0 - request.region.x, sy0 - request.region.y, sx1 - request.region.x, sy1 - request.region.y};
  return resample(v, out_w, out_h, interpolation, box, window);
}

}  // namespace

Image ImageTransform::train_pixels(const EncodedImage& encoded, Generator& rng, bool* flipped) const {
  const int H = config_.height, W = config_.width;
  Image out;
  if (random_resized_crop_) {
    RandomResizedCropParams params;
    params.scale_min = config_.rrc_scale_min;
    params.scale_max = config_.rrc_scale_max;
    const CropBox box =
        random_resized_crop_box(encoded.height(), encoded.width(), params, [&] { return rng.uniform(); });
    out = resample_box(encoded, box.left, box.top, box.left + box.width, box.top + box.height, H, W,
                       config_.interpolation, config_.dct_scaling_train);
  } else {
    out = resample_box(encoded, 0, 0, encoded.width(), encoded.height(), H, W, config_.interpolation,
                       config_.dct_scaling_train);
  }
  // "center_crop" after a resize to INPUT.SIZE keeps the image as it is (Dassl's CenterCrop(INPUT.SIZE)).
  bool flip = false;
  if (random_flip_) flip = rng.uniform() < 0.5;  // torch.rand(1) < p
  if (flipped) *flipped = flip;
  return out;
}

Image ImageTransform::test_pixels(const EncodedImage& encoded) const {
  const int H = config_.height, W = config_.width;
  const auto [new_h, new_w] = resize_shorter_side(encoded.height(), encoded.width(), std::max(H, W));
  const CropBox crop = center_crop_box(new_h, new_w, H, W);
  if (crop.top >= 0 && crop.left >= 0 && crop.top + H <= new_h && crop.left + W <= new_w) {
    // Resize fused with the crop: only the kept output pixels are computed (identical values).
    return resample_box(encoded, 0, 0, encoded.width(), encoded.height(), new_h, new_w, config_.interpolation,
                        config_.dct_scaling_test, OutputWindow{crop.left, crop.top, W, H});
  }
  const Image resized = resample_box(encoded, 0, 0, encoded.width(), encoded.height(), new_h, new_w,
                                     config_.interpolation, config_.dct_scaling_test);
  return center_crop(resized, H, W);
}

Image ImageTransform::apply_pixels(const EncodedImage& encoded, Generator& rng, bool* flipped) const {
  if (!train_) {
    if (flipped) *flipped = false;
    return test_pixels(encoded);
  }
  bool flip = false;
  Image img = train_pixels(encoded, rng, &flip);
  if (flipped) *flipped = flip;
  return flip ? hflip(img) : img;
}

Image ImageTransform::output_pixels(const EncodedImage& encoded, Generator& rng, bool* flip) const {
  *flip = false;
  Image img = train_ ? train_pixels(encoded, rng, flip) : test_pixels(encoded);
  CLIPT_CHECK(img.width == config_.width && img.height == config_.height,
              "transform of {} produced {}x{} instead of {}x{}", encoded.name(), img.width, img.height, config_.width,
              config_.height);
  return img;
}

void ImageTransform::apply(const EncodedImage& encoded, Generator& rng, float* out) const {
  bool flip = false;
  const Image img = output_pixels(encoded, rng, &flip);
  normalizer_.to_chw(img, flip, out);
}

void ImageTransform::apply_u8(const EncodedImage& encoded, Generator& rng, uint8_t* out) const {
  bool flip = false;
  const Image img = output_pixels(encoded, rng, &flip);
  to_chw_u8(img, flip, out);
}

std::array<float, 3> ImageTransform::pixel_mean() const {
  return normalize_ ? config_.mean : std::array<float, 3>{0.0f, 0.0f, 0.0f};
}

std::array<float, 3> ImageTransform::pixel_std() const {
  return normalize_ ? config_.std : std::array<float, 3>{1.0f, 1.0f, 1.0f};
}

Image resize(const Image& image, int out_height, int out_width, Interpolation interpolation) {
  return resample(view_of(image), out_width, out_height, interpolation);
}

Image center_crop(const Image& image, int crop_height, int crop_width) {
  CLIPT_CHECK(crop_height > 0 && crop_width > 0, "center_crop: size must be positive, got {}x{}", crop_width,
              crop_height);
  // torchvision pads with zeros (left/top get the floor half) when the crop is larger, then crops.
  const int pad_left = crop_width > image.width ? (crop_width - image.width) / 2 : 0;
  const int pad_top = crop_height > image.height ? (crop_height - image.height) / 2 : 0;
  const int pad_right = crop_width > image.width ? (crop_width - image.width + 1) / 2 : 0;
  const int pad_bottom = crop_height > image.height ? (crop_height - image.height + 1) / 2 : 0;
  const int W = image.width + pad_left + pad_right, H = image.height + pad_top + pad_bottom;
  const CropBox box = center_crop_box(H, W, crop_height, crop_width);
  Image out(crop_width, crop_height);  // zero-initialised
  for (int y = 0; y < crop_height; ++y) {
    const int sy = box.top + y - pad_top;
    if (sy < 0 || sy >= image.height) continue;
    for (int x = 0; x < crop_width; ++x) {
      const int sx = box.left + x - pad_left;
      if (sx < 0 || sx >= image.width) continue;
      std::memcpy(out.row(y) + 3 * x, image.row(sy) + 3 * sx, 3);
    }
  }
  return out;
}

Image hflip(const Image& image) {
  Image out(image.width, image.height);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) std::memcpy(out.row(y) + 3 * x, image.row(y) + 3 * (image.width - 1 - x), 3);
  return out;
}

}  // namespace clipt::data
