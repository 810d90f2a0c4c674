// Decoders against PIL's Image.open(...).convert("RGB") (fixtures from make_transform_fixtures.py),
// region and DCT-scaled decoding, writers, and the errors for bad files.
#include <random>

#include "data/image.h"
#include "data/resample.h"
#include "tests/data/data_test_util.h"

namespace clipt::data {
namespace {

using test::data_fixtures;
using test::diff_images;

std::vector<uint8_t> file_bytes(const std::filesystem::path& p) { return EncodedImage::read(p).bytes(); }

class DecodeMatchesPil : public ::testing::TestWithParam<std::string> {};

TEST_P(DecodeMatchesPil, Exactly) {
  const std::string name = GetParam();
  const Image ours = read_image(data_fixtures() / "inputs" / name);
  const Image pil = read_image(data_fixtures() / "decoded" / (name + ".png"));
  const auto d = diff_images(ours, pil);
  EXPECT_EQ(d.max_abs, 0) << name << ": " << d.differing << " bytes differ from PIL";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DecodeMatchesPil,
                         ::testing::Values("grey.png", "grey.jpg", "cmyk.jpg", "rgba.png", "grey_alpha.png",
                                           "palette.png", "bilevel.png", "grey16.png", "rgb16.png", "rgba16.png",
                                           "grey2bit.png", "small_97x61.png", "tall_64x200.png", "small_120x90.jpg",
                                           "progressive.jpg"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

TEST(ImageDecode, HeaderGivesSizeWithoutDecoding) {
  const auto jpg = EncodedImage::read(data_fixtures() / "inputs" / "photo_500x375.jpg");
  EXPECT_EQ(jpg.format(), ImageFormat::Jpeg);
  EXPECT_EQ(jpg.width(), 500);
  EXPECT_EQ(jpg.height(), 375);
  const auto png = EncodedImage::read(data_fixtures() / "inputs" / "tall_64x200.png");
  EXPECT_EQ(png.format(), ImageFormat::Png);
  EXPECT_EQ(png.width(), 64);
  EXPECT_EQ(png.height(), 200);
}

// Skipped rows and cropped columns must not change the pixels inside the region (fancy upsampling
// reads neighbouring rows; libjpeg-turbo has to handle that when skipping).
TEST(ImageDecode, JpegRegionEqualsFullDecode) {
  std::vector<std::string> files = {"photo_500x375.jpg", "small_120x90.jpg", "progressive.jpg", "grey.jpg", "cmyk.jpg"};
  std::mt19937 rng(7);
  for (const auto& file : files) {
    const auto encoded = EncodedImage::read(data_fixtures() / "inputs" / file);
    for (int denom : {1, 2, 4}) {
      DecodeRequest full_request;
      full_request.scale_denom = denom;
      const DecodedImage full = decode(encoded, full_request);
      EXPECT_EQ(full.full_width, (encoded.width() + denom - 1) / denom);
      EXPECT_EQ(full.full_height, (encoded.height() + denom - 1) / denom);
      for (int trial = 0; trial < 12; ++trial) {
        PixelRect r;
        r.width = 1 + int(rng() % unsigned(full.full_width));
        r.height = 1 + int(rng() % unsigned(full.full_height));
        r.x = int(rng() % unsigned(full.full_width - r.width + 1));
        r.y = int(rng() % unsigned(full.full_height - r.height + 1));
        DecodeRequest request = full_request;
        request.has_region = true;
        request.region = r;
        const DecodedImage part = decode(encoded, request);
        ASSERT_LE(part.origin_x, r.x);
        ASSERT_EQ(part.origin_y, r.y);
        ASSERT_GE(part.origin_x + part.image.width, r.x + r.width);
        ASSERT_EQ(part.image.height, r.height);
        int worst = 0;
        for (int y = 0; y < r.height; ++y)
          for (int x = r.x; x < r.x + r.width; ++x)
            for (int c = 0; c < 3; ++c)
              worst = std::max(
                  worst, std::abs(int(part.image.at(x - part.origin_x, y, c)) - int(full.image.at(x, r.y + y, c))));
        EXPECT_EQ(worst, 0) << file << " 1/" << denom << " region x=" << r.x << " y=" << r.y << " " << r.width << "x"
                            << r.height;
      }
    }
  }
}

TEST(ImageDecode, DctScalingApproximatesFullDecodeAndResize) {
  const auto encoded = EncodedImage::read(data_fixtures() / "inputs" / "photo_500x375.jpg");
  DecodeRequest half;
  half.scale_denom = 2;
  const Image scaled = decode(encoded, half).image;
  ASSERT_EQ(scaled.width, 250);
  ASSERT_EQ(scaled.height, 188);
  // Compare with PIL-style bilinear downscaling of the full decode: close, not identical.
  const Image full = decode(encoded).image;
  const Image reference = resample(view_of(full), 250, 188, Interpolation::Bilinear, ResampleBox{0, 0, 500, 375});
  double total = 0;
  for (size_t i = 0; i < scaled.pixels.size(); ++i) total += std::abs(int(scaled.pixels[i]) - int(reference.pixels[i]));
  EXPECT_LT(total / double(scaled.pixels.size()), 6.0);
}

TEST(ImageWrite, PngRoundTripIsExact) {
  const Image img = test::test_picture(37, 23, 3);
  const auto path = test::scratch_dir("png") / "a.png";
  write_png(path, img);
  const Image back = read_image(path);
  EXPECT_EQ(diff_images(img, back).max_abs, 0);
}

TEST(ImageWrite, JpegRoundTripIsClose) {
  const Image img = test::test_picture(64, 48, 1);
  const auto path = test::scratch_dir("jpg") / "a.jpg";
  write_jpeg(path, img, 95);
  const Image back = read_image(path);
  ASSERT_EQ(back.width, 64);
  ASSERT_EQ(back.height, 48);
  double total = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) total += std::abs(int(img.pixels[i]) - int(back.pixels[i]));
  EXPECT_LT(total / double(img.pixels.size()), 8.0);
  EXPECT_ERROR_CONTAINS(encode_jpeg(img, 0), "quality");
}

// ---- bad files: one clipt::Error naming the path, never a crash ----

TEST(ImageErrors, MissingFile) {
  const auto path = test::scratch_dir("missing") / "nope.jpg";
  EXPECT_ERROR_CONTAINS(read_image(path), path.string());
}

TEST(ImageErrors, EmptyAndGarbageFiles) {
  const auto dir = test::scratch_dir("garbage");
  test::put_file(dir / "empty.jpg", {});
  EXPECT_ERROR_CONTAINS(read_image(dir / "empty.jpg"), (dir / "empty.jpg").string());
  test::put_text(dir / "text.png", "this is not an image at all");
  EXPECT_ERROR_CONTAINS(read_image(dir / "text.png"), "not a JPEG or PNG");
  EXPECT_ERROR_CONTAINS(read_image(dir), dir.string());  // a folder
}

TEST(ImageErrors, TruncatedJpeg) {
  const auto dir = test::scratch_dir("truncated_jpeg");
  const auto bytes = file_bytes(data_fixtures() / "inputs" / "photo_500x375.jpg");
  for (size_t keep : {bytes.size() / 2, bytes.size() - 10, size_t(300), size_t(40)}) {
    const auto path = dir / ("cut_" + std::to_string(keep) + ".jpg");
    test::put_file(path, std::vector<uint8_t>(bytes.begin(), bytes.begin() + ptrdiff_t(keep)));
    EXPECT_ERROR_CONTAINS(read_image(path), path.string());
  }
  // A region above the truncation point still fails: the tail is always entropy-decoded.
  const auto path = dir / "cut_half.jpg";
  test::put_file(path, std::vector<uint8_t>(bytes.begin(), bytes.begin() + ptrdiff_t(bytes.size() / 2)));
  const auto encoded = EncodedImage::read(path);
  DecodeRequest top;
  top.has_region = true;
  top.region = PixelRect{0, 0, 100, 20};
  EXPECT_ERROR_CONTAINS(decode(encoded, top), path.string());
}

TEST(ImageErrors, TruncatedAndCorruptPng) {
  const auto dir = test::scratch_dir("bad_png");
  const auto bytes = file_bytes(data_fixtures() / "inputs" / "tall_64x200.png");
  const auto cut = dir / "cut.png";
  test::put_file(cut, std::vector<uint8_t>(bytes.begin(), bytes.begin() + ptrdiff_t(bytes.size() * 2 / 3)));
  EXPECT_ERROR_CONTAINS(read_image(cut), cut.string());
  const auto header_only = dir / "header.png";
  test::put_file(header_only, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 30));
  EXPECT_ERROR_CONTAINS(read_image(header_only), header_only.string());
  auto flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x5A;  // inside IDAT: CRC or zlib error
  const auto corrupt = dir / "corrupt.png";
  test::put_file(corrupt, flipped);
  EXPECT_ERROR_CONTAINS(read_image(corrupt), corrupt.string());
}

}  // namespace
}  // namespace clipt::data
