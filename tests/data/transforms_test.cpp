// Transforms against PIL / torchvision (fixtures from tests/golden/make_transform_fixtures.py):
// resampling within one grey level (we expect exact), the pipelines, RandomResizedCrop's box sampling
// with injected draws, Resize(int) and CenterCrop rules, ToTensor + Normalize values.
#include "data/transforms.h"

#include <cmath>
#include <random>

#include "data/resample.h"
#include "data/sample_rng.h"
#include "tests/data/data_test_util.h"

namespace clipt::data {
namespace {

using test::data_fixtures;
using test::diff_images;

const nlohmann::json& fixtures() {
  static const nlohmann::json j = test::read_json_file(data_fixtures() / "transforms.json");
  return j;
}

Image load_input(const std::string& name) { return read_image(data_fixtures() / "inputs" / name); }

TEST(Resample, MatchesPilResize) {
  int exact = 0, total = 0;
  for (const auto& c : fixtures()["resize"]) {
    const Image src = load_input(c["input"]);
    ImageView view = view_of(src);
    if (!c["box"].is_null()) {  // PIL crop(box) then resize
      const auto b = c["box"].get<std::vector<int>>();
      view = crop_view(view, b[0], b[1], b[2] - b[0], b[3] - b[1]);
    }
    const Interpolation interp = parse_interpolation(c["filter"].get<std::string>());
    const Image ours = resample(view, c["width"], c["height"], interp);
    const Image pil = read_image(data_fixtures() / "resize" / c["expected"].get<std::string>());
    const auto d = diff_images(ours, pil);
    EXPECT_GE(d.max_abs, 0) << c["expected"] << ": size differs";
    EXPECT_LE(d.max_abs, 1) << c["expected"] << ": " << d.differing << " bytes differ";
    exact += d.max_abs == 0;
    ++total;
  }
  EXPECT_GE(total, 30);
  EXPECT_EQ(exact, total) << "resizes within one grey level but not bit-exact";
}

// The windowed resize (used to fuse resize + center crop) computes the same pixels as the full one.
TEST(Resample, OutputWindowEqualsCropOfFullResize) {
  const Image src = load_input("small_97x61.png");
  for (auto interp : {Interpolation::Bicubic, Interpolation::Bilinear}) {
    const Image full = resample(view_of(src), 150, 94, interp);
    for (OutputWindow w : {OutputWindow{0, 0, 150, 94}, OutputWindow{10, 3, 64, 80}, OutputWindow{149, 93, 1, 1},
                           OutputWindow{33, 0, 50, 94}}) {
      const Image part = resample(view_of(src), 150, 94, interp, {}, w);
      ASSERT_EQ(part.width, w.width);
      ASSERT_EQ(part.height, w.height);
      int worst = 0;
      for (int y = 0; y < w.height; ++y)
        for (int x = 0; x < w.width; ++x)
          for (int c = 0; c < 3; ++c)
            worst = std::max(worst, std::abs(int(part.at(x, y, c)) - int(full.at(w.x + x, w.y + y, c))));
      EXPECT_EQ(worst, 0);
    }
  }
}

// AVX2 and scalar inner loops give identical pixels on awkward sizes.
TEST(Resample, SimdEqualsScalar) {
  if (!detail::resample_simd_available()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(3);
  for (int trial = 0; trial < 40; ++trial) {
    const int w = 1 + int(rng() % 90), h = 1 + int(rng() % 70);
    Image src(w, h);
    for (auto& v : src.pixels) v = uint8_t(rng() % 256);
    const int ow = 1 + int(rng() % 120), oh = 1 + int(rng() % 120);
    const auto interp = trial % 2 ? Interpolation::Bicubic : Interpolation::Bilinear;
    detail::set_resample_simd(true);
    const Image a = resample(view_of(src), ow, oh, interp);
    detail::set_resample_simd(false);
    const Image b = resample(view_of(src), ow, oh, interp);
    detail::set_resample_simd(true);
    EXPECT_EQ(diff_images(a, b).max_abs, 0) << w << "x" << h << " → " << ow << "x" << oh;
  }
}

TEST(Resample, FloatBoxAndErrors) {
  const Image src = load_input("small_97x61.png");
  // A box covering the whole image equals no box.
  EXPECT_EQ(diff_images(resample(view_of(src), 40, 30, Interpolation::Bicubic, ResampleBox{0, 0, 97, 61}),
                        resample(view_of(src), 40, 30, Interpolation::Bicubic))
                .max_abs,
            0);
  EXPECT_ERROR_CONTAINS(resample(view_of(src), 0, 30, Interpolation::Bicubic), "output size");
  EXPECT_ERROR_CONTAINS(resample(view_of(src), 10, 10, Interpolation::Bicubic, ResampleBox{0, 0, 98, 61}), "box");
  EXPECT_ERROR_CONTAINS(parse_interpolation("lanczos"), "lanczos");
}

TEST(Pipeline, TestTransformMatchesTorchvision) {
  TransformConfig config;  // 224, bicubic, CLIP mean/std
  const ImageTransform transform = ImageTransform::test(config);
  Generator unused(0);
  ASSERT_EQ(fixtures()["pipeline"].size(), 6u);
  for (const auto& c : fixtures()["pipeline"]) {
    const auto encoded = EncodedImage::read(data_fixtures() / "inputs" / c["input"].get<std::string>());
    const Image expected = read_image(data_fixtures() / "pipeline" / c["expected"].get<std::string>());
    Image ours;
    if (c["kind"] == "test") {
      ours = transform.apply_pixels(encoded, unused);
    } else {  // F.resized_crop(img, i, j, h, w, 224, bicubic)
      const auto b = c["box"].get<std::vector<int>>();
      const Image full = decode(encoded).image;
      ours = resample(crop_view(view_of(full), b[1], b[0], b[3], b[2]), 224, 224, Interpolation::Bicubic);
    }
    const auto d = diff_images(ours, expected);
    EXPECT_EQ(d.max_abs, 0) << c["expected"] << ": " << d.differing << " bytes differ";
  }
}

TEST(Pipeline, NormalizeMatchesTorchvisionBitForBit) {
  const auto& n = fixtures()["normalize"];
  const Normalizer norm(kClipMean, kClipStd);
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      EXPECT_EQ(norm.table[size_t(c)][size_t(v)], n["values"][size_t(c)][size_t(v)].get<float>())
          << "channel " << c << " value " << v;
  const Normalizer plain(kClipMean, kClipStd, /*normalize=*/false);
  for (int v = 0; v < 256; ++v) EXPECT_EQ(plain.table[0][size_t(v)], fixtures()["to_tensor"][size_t(v)].get<float>());
}

TEST(Pipeline, ToChwLayoutAndFlip) {
  const Image img = test::test_picture(5, 3, 1);
  const Normalizer plain(kClipMean, kClipStd, false);
  std::vector<float> out(3 * 5 * 3), flipped(3 * 5 * 3);
  plain.to_chw(img, false, out.data());
  plain.to_chw(img, true, flipped.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x) {
        EXPECT_EQ(out[size_t(c * 15 + y * 5 + x)], float(img.at(x, y, c)) / 255.0f);
        EXPECT_EQ(flipped[size_t(c * 15 + y * 5 + x)], float(img.at(4 - x, y, c)) / 255.0f);
      }
}

TEST(RandomResizedCrop, BoxesMatchTorchvisionForTheSameDraws) {
  int fallbacks = 0;
  ASSERT_GE(fixtures()["random_resized_crop"].size(), 90u);
  for (const auto& c : fixtures()["random_resized_crop"]) {
    const auto draws = c["draws"].get<std::vector<double>>();
    size_t used = 0;
    const CropBox box = random_resized_crop_box(c["height"], c["width"], RandomResizedCropParams{}, [&] {
      EXPECT_LT(used, draws.size()) << "more draws consumed than torchvision";
      return used < draws.size() ? draws[used++] : 0.5;
    });
    EXPECT_EQ(used, draws.size()) << "draw count differs for " << c.dump();
    const auto e = c["expected"].get<std::vector<int>>();
    EXPECT_EQ((std::vector<int>{box.top, box.left, box.height, box.width}), e) << c.dump();
    fallbacks += draws.size() == 20;  // ten failed attempts, two draws each
  }
  EXPECT_GT(fallbacks, 0) << "the fixtures should exercise the central-crop fallback";
}

TEST(RandomResizedCrop, FallbackIsCentralAndRatioClamped) {
  auto always = [](double u) { return [u] { return u; }; };
  // Every attempt asks for the whole area at ratio 4/3: never fits a 100x30 (w x h) strip.
  CropBox b = random_resized_crop_box(30, 100, {}, always(0.9999999));
  EXPECT_EQ(b.height, 30);
  EXPECT_EQ(b.width, 40);  // round(30 · 4/3)
  EXPECT_EQ(b.top, 0);
  EXPECT_EQ(b.left, 30);
  b = random_resized_crop_box(100, 30, {}, always(0.9999999));  // tall: w = width, h = round(w / (3/4))
  EXPECT_EQ(b.width, 30);
  EXPECT_EQ(b.height, 40);
  EXPECT_EQ(b.top, 30);
  EXPECT_EQ(b.left, 0);
}

TEST(RandomResizedCrop, InvariantsUnderOurGenerator) {
  Generator gen = sample_generator(5, 0, 0);
  for (int i = 0; i < 2000; ++i) {
    const int h = 1 + int(gen.randint(0, 600)), w = 1 + int(gen.randint(0, 600));
    const CropBox b = random_resized_crop_box(h, w, {}, [&] { return gen.uniform(); });
    ASSERT_GT(b.height, 0);
    ASSERT_GT(b.width, 0);
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_LE(b.top + b.height, h);
    ASSERT_LE(b.left + b.width, w);
  }
}

TEST(Geometry, ResizeShorterSideAndCenterCropMatchTorchvision) {
  for (const auto& c : fixtures()["resize_shorter"]) {
    const auto got = resize_shorter_side(c["height"], c["width"], c["size"]);
    EXPECT_EQ((std::vector<int>{got[0], got[1]}), c["expected"].get<std::vector<int>>()) << c.dump();
  }
  for (const auto& c : fixtures()["center_crop"]) {
    const CropBox b = center_crop_box(c["height"], c["width"], c["crop_height"], c["crop_width"]);
    EXPECT_EQ((std::vector<int>{b.top, b.left}), c["expected"].get<std::vector<int>>()) << c.dump();
  }
}

TEST(Geometry, CenterCropPadsLikeTorchvision) {
  const Image img = test::test_picture(3, 2, 0);
  const Image out = center_crop(img, 4, 6);  // pad left 1, right 2 (width 3→6), top 1, bottom 1
  ASSERT_EQ(out.width, 6);
  ASSERT_EQ(out.height, 4);
  EXPECT_EQ(out.at(0, 0, 0), 0);
  EXPECT_EQ(out.at(1, 1, 0), img.at(0, 0, 0));
  EXPECT_EQ(out.at(3, 2, 2), img.at(2, 1, 2));
  EXPECT_EQ(out.at(4, 2, 0), 0);
}

TEST(ImageTransformTrain, DeterministicPerSampleAndExactWithoutDctScaling) {
  TransformConfig config;
  config.dct_scaling_train = false;
  const ImageTransform train = ImageTransform::train(config);
  const auto encoded = EncodedImage::read(data_fixtures() / "inputs" / "photo_500x375.jpg");
  const Image full = decode(encoded).image;
  int flips = 0;
  for (int index = 0; index < 20; ++index) {
    Generator g1 = sample_generator(11, 2, uint64_t(index));
    Generator g2 = sample_generator(11, 2, uint64_t(index));
    bool flipped = false;
    const Image a = train.apply_pixels(encoded, g1, &flipped);
    const Image b = train.apply_pixels(encoded, g2);
    EXPECT_EQ(diff_images(a, b).max_abs, 0);
    flips += flipped;
    // Recompute with the same draws: box from the generator, PIL-exact crop + resize, then flip.
    Generator g3 = sample_generator(11, 2, uint64_t(index));
    const CropBox box = random_resized_crop_box(375, 500, {}, [&] { return g3.uniform(); });
    const bool flip = g3.uniform() < 0.5;
    EXPECT_EQ(flip, flipped);
    Image expected =
        resample(crop_view(view_of(full), box.left, box.top, box.width, box.height), 224, 224, Interpolation::Bicubic);
    if (flip) expected = hflip(expected);
    EXPECT_EQ(diff_images(a, expected).max_abs, 0) << "sample " << index;
  }
  EXPECT_GT(flips, 2);
  EXPECT_LT(flips, 18);
}

TEST(ImageTransformTrain, DctScalingStaysCloseToExact) {
  // A large image so that crops are often ≥ 2× the target and the scaled path is taken.
  const Image big = test::test_picture(1200, 900, 2);
  const auto encoded = EncodedImage::from_bytes(encode_jpeg(big, 92), "big.jpg");
  TransformConfig exact_cfg, fast_cfg;
  exact_cfg.dct_scaling_train = false;
  fast_cfg.dct_scaling_train = true;
  const ImageTransform exact = ImageTransform::train(exact_cfg), fast = ImageTransform::train(fast_cfg);
  for (int index = 0; index < 8; ++index) {
    Generator g1 = sample_generator(1, 0, uint64_t(index)), g2 = sample_generator(1, 0, uint64_t(index));
    const Image a = exact.apply_pixels(encoded, g1), b = fast.apply_pixels(encoded, g2);
    double total = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i) total += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    EXPECT_LT(total / double(a.pixels.size()), 3.0) << "sample " << index;
  }
}

TEST(ImageTransformTrain, ApplyWritesNormalisedChw) {
  TransformConfig config;
  config.height = 32;
  config.width = 48;
  const ImageTransform train = ImageTransform::train(config);
  const auto encoded = EncodedImage::read(data_fixtures() / "inputs" / "small_97x61.png");
  Generator g1 = sample_generator(3, 1, 4), g2 = sample_generator(3, 1, 4);
  std::vector<float> out(train.image_floats());
  train.apply(encoded, g1, out.data());
  const Image pixels = train.apply_pixels(encoded, g2);  // flip already applied
  ASSERT_EQ(pixels.width, 48);
  ASSERT_EQ(pixels.height, 32);
  const Normalizer norm(kClipMean, kClipStd);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 48; ++x)
        ASSERT_EQ(out[size_t(c * 32 * 48 + y * 48 + x)], norm.table[size_t(c)][pixels.at(x, y, c)]);
}

TEST(ImageTransformConfig, ResizeOnlyAndUnsupportedNames) {
  TransformConfig config;
  config.transforms = {"random_flip", "normalize"};  // no crop: Dassl resizes to INPUT.SIZE exactly
  config.height = 20;
  config.width = 30;
  config.dct_scaling_train = false;
  const ImageTransform t = ImageTransform::train(config);
  const auto encoded = EncodedImage::read(data_fixtures() / "inputs" / "small_97x61.png");
  Generator g = sample_generator(0, 0, 0);
  bool flipped = false;
  Image got = t.apply_pixels(encoded, g, &flipped);
  Image expected = resample(view_of(decode(encoded).image), 30, 20, Interpolation::Bicubic);
  if (flipped) expected = hflip(expected);
  EXPECT_EQ(diff_images(got, expected).max_abs, 0);

  config.transforms = {"random_resized_crop", "cutout"};
  EXPECT_ERROR_CONTAINS(ImageTransform::train(config), "cutout");
  config.transforms = {"normalize"};
  config.rrc_scale_min = 0;
  EXPECT_ERROR_CONTAINS(ImageTransform::train(config), "RRCROP_SCALE");
}

}  // namespace
}  // namespace clipt::data
