#include "data/world/png_io.h"

#include <png.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace clipt::world {

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(uint8_t(v >> 24));
  out.push_back(uint8_t(v >> 16));
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

void put_chunk(std::vector<uint8_t>& out, const char type[4], const uint8_t* data, size_t size) {
  put_u32(out, uint32_t(size));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  if (size) out.insert(out.end(), data, data + size);
  const uLong crc = crc32(0L, out.data() + start, uInt(size + 4));
  put_u32(out, uint32_t(crc));
}

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return uint8_t(pa <= pb && pa <= pc ? a : (pb <= pc ? b : c));
}

}  // namespace

// The encoder writes the PNG container itself (signature, IHDR, one IDAT of Paeth-filtered rows deflated by
// zlib at level 1, IEND) because libpng's simplified writer cannot choose the compression level and its full
// API reports errors through longjmp. Reading uses libpng, which also makes the tests' round trip independent.
std::vector<uint8_t> encode_png(const Image& image) {
  const int w = image.width, h = image.height;
  CLIPT_CHECK(w > 0 && h > 0 && image.pixels.size() == size_t(w) * size_t(h) * 3,
              "encode_png: {}x{} image has {} bytes, expected {}", w, h, image.pixels.size(), size_t(w) * h * 3);
  const size_t stride = size_t(w) * 3;
  std::vector<uint8_t> filtered((stride + 1) * size_t(h));
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = image.pixels.data() + size_t(y) * stride;
    const uint8_t* up = y > 0 ? row - stride : nullptr;
    uint8_t* dst = filtered.data() + size_t(y) * (stride + 1);
    dst[0] = 4;  // Paeth
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = (up && i >= 3) ? up[i - 3] : 0;
      dst[1 + i] = uint8_t(row[i] - paeth(a, b, c));
    }
  }
  uLongf packed_size = compressBound(uLong(filtered.size()));
  std::vector<uint8_t> packed(packed_size);
  const int rc = compress2(packed.data(), &packed_size, filtered.data(), uLong(filtered.size()), 1);
  CLIPT_CHECK(rc == Z_OK, "encode_png: zlib compress2 failed with code {}", rc);

  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  uint8_t header[13];
  for (int i = 0; i < 4; ++i) {
    header[i] = uint8_t(uint32_t(w) >> (24 - 8 * i));
    header[4 + i] = uint8_t(uint32_t(h) >> (24 - 8 * i));
  }
  header[8] = 8;   // bit depth
  header[9] = 2;   // colour type: RGB
  header[10] = 0;  // deflate
  header[11] = 0;  // adaptive filtering
  header[12] = 0;  // no interlace
  put_chunk(out, "IHDR", header, sizeof header);
  put_chunk(out, "IDAT", packed.data(), packed_size);
  put_chunk(out, "IEND", nullptr, 0);
  return out;
}

void write_png(const std::filesystem::path& path, const Image& image) {
  const std::vector<uint8_t> bytes = encode_png(image);
  io::write_file_atomic(path, bytes.data(), bytes.size());
}

Image read_png(const std::filesystem::path& path) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.string().c_str()))
    fail("read_png: {}: {}", path.string(), png.message);
  png.format = PNG_FORMAT_RGB;
  Image image;
  image.width = int(png.width);
  image.height = int(png.height);
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    const std::string message = png.message;
    png_image_free(&png);
    fail("read_png: {}: {}", path.string(), message);
  }
  return image;
}

}  // namespace clipt::world
