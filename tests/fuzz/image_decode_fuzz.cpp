// libFuzzer target for JPEG/PNG decoding (built with -DCLIPT_FUZZ=ON and clang; see tests/fuzz/CMakeLists.txt).
// The input is a whole image file. The pixel limit is lowered to 64 K pixels so that a header claiming a
// huge picture is refused before any pixel memory is allocated (as a real run does at PIL's 89 M) and the
// fuzzer never runs out of memory. Properties checked:
//   - reading the header either succeeds or raises clipt::Error (any other exception, a crash, a leak or a
//     sanitizer report is a finding), and an accepted header is within the pixel limit;
//   - a full decode at a scale (1, 2, 4 or 8, chosen from the input) either raises clipt::Error or gives
//     exactly the header's size at that scale (ceil(W / d) for JPEG, W for PNG) and a full pixel buffer;
//   - a region decode (region chosen from the input) holds the region, and its pixels are the full decode's
//     (the contract of DecodeRequest::region that the random crop relies on).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "data/image.h"
#include "engine/core/error.h"

namespace {

using namespace clipt::data;

constexpr int64_t kFuzzPixelLimit = int64_t(1) << 16;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "image_decode_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

bool well_formed(const DecodedImage& d) {
  const Image& im = d.image;
  return im.width > 0 && im.height > 0 && im.pixels.size() == size_t(im.width) * size_t(im.height) * 3;
}

void exercise(const uint8_t* data, size_t size) {
  EncodedImage encoded;
  try {
    encoded = EncodedImage::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz");
  } catch (const clipt::Error&) {
    return;  // not an image, a corrupt header, or above the pixel limit: refused cleanly
  }
  const int64_t w = encoded.width(), h = encoded.height();
  check(w > 0 && h > 0 && w * h <= kFuzzPixelLimit, "an accepted header is non-empty and within the pixel limit");

  // Inputs are small: derive the decode parameters from the size and a few bytes so they vary per input.
  const uint64_t salt = uint64_t(size) * 0x9E3779B97F4A7C15ull ^ (size > 16 ? data[size / 2] : 0);
  const bool jpeg = encoded.format() == ImageFormat::Jpeg;
  const int denom = jpeg ? 1 << (salt % 4) : 1;
  DecodeRequest whole;
  whole.scale_denom = denom;
  DecodedImage full;
  try {
    full = decode(encoded, whole);
  } catch (const clipt::Error&) {
    return;  // corrupt or truncated data: refused cleanly
  }
  check(well_formed(full), "a decoded image has a full pixel buffer");
  check(full.full_width == int((w + denom - 1) / denom) && full.full_height == int((h + denom - 1) / denom),
        "the decoded size is the header's size at the requested scale");
  check(full.origin_x == 0 && full.origin_y == 0 && full.image.width == full.full_width &&
            full.image.height == full.full_height,
        "a full decode covers the whole picture");

  DecodeRequest part = whole;
  part.has_region = true;
  PixelRect& r = part.region;
  r.x = int((salt >> 8) % uint64_t(full.full_width));
  r.y = int((salt >> 24) % uint64_t(full.full_height));
  r.width = 1 + int((salt >> 40) % uint64_t(full.full_width - r.x));
  r.height = 1 + int((salt >> 52) % uint64_t(full.full_height - r.y));
  DecodedImage cut;
  try {
    cut = decode(encoded, part);
  } catch (const clipt::Error&) { check(false, "a region of an image that decodes in full decodes too"); }
  check(well_formed(cut), "a region decode has a full pixel buffer");
  check(cut.full_width == full.full_width && cut.full_height == full.full_height,
        "a region decode reports the same picture size");
  check(cut.origin_x <= r.x && cut.origin_y <= r.y && cut.origin_x + cut.image.width >= r.x + r.width &&
            cut.origin_y + cut.image.height >= r.y + r.height,
        "a region decode holds the requested region");
  for (int y = r.y; y < r.y + r.height; ++y) {
    const uint8_t* want = full.image.row(y) + size_t(r.x) * 3;
    const uint8_t* got = cut.image.row(y - cut.origin_y) + size_t(r.x - cut.origin_x) * 3;
    if (std::memcmp(want, got, size_t(r.width) * 3) != 0) {
      std::fprintf(stderr,
                   "%s %lldx%lld at 1/%d; region x=%d y=%d %dx%d decoded from x=%d y=%d %dx%d; row %d differs\n",
                   jpeg ? "JPEG" : "PNG", (long long)w, (long long)h, denom, r.x, r.y, r.width, r.height, cut.origin_x,
                   cut.origin_y, cut.image.width, cut.image.height, y);
      check(false, "region pixels equal the full decode's");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  set_max_image_pixels(kFuzzPixelLimit);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise(data, size);
  return 0;
}
