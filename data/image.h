// Images in memory and on disk: an 8-bit interleaved RGB buffer, decoders for JPEG (libjpeg API of
// libjpeg-turbo) and PNG (libpng), and writers for both.
//
// Decoding follows PIL's `Image.open(path).convert("RGB")`, which is what the PyTorch peers feed their
// transforms: grayscale is replicated, alpha is dropped (not composited), palettes are looked up, CMYK
// JPEGs are inverted (Adobe convention) and converted with PIL's formula, 16-bit RGB keeps the high byte
// and 16-bit grayscale is clipped to 255 (PIL opens it as 32-bit "I" and its I→RGB conversion clips).
// EXIF orientation, ICC profiles and gAMA are ignored, as PIL does.
//
// Any failure (missing file, unknown format, corrupt or truncated data) raises one clipt::Error that
// names the path; the libraries' error handlers longjmp back instead of aborting the process.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace clipt::data {

// Interleaved RGB, row-major, no padding: pixel (x, y) channel c is at (y * width + x) * 3 + c.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  Image() = default;
  Image(int w, int h) : width(w), height(h), pixels(size_t(w) * size_t(h) * 3) {}
  uint8_t* row(int y) { return pixels.data() + size_t(y) * size_t(width) * 3; }
  const uint8_t* row(int y) const { return pixels.data() + size_t(y) * size_t(width) * 3; }
  uint8_t& at(int x, int y, int c) { return pixels[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)]; }
  uint8_t at(int x, int y, int c) const { return pixels[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)]; }
};

enum class ImageFormat { Jpeg, Png };

// A file's bytes, read once; the header can be inspected before choosing how to decode (e.g. the
// random crop is drawn in full-resolution coordinates, then only what it needs is decoded).
class EncodedImage {
 public:
  // Reads the whole file. Missing or unreadable → Error naming the path.
  static EncodedImage read(const std::filesystem::path& path);
  // Wraps bytes already in memory; `name` is used in error messages.
  static EncodedImage from_bytes(std::vector<uint8_t> bytes, std::string name);

  const std::string& name() const { return name_; }
  ImageFormat format() const { return format_; }
  // Full-resolution size from the header (cheap; no pixel decoding).
  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::string name_;
  std::vector<uint8_t> bytes_;
  ImageFormat format_ = ImageFormat::Jpeg;
  int width_ = 0, height_ = 0;
};

// A rectangle of pixels: columns [x, x + width), rows [y, y + height).
struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
};

struct DecodeRequest {
  // JPEG only: decode at 1/scale_denom of full size using libjpeg's DCT scaling (1, 2, 4 or 8). The
  // result is ceil(W / d) × ceil(H / d) and its pixels differ from full decode + resize. PNG ignores it.
  int scale_denom = 1;
  // Optional region (in the coordinates of the scaled image) that the caller will read. The decoder
  // may skip work outside it (JPEG: rows outside are skipped, columns are cropped to iMCU boundaries);
  // pixels inside are identical to a full decode. The returned DecodedImage says where it starts.
  bool has_region = false;
  PixelRect region;
};

// A decoded image, possibly only a part of the (scaled) picture: `image` holds pixels
// [origin_x, origin_x + image.width) × [origin_y, origin_y + image.height) of a picture that is
// full_width × full_height at the decoded scale.
struct DecodedImage {
  Image image;
  int origin_x = 0, origin_y = 0;
  int full_width = 0, full_height = 0;
};

DecodedImage decode(const EncodedImage& encoded, const DecodeRequest& request = {});

// PIL's decompression-bomb guard: an image with more pixels than this is refused from its header, before
// any pixel memory is allocated (a 69-byte PNG may claim 65500×65500). The default is PIL's
// Image.MAX_IMAGE_PIXELS (89,478,485); 0 means no limit. Process-wide: CLIPT.MAX_IMAGE_PIXELS (training,
// evaluation) and --max-image-pixels (classify, zeroshot) set it.
constexpr int64_t kDefaultMaxImagePixels = 89478485;
void set_max_image_pixels(int64_t pixels);
int64_t max_image_pixels();

// Convenience: read + full decode (PIL's Image.open(path).convert("RGB")).
Image read_image(const std::filesystem::path& path);

// Writers (for test fixtures, the built-in world and debugging). Files are written atomically.
std::vector<uint8_t> encode_png(const Image& image);
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);
void write_png(const std::filesystem::path& path, const Image& image);
void write_jpeg(const std::filesystem::path& path, const Image& image, int quality = 90);

// ---- format back ends (decode_jpeg.cpp, decode_png.cpp) ----
namespace detail {
struct HeaderInfo {
  int width = 0, height = 0;
};
HeaderInfo jpeg_header(const uint8_t* data, size_t size, const std::string& name);
HeaderInfo png_header(const uint8_t* data, size_t size, const std::string& name);
DecodedImage decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request);
DecodedImage decode_png(const uint8_t* data, size_t size, const std::string& name);
}  // namespace detail

}  // namespace clipt::data
