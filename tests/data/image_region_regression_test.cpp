// Region decoding must give a full decode's pixels (the random crop decodes only the region it keeps). A
// progressive JPEG with incomplete coefficients (tests/fuzz/regressions/progressive_incomplete_80x60.jpg,
// found by tests/fuzz/image_decode_fuzz) made libjpeg's block smoothing give other pixels when columns were
// cropped: such files are now decoded in full rows.
#include <gtest/gtest.h>

#include "data/image.h"
#include "tests/common/test_util.h"

namespace clipt::data {
namespace {

int differing_pixels(const DecodedImage& full, const DecodedImage& cut, const PixelRect& r) {
  int bad = 0;
  for (int y = r.y; y < r.y + r.height; ++y)
    for (int x = r.x; x < r.x + r.width; ++x)
      for (int c = 0; c < 3; ++c) bad += full.image.at(x, y, c) != cut.image.at(x - cut.origin_x, y - cut.origin_y, c);
  return bad;
}

TEST(ImageRegion, ProgressiveJpegWithIncompleteScansDecodesRegionsLikeTheFullImage) {
  const EncodedImage encoded =
      EncodedImage::read(test::source_dir() / "tests" / "fuzz" / "regressions" / "progressive_incomplete_80x60.jpg");
  ASSERT_EQ(encoded.width(), 80);
  const DecodedImage full = decode(encoded);
  for (const PixelRect& r :
       {PixelRect{63, 33, 11, 10}, PixelRect{63, 0, 11, 43}, PixelRect{20, 17, 40, 30}, PixelRect{0, 50, 79, 10}}) {
    DecodeRequest request;
    request.has_region = true;
    request.region = r;
    const DecodedImage cut = decode(encoded, request);
    ASSERT_LE(cut.origin_x, r.x);
    ASSERT_GE(cut.origin_x + cut.image.width, r.x + r.width);
    EXPECT_EQ(differing_pixels(full, cut, r), 0)
        << "region x=" << r.x << " y=" << r.y << " " << r.width << "x" << r.height;
  }
}

}  // namespace
}  // namespace clipt::data
