// Image transforms with torchvision / Dassl semantics, and the train / test pipelines built from
// Dassl's INPUT.* keys.
//
// Dassl (`dassl/data/transforms/transforms.py`, build_transform) composes, for training:
//   Resize(INPUT.SIZE) only when neither random_crop nor random_resized_crop is listed,
//   RandomResizedCrop(INPUT.SIZE, scale=INPUT.RRCROP_SCALE, interpolation) if listed,
//   CenterCrop(INPUT.SIZE) if "center_crop" is listed, RandomHorizontalFlip() if "random_flip",
//   ToTensor(), Normalize(PIXEL_MEAN, PIXEL_STD) if "normalize";
// and for testing: Resize(max(INPUT.SIZE)) (shorter side), CenterCrop(INPUT.SIZE), ToTensor(),
// Normalize if listed. Images are PIL images, so every resize is Pillow's (resample.h).
//
// Randomness comes from a Generator the caller derives from (seed, epoch, sample index) — see
// sample_rng.h — so results do not depend on threads. We cannot reproduce torch's RNG stream; given
// the same uniform draws, the crop boxes equal torchvision's (tested by injecting draws into both).
#pragma once
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/resample.h"
#include "engine/ops/random.h"

namespace clipt::data {

// torchvision's (top, left, height, width) = (i, j, h, w).
struct CropBox {
  int top = 0, left = 0, height = 0, width = 0;
};

// torchvision Resize(int): the shorter side becomes `size`, the longer int(size * long / short).
// Returns {new_height, new_width}.
std::array<int, 2> resize_shorter_side(int height, int width, int size);

// torchvision CenterCrop: top = int(round((H − h) / 2.0)), left likewise, Python rounding (half to
// even). Negative offsets mean the image must be zero-padded first (torchvision pads when the crop is
// larger than the image).
CropBox center_crop_box(int height, int width, int crop_height, int crop_width);

// torchvision RandomResizedCrop.get_params with draws from `uniform01` (values in [0, 1)):
// up to 10 attempts of (area fraction ~ U(scale) and log aspect ~ U(log ratio), both as float32 like
// torch.empty(1).uniform_, w = round(sqrt(area·ratio)), h = round(sqrt(area/ratio))); an attempt that
// fits draws top ~ randint(0, H − h + 1) and left ~ randint(0, W − w + 1), taken as floor(u · n);
// otherwise the central crop fallback clamped to the ratio range.
struct RandomResizedCropParams {
  double scale_min = 0.08, scale_max = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
};
CropBox random_resized_crop_box(int height, int width, const RandomResizedCropParams& params,
                                const std::function<double()>& uniform01);

// CLIP's normalisation constants (the defaults of every CoOp config).
constexpr std::array<float, 3> kClipMean{0.48145466f, 0.4578275f, 0.40821073f};
constexpr std::array<float, 3> kClipStd{0.26862954f, 0.26130258f, 0.27577711f};

// ToTensor + Normalize into planar float: out[c·H·W + y·W + x] = (v/255 − mean[c]) / std[c] in float32,
// bit-identical to torchvision; `flip` mirrors horizontally (RandomHorizontalFlip) on the way. The table
// holds the formula of kernels/normalize_images_math.h, which the engine's normalize_images op (CPU and
// CUDA) computes from uint8 batches, so both paths give the same bits.
struct Normalizer {
  std::array<std::array<float, 256>, 3> table{};
  Normalizer(const std::array<float, 3>& mean, const std::array<float, 3>& std, bool normalize = true);
  void to_chw(const Image& image, bool flip, float* out) const;
};

// Planar uint8 without normalisation: out[c·H·W + y·W + x] = v, mirrored when `flip` (the loader's uint8
// batches, normalised later on the device by normalize_images).
void to_chw_u8(const Image& image, bool flip, uint8_t* out);

// Dassl's INPUT section, as far as the image pipeline is concerned.
struct TransformConfig {
  std::vector<std::string> transforms{"random_resized_crop", "random_flip", "normalize"};  // INPUT.TRANSFORMS
  int height = 224, width = 224;                                                           // INPUT.SIZE
  Interpolation interpolation = Interpolation::Bicubic;                                    // INPUT.INTERPOLATION
  std::array<float, 3> mean = kClipMean;                                                   // INPUT.PIXEL_MEAN
  std::array<float, 3> std = kClipStd;                                                     // INPUT.PIXEL_STD
  double rrc_scale_min = 0.08, rrc_scale_max = 1.0;                                        // INPUT.RRCROP_SCALE
  // Decode JPEGs at 1/2, 1/4 or 1/8 size (libjpeg DCT scaling) when what is kept is at least twice
  // the target size. Faster, but pixels differ from PIL's full decode + resize; so it is on for
  // training and off for testing by default, keeping evaluation PIL-exact.
  bool dct_scaling_train = true;
  bool dct_scaling_test = false;
};

// The transform names Dassl accepts that this pipeline implements.
const std::vector<std::string>& supported_transforms();

// One pipeline (train or test). Thread-safe: apply() only reads the object.
class ImageTransform {
 public:
  static ImageTransform train(const TransformConfig& config);
  static ImageTransform test(const TransformConfig& config);

