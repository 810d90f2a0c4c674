// check_image_file / check_split_images: the cheap header-and-end check that runs before training. Each case
// is checked against what a full decode (the loader's view) says of the same file.
#include "data/image_check.h"

#include <gtest/gtest.h>

#include <fstream>

#include "data/image.h"
#include "tests/common/test_util.h"

namespace clipt::data {
namespace {

namespace fs = std::filesystem;

Image gradient(int w, int h) {
  Image im(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) im.at(x, y, c) = uint8_t((x * 5 + y * 3 + c * 70) & 255);
  return im;
}

fs::path write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path;
}

// Restores the process-wide pixel limit when a test changes it.
struct PixelLimitGuard {
  int64_t saved = max_image_pixels();
  ~PixelLimitGuard() { set_max_image_pixels(saved); }
};

TEST(ImageCheck, GoodImagesPass) {
  const fs::path dir = test::scratch_dir("image_check_good");
  write_png(dir / "a.png", gradient(40, 30));
  write_jpeg(dir / "b.jpg", gradient(40, 30));
  EXPECT_NO_THROW(check_image_file(dir / "a.png"));
  EXPECT_NO_THROW(check_image_file(dir / "b.jpg"));
  for (const char* f : {"grey2bit.png", "cmyk.jpg", "progressive.jpg", "palette.png", "photo_500x375.jpg"})
    EXPECT_NO_THROW(check_image_file(test::golden_dir() / "data" / "inputs" / f)) << f;
}

// A header longer than the first read (here a 20 KB application segment, as a large EXIF block) is read on.
TEST(ImageCheck, AHeaderLongerThanTheFirstReadPasses) {
  const fs::path dir = test::scratch_dir("image_check_long_header");
  std::vector<uint8_t> jpeg = encode_jpeg(gradient(24, 16));
  std::vector<uint8_t> app = {0xFF, 0xEF, 0x4E, 0x22};  // APP15, length 0x4E22 = 20002 (itself included)
  app.resize(20004, 'x');
  jpeg.insert(jpeg.begin() + 2, app.begin(), app.end());
  const fs::path file = write_bytes(dir / "exif.jpg", jpeg);
  ASSERT_EQ(decode(EncodedImage::read(file)).image.width, 24);  // the loader reads it
  EXPECT_NO_THROW(check_image_file(file));
}

// Bytes after the end marker are legal (PIL and the loader ignore them): the check falls back to a decode.
TEST(ImageCheck, BytesAfterTheEndMarkerPass) {
  const fs::path dir = test::scratch_dir("image_check_trailing");
  for (auto [name, bytes] :
       {std::pair{"t.jpg", encode_jpeg(gradient(24, 16))}, {"t.png", encode_png(gradient(24, 16))}}) {
    bytes.insert(bytes.end(), {'t', 'r', 'a', 'i', 'l', 'e', 'r'});
    const fs::path file = write_bytes(dir / name, bytes);
    ASSERT_NO_THROW(decode(EncodedImage::read(file)));
    EXPECT_NO_THROW(check_image_file(file)) << name;
  }
}

TEST(ImageCheck, CorruptTruncatedAndMissingImagesAreNamed) {
  const fs::path dir = test::scratch_dir("image_check_bad");
  const fs::path garbage = write_bytes(dir / "garbage.jpg", {'G', 'I', 'F', '8', '9', 'a', 0, 0});
  EXPECT_ERROR_CONTAINS(check_image_file(garbage), "cannot decode image " + garbage.string() + ": not a JPEG or PNG");
  const fs::path empty = write_bytes(dir / "empty.png", {});
  EXPECT_ERROR_CONTAINS(check_image_file(empty), "cannot decode image " + empty.string() + ": the file is empty");
  EXPECT_ERROR_CONTAINS(check_image_file(dir / "missing.png"), "cannot open image " + (dir / "missing.png").string());
  EXPECT_ERROR_CONTAINS(check_image_file(dir), "it is a folder");

  // Cut short at several places: wherever the loader refuses the file, the check refuses it too.
  for (auto [name, bytes] :
       {std::pair{"cut.jpg", encode_jpeg(gradient(64, 48))}, {"cut.png", encode_png(gradient(64, 48))}})
    for (size_t keep : {size_t(10), bytes.size() / 3, bytes.size() - 1}) {
      const fs::path file = write_bytes(dir / name, std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(keep)));
      ASSERT_ANY_THROW(decode(EncodedImage::read(file))) << name << " cut to " << keep;
      EXPECT_ERROR_CONTAINS(check_image_file(file), file.string());
    }
}

TEST(ImageCheck, ThePixelLimitIsCheckedFromTheHeader) {
  PixelLimitGuard guard;
  const fs::path dir = test::scratch_dir("image_check_limit");
  write_png(dir / "big.png", gradient(100, 100));
  set_max_image_pixels(5000);
  EXPECT_ERROR_CONTAINS(check_image_file(dir / "big.png"), "more than the limit of 5000");
}

TEST(ImageCheck, SplitCheckCountsAndNamesTheFirstBadImage) {
  const fs::path dir = test::scratch_dir("image_check_split");
  DatasetSplits splits;
  for (int i = 0; i < 40; ++i) {
    const fs::path file = dir / (std::to_string(i) + ".png");
    write_png(file, gradient(8 + i, 8));
    (i < 30 ? splits.train : splits.test).push_back(Sample{file.string(), i % 3, "c", 0});
  }
  EXPECT_NO_THROW(check_split_images(splits, "toy"));
  write_bytes(splits.test[5].path, {'x'});
  write_bytes(splits.test[2].path, {'y'});
  EXPECT_ERROR_CONTAINS(check_split_images(splits, "toy"),
                        "2 of the 40 images of toy (train, val and test) cannot be "
                        "read, e.g. cannot decode image " +
                            splits.test[2].path);
  fs::remove(splits.train[7].path);
  EXPECT_ERROR_CONTAINS(check_split_images(splits, "toy"),
                        "1 of the 40 images of toy (train, val and test) do not "
                        "exist, e.g. " +
                            splits.train[7].path);
}

}  // namespace
}  // namespace clipt::data
