// Reading image files, format detection by content (not by extension: datasets contain PNGs named
// .jpg), and the atomic writers.
#include "data/image.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace clipt::data {
namespace {

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("cannot read image {}: it is a folder", path.string());
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot open image {}: {}", path.string(), std::strerror(errno));
  std::vector<uint8_t> bytes;
  if (std::fseek(f, 0, SEEK_END) == 0) {
    const long size = std::ftell(f);
    if (size > 0) bytes.reserve(size_t(size));
    std::fseek(f, 0, SEEK_SET);
  }
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) fail("cannot read image {}: I/O error", path.string());
  return bytes;
}

std::atomic<int64_t> pixel_limit{kDefaultMaxImagePixels};

// Out of memory while decoding (an image within the pixel limit on a small machine): an Error naming it.
template <typename F> auto naming_on_bad_alloc(const std::string& name, int width, int height, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) { fail("out of memory decoding image {} ({}x{} pixels)", name, width, height); }
}

DecodedImage decode_checked(const EncodedImage& encoded, const DecodeRequest& request) {
  if (encoded.format() == ImageFormat::Jpeg)
    return detail::decode_jpeg(encoded.bytes().data(), encoded.bytes().size(), encoded.name(), request);
  DecodedImage full = detail::decode_png(encoded.bytes().data(), encoded.bytes().size(), encoded.name());
  if (!request.has_region) return full;
  // PNG rows must all be inflated anyway; cut the region so callers see one contract.
  const PixelRect& r = request.region;
  CLIPT_CHECK(r.width > 0 && r.height > 0 && r.x >= 0 && r.y >= 0 && r.x + r.width <= full.full_width &&
                  r.y + r.height <= full.full_height,
              "decode {}: region x={} y={} {}x{} lies outside the {}x{} image", encoded.name(), r.x, r.y, r.width,
              r.height, full.full_width, full.full_height);
  if (r.x == 0 && r.y == 0 && r.width == full.full_width && r.height == full.full_height) return full;
  DecodedImage cut;
  cut.full_width = full.full_width;
  cut.full_height = full.full_height;
  cut.origin_x = r.x;
  cut.origin_y = r.y;
  cut.image = Image(r.width, r.height);
  for (int y = 0; y < r.height; ++y)
    std::memcpy(cut.image.row(y), full.image.row(r.y + y) + size_t(r.x) * 3, size_t(r.width) * 3);
  return cut;
}

}  // namespace

void set_max_image_pixels(int64_t pixels) {
  CLIPT_CHECK(pixels >= 0, "the image pixel limit must be >= 0 (0: no limit), got {}", pixels);
  pixel_limit = pixels;
}

int64_t max_image_pixels() { return pixel_limit; }

EncodedImage EncodedImage::read(const std::filesystem::path& path) {
  return from_bytes(read_file_bytes(path), path.string());
}

EncodedImage EncodedImage::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  EncodedImage e;
  e.name_ = std::move(name);
  e.bytes_ = std::move(bytes);
  const auto& b = e.bytes_;
  CLIPT_CHECK(!b.empty(), "cannot decode image {}: the file is empty", e.name_);
  detail::HeaderInfo header;
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    e.format_ = ImageFormat::Jpeg;
    header = detail::jpeg_header(b.data(), b.size(), e.name_);
  } else if (b.size() >= 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
    e.format_ = ImageFormat::Png;
    header = detail::png_header(b.data(), b.size(), e.name_);
  } else {
    fail("cannot decode image {}: not a JPEG or PNG file (first bytes {:02x} {:02x} {:02x} {:02x})", e.name_,
         b.size() > 0 ? b[0] : 0, b.size() > 1 ? b[1] : 0, b.size() > 2 ? b[2] : 0, b.size() > 3 ? b[3] : 0);
  }
  e.width_ = header.width;
  e.height_ = header.height;
  const int64_t limit = pixel_limit, pixels = int64_t(header.width) * int64_t(header.height);
  CLIPT_CHECK(limit == 0 || pixels <= limit,
              "image {} is {}x{} = {} pixels, more than the limit of {} (a decompression bomb?); if it is genuine, "
              "raise CLIPT.MAX_IMAGE_PIXELS (clipt train/b2n) or --max-image-pixels (classify, zeroshot)",
              e.name_, header.width, header.height, pixels, limit);
  return e;
}

DecodedImage decode(const EncodedImage& encoded, const DecodeRequest& request) {
  return naming_on_bad_alloc(encoded.name(), encoded.width(), encoded.height(),
                             [&] { return decode_checked(encoded, request); });
}

Image read_image(const std::filesystem::path& path) { return decode(EncodedImage::read(path)).image; }

void write_png(const std::filesystem::path& path, const Image& image) {
  const auto bytes = encode_png(image);
  io::write_file_atomic(path, bytes.data(), bytes.size());
}

void write_jpeg(const std::filesystem::path& path, const Image& image, int quality) {
  const auto bytes = encode_jpeg(image, quality);
  io::write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace clipt::data