  int out_height() const { return config_.height; }
  int out_width() const { return config_.width; }
  bool is_train() const { return train_; }
  // Floats per image: 3 · height · width.
  size_t image_floats() const { return size_t(3) * size_t(config_.height) * size_t(config_.width); }

  // Decodes and transforms into `out` (image_floats() floats, CHW). `rng` supplies the random
  // decisions (unused by the test pipeline).
  void apply(const EncodedImage& encoded, Generator& rng, float* out) const;
  // The same decisions and pixels, stopped before ToTensor: image_floats() uint8 values, CHW, flip applied.
  // normalize_images(batch, pixel_mean(), pixel_std()) then gives what apply() writes, bit for bit.
  void apply_u8(const EncodedImage& encoded, Generator& rng, uint8_t* out) const;
  // The constants of the pipeline's Normalize (INPUT.PIXEL_MEAN/STD), or mean 0 and std 1 when
  // "normalize" is not listed (ToTensor alone).
  std::array<float, 3> pixel_mean() const;
  std::array<float, 3> pixel_std() const;
  // The same up to (and excluding) ToTensor: the uint8 image and whether it was flipped (the flip is
  // applied to the returned pixels). For tests and debugging.
  Image apply_pixels(const EncodedImage& encoded, Generator& rng, bool* flipped = nullptr) const;

  // A human-readable description, e.g. "random_resized_crop(224x224, scale=(0.08, 1), bicubic) → ...".
  std::string describe() const;

 private:
  ImageTransform(const TransformConfig& config, bool train);
  Image train_pixels(const EncodedImage& encoded, Generator& rng, bool* flipped) const;
  Image test_pixels(const EncodedImage& encoded) const;
  // The pixels before ToTensor (unflipped; *flip says whether to mirror), checked to be the output size.
  Image output_pixels(const EncodedImage& encoded, Generator& rng, bool* flip) const;

  TransformConfig config_;
  bool train_ = true;
  bool random_resized_crop_ = false, center_crop_ = false, random_flip_ = false, normalize_ = false;
  Normalizer normalizer_;
};

// Pixel-level helpers shared with other users (CLIP preprocessing, the world generator).
Image resize(const Image& image, int out_height, int out_width, Interpolation interpolation);
Image center_crop(const Image& image, int crop_height, int crop_width);  // zero-pads like torchvision
Image hflip(const Image& image);

// Largest DCT reduction d ∈ {1, 2, 4, 8} with kept_width/d ≥ target_width and kept_height/d ≥
// target_height (d = 1 unless the kept region is at least twice the target on both axes).
int choose_dct_scale(int kept_height, int kept_width, int target_height, int target_width);

}  // namespace clipt::data
