// PNG decoding and encoding through libpng.
//
// libpng reports errors by calling the error function and then longjmp'ing to png_jmpbuf; the setjmp
// sits in small C-style frames that own no C++ objects, and the C++ caller turns a failure into a
// clipt::Error naming the file. Conversions mirror PIL's open + convert("RGB") (see image.h):
// palette → RGB, low bit depths scaled to 8 bits, alpha and tRNS dropped, 16-bit samples keep their
// high byte — except 16-bit grayscale, which PIL opens as 32-bit integers and clips to 255.
#include <png.h>

#include <csetjmp>
#include <cstring>

#include "data/image.h"
#include "engine/core/error.h"

namespace clipt::data::detail {
namespace {

struct PngErrorState {
  char message[256] = {0};
};

void on_png_error(png_structp png, png_const_charp msg) {
  auto* state = static_cast<PngErrorState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof(state->message), "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // PIL ignores ancillary problems too

struct MemoryReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

void read_from_memory(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<MemoryReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "unexpected end of data (truncated file)");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  PngErrorState err;
  MemoryReader source{};
  ~PngReader() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

struct PngLayout {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  bool gray16 = false;  // 16-bit grayscale: read raw and clip, as PIL
  size_t rowbytes = 0;
};

bool read_info(PngReader* r, PngLayout* layout) {
  if (setjmp(png_jmpbuf(r->png))) return false;
  png_set_read_fn(r->png, &r->source, read_from_memory);
  png_read_info(r->png, r->info);
  layout->width = png_get_image_width(r->png, r->info);
  layout->height = png_get_image_height(r->png, r->info);
  layout->bit_depth = png_get_bit_depth(r->png, r->info);
  layout->color_type = png_get_color_type(r->png, r->info);
  layout->gray16 = layout->color_type == PNG_COLOR_TYPE_GRAY && layout->bit_depth == 16;
  if (!layout->gray16) {
    png_set_expand(r->png);  // palette → RGB, gray < 8 bits → 8 bits, tRNS → alpha
    png_set_strip_16(r->png);
    png_set_strip_alpha(r->png);
    png_set_gray_to_rgb(r->png);
  }
  png_set_interlace_handling(r->png);
  png_read_update_info(r->png, r->info);
  layout->rowbytes = png_get_rowbytes(r->png, r->info);
  return true;
}

bool read_pixels(PngReader* r, png_bytep* rows) {
  if (setjmp(png_jmpbuf(r->png))) return false;
  png_read_image(r->png, rows);
  png_read_end(r->png, nullptr);
  return true;
}

}  // namespace

HeaderInfo png_header(const uint8_t* data, size_t size, const std::string& name) {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
  CLIPT_CHECK(size >= 24 && png_sig_cmp(data, 0, 8) == 0 && std::memcmp(data + 12, "IHDR", 4) == 0,
              "cannot decode PNG image {}: missing signature or IHDR chunk", name);
  auto be32 = [](const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
  };
  const uint32_t w = be32(data + 16), h = be32(data + 20);
  CLIPT_CHECK(w > 0 && h > 0 && w < (1u << 24) && h < (1u << 24), "cannot decode PNG image {}: bad size {}x{}", name, w,
              h);
  return {int(w), int(h)};
}

DecodedImage decode_png(const uint8_t* data, size_t size, const std::string& name) {
  PngReader r;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r.err, on_png_error, on_png_warning);
  CLIPT_CHECK(r.png != nullptr, "cannot decode PNG image {}: libpng initialisation failed", name);
  r.info = png_create_info_struct(r.png);
  CLIPT_CHECK(r.info != nullptr, "cannot decode PNG image {}: libpng initialisation failed", name);
  r.source = MemoryReader{data, size, 0};
  PngLayout layout;
  if (!read_info(&r, &layout)) fail("cannot decode PNG image {}: {}", name, r.err.message);
  const size_t expected_rowbytes = size_t(layout.width) * (layout.gray16 ? 2 : 3);
  CLIPT_CHECK(layout.rowbytes == expected_rowbytes,
              "cannot decode PNG image {}: unexpected row size {} for {}x{} (colour type {}, {} bits)", name,
              layout.rowbytes, layout.width, layout.height, layout.color_type, layout.bit_depth);

  DecodedImage out;
  out.full_width = int(layout.width);
  out.full_height = int(layout.height);
  out.image = Image(int(layout.width), int(layout.height));
  std::vector<uint8_t> raw16;
  std::vector<png_bytep> rows(layout.height);
  if (layout.gray16) raw16.resize(layout.rowbytes * layout.height);
  for (png_uint_32 y = 0; y < layout.height; ++y)
    rows[y] = layout.gray16 ? raw16.data() + size_t(y) * layout.rowbytes : out.image.row(int(y));
  if (!read_pixels(&r, rows.data())) fail("cannot decode PNG image {}: {}", name, r.err.message);

  if (layout.gray16) {
    uint8_t* dst = out.image.pixels.data();
    const size_t n = size_t(layout.width) * layout.height;
    for (size_t i = 0; i < n; ++i) {
      const unsigned v = (unsigned(raw16[2 * i]) << 8) | raw16[2 * i + 1];  // big-endian samples
      const uint8_t g = uint8_t(v > 255 ? 255 : v);
      dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = g;
    }
  }
  return out;
}

// ---- encoding ----
namespace {

void write_to_vector(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

void flush_nothing(png_structp) {}

struct PngWriter {
  png_structp png = nullptr;
  png_infop info = nullptr;
  PngErrorState err;
  ~PngWriter() {
    if (png) png_destroy_write_struct(&png, info ? &info : nullptr);
  }
};

bool write_all(PngWriter* w, const Image* image, std::vector<uint8_t>* out, png_bytep* rows) {
  if (setjmp(png_jmpbuf(w->png))) return false;
  png_set_write_fn(w->png, out, write_to_vector, flush_nothing);
  png_set_IHDR(w->png, w->info, png_uint_32(image->width), png_uint_32(image->height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(w->png, w->info);
  png_write_image(w->png, rows);
  png_write_end(w->png, nullptr);
  return true;
}

}  // namespace
}  // namespace clipt::data::detail

namespace clipt::data {

std::vector<uint8_t> encode_png(const Image& image) {
  CLIPT_CHECK(image.width > 0 && image.height > 0, "encode_png: empty image {}x{}", image.width, image.height);
  CLIPT_CHECK(image.pixels.size() == size_t(image.width) * size_t(image.height) * 3,
              "encode_png: {}x{} image holds {} bytes", image.width, image.height, image.pixels.size());
  detail::PngWriter w;
  w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w.err, detail::on_png_error, detail::on_png_warning);
  CLIPT_CHECK(w.png != nullptr, "encode_png: libpng initialisation failed");
  w.info = png_create_info_struct(w.png);
  CLIPT_CHECK(w.info != nullptr, "encode_png: libpng initialisation failed");
  std::vector<png_bytep> rows(size_t(image.height));
  for (int y = 0; y < image.height; ++y) rows[size_t(y)] = const_cast<png_bytep>(image.row(y));
  std::vector<uint8_t> out;
  if (!detail::write_all(&w, &image, &out, rows.data())) fail("encode_png: {}", w.err.message);
  return out;
}

}  // namespace clipt::data
