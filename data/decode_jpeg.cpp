// JPEG decoding and encoding through the libjpeg API of libjpeg-turbo (TurboJPEG's API is not present
// on every machine we build on).
//
// libjpeg reports fatal errors through error_exit, which by default calls exit(). We install an
// error_exit that formats the message and longjmps back to the setjmp in the small C-style functions
// below; those frames hold no C++ objects with destructors, so the jump skips nothing. The C++ caller
// then throws clipt::Error naming the file. A premature end of data is only a warning to libjpeg (it
// pads with grey), but PIL refuses truncated files, so that warning is turned into an error too, and a
// file without an end-of-image marker is refused before decoding (so a region decode that stops above
// the cut fails as well). Region decoding skips rows above the region, crops columns (widened by one
// iMCU so fancy upsampling sees the same neighbours) and stops after the region's last row.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h uses size_t and FILE without including their headers: it comes after <cstdio>.
#include <jerror.h>
#include <jpeglib.h>

#include "data/image.h"
#include "engine/core/error.h"

namespace clipt::data::detail {
namespace {

struct JpegErrorManager {
  jpeg_error_mgr mgr;  // first member: libjpeg hands us a pointer to it
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;                                           // trace messages
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) on_error_exit(cinfo);  // truncated file
  // Other warnings (e.g. extraneous bytes before a marker) are tolerated, as PIL tolerates them.
  cinfo->err->num_warnings++;
}

struct Decompressor {
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  Decompressor() {
    std::memset(&cinfo, 0, sizeof(cinfo));
    std::memset(&err, 0, sizeof(err));
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_error_exit;
    err.mgr.emit_message = on_emit_message;
  }
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }  // safe on a zeroed or partly built struct
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
};

// ---- setjmp frames: plain C calls only ----

bool read_header(Decompressor* d, const uint8_t* data, size_t size) {
  if (setjmp(d->err.jump)) return false;
  jpeg_create_decompress(&d->cinfo);
  jpeg_mem_src(&d->cinfo, data, (unsigned long)size);
  jpeg_read_header(&d->cinfo, TRUE);
  return true;
}

bool compute_output_size(Decompressor* d, int scale_denom) {
  if (setjmp(d->err.jump)) return false;
  d->cinfo.scale_num = 1;
  d->cinfo.scale_denom = (unsigned)scale_denom;
  const J_COLOR_SPACE in = d->cinfo.jpeg_color_space;
  d->cinfo.out_color_space = (in == JCS_CMYK || in == JCS_YCCK) ? JCS_CMYK : JCS_EXT_RGB;
  jpeg_calc_output_dimensions(&d->cinfo);
  return true;
}

struct ScanPlan {
  JDIMENSION crop_x = 0, crop_width = 0;  // in/out: libjpeg widens the crop to iMCU boundaries
  bool crop_columns = false;
  JDIMENSION first_row = 0, end_row = 0;
  uint8_t* out = nullptr;  // RGB rows of the region, `out_stride` bytes apart
  size_t out_stride = 0;
  uint8_t* cmyk_row = nullptr;   // scratch row for CMYK output (4 bytes per pixel), else null
  bool skip_by_reading = false;  // rows above the region are decoded and dropped instead of skipped
  uint8_t* drop_row = nullptr;   // scratch row for them
};

void cmyk_to_rgb_row(const uint8_t* in, uint8_t* out, JDIMENSION width);

bool start(Decompressor* d, ScanPlan* plan) {
  if (setjmp(d->err.jump)) return false;
  jpeg_start_decompress(&d->cinfo);
  if (plan->crop_columns) jpeg_crop_scanline(&d->cinfo, &plan->crop_x, &plan->crop_width);
  return true;
}

bool read_rows(Decompressor* d, ScanPlan* plan) {
  if (setjmp(d->err.jump)) return false;
  if (plan->skip_by_reading) {
    for (JDIMENSION y = 0; y < plan->first_row; ++y)
      if (jpeg_read_scanlines(&d->cinfo, &plan->drop_row, 1) != 1) ERREXIT(&d->cinfo, JERR_INPUT_EOF);
  } else if (plan->first_row > 0) {
    jpeg_skip_scanlines(&d->cinfo, plan->first_row);
  }
  for (JDIMENSION y = plan->first_row; y < plan->end_row; ++y) {
    uint8_t* dst = plan->out + size_t(y - plan->first_row) * plan->out_stride;
    JSAMPROW row = plan->cmyk_row ? plan->cmyk_row : dst;
    if (jpeg_read_scanlines(&d->cinfo, &row, 1) != 1) ERREXIT(&d->cinfo, JERR_INPUT_EOF);
    if (plan->cmyk_row) cmyk_to_rgb_row(plan->cmyk_row, dst, d->cinfo.output_width);
  }
  // Rows below the region are never decoded (truncation was checked up front, see has_end_marker).
  if (plan->end_row < d->cinfo.output_height) {
    jpeg_abort_decompress(&d->cinfo);
    return true;
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

// PIL opens CMYK JPEGs with raw mode "CMYK;I" (Adobe writes inverted ink values), then converts with
// R = 255 − K' − C'·(255 − K')/255 computed in integers (Convert.c cmyk2rgb), where C' = 255 − raw.
void cmyk_to_rgb_row(const uint8_t* in, uint8_t* out, JDIMENSION width) {
  auto muldiv255 = [](int a, int b) {
    const int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (JDIMENSION x = 0; x < width; ++x) {
    const int nk = in[3];  // 255 − K' with K' = 255 − raw
    for (int c = 0; c < 3; ++c) {
      const int ink = 255 - in[c];
      int v = nk - muldiv255(ink, nk);
      out[c] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    in += 4;
    out += 3;
  }
}

// Whether an end-of-image marker (FF D9) follows the start of the scan data. Inside entropy-coded data
// an FF byte is always followed by 00 or a restart marker (D0–D7), so FF D9 there can only be the EOI;
// a file cut short lacks it. Checking up front makes a truncated file fail on every read — also when
// only a region above the cut is decoded — as PIL fails on it.
bool has_end_marker(const uint8_t* data, size_t size, size_t scan_start) {
  for (size_t i = size; i >= scan_start + 2; --i)
    if (data[i - 2] == 0xFF && data[i - 1] == 0xD9) return true;
  return false;
}

[[noreturn]] void raise(const Decompressor& d, const std::string& name) {
  fail("cannot decode JPEG image {}: {}", name, d.err.message);
}

}  // namespace

HeaderInfo jpeg_header(const uint8_t* data, size_t size, const std::string& name) {
  Decompressor d;
  if (!read_header(&d, data, size)) raise(d, name);
  return {int(d.cinfo.image_width), int(d.cinfo.image_height)};
}

DecodedImage decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const DecodeRequest& request) {
  const int denom = request.scale_denom;
  CLIPT_CHECK(denom == 1 || denom == 2 || denom == 4 || denom == 8,
              "decode {}: JPEG scale denominator must be 1, 2, 4 or 8, got {}", name, denom);
  Decompressor d;
  if (!read_header(&d, data, size)) raise(d, name);
  const size_t scan_start = size - d.cinfo.src->bytes_in_buffer;
  CLIPT_CHECK(has_end_marker(data, size, scan_start),
              "cannot decode JPEG image {}: the file is truncated (no end-of-image marker after the scan data)", name);
  if (!compute_output_size(&d, denom)) raise(d, name);
  const int full_w = int(d.cinfo.output_width), full_h = int(d.cinfo.output_height);

  PixelRect region{0, 0, full_w, full_h};
  if (request.has_region) {
    const PixelRect& r = request.region;
    CLIPT_CHECK(
        r.width > 0 && r.height > 0 && r.x >= 0 && r.y >= 0 && r.x + r.width <= full_w && r.y + r.height <= full_h,
        "decode {}: region x={} y={} {}x{} lies outside the {}x{} image", name, r.x, r.y, r.width, r.height, full_w,
        full_h);
    region = r;
  }
  ScanPlan plan;
  plan.first_row = JDIMENSION(region.y);
  plan.end_row = JDIMENSION(region.y + region.height);
  // Fancy upsampling treats the edges of a column crop as image edges, so pixels next to them would
  // differ from a full decode: widen the crop by one iMCU on each side and keep only the region.
  const int imcu_width = d.cinfo.max_h_samp_factor * int(d.cinfo.min_DCT_scaled_size);
  const int crop_left = std::max(0, region.x - imcu_width);
  const int crop_right = std::min(full_w, region.x + region.width + imcu_width);
  // Progressive files: libjpeg's block smoothing (on by default, as in PIL, for coefficients that an
  // incomplete file lacks) gives other pixels when columns are cropped or rows skipped (libjpeg-turbo 2.1;
  // found by tests/fuzz/image_decode_fuzz). Their coefficients are all decoded up front anyway, so they are
  // decoded in full rows from the top: only the rows below the region are saved.
  plan.skip_by_reading = d.cinfo.progressive_mode;
  plan.crop_columns = !plan.skip_by_reading && (crop_left > 0 || crop_right < full_w);
  plan.crop_x = JDIMENSION(crop_left);
  plan.crop_width = JDIMENSION(crop_right - crop_left);
  if (!start(&d, &plan)) raise(d, name);
  if (!plan.crop_columns) {
    plan.crop_x = 0;
    plan.crop_width = d.cinfo.output_width;
  }

  DecodedImage out;
  out.full_width = full_w;
  out.full_height = full_h;
  out.origin_x = int(plan.crop_x);
  out.origin_y = region.y;
  out.image = Image(int(plan.crop_width), region.height);
  plan.out = out.image.pixels.data();
  plan.out_stride = size_t(plan.crop_width) * 3;
  std::vector<uint8_t> cmyk, dropped;
  if (d.cinfo.out_color_space == JCS_CMYK) {
    cmyk.resize(size_t(plan.crop_width) * 4);
    plan.cmyk_row = cmyk.data();
  }
  if (plan.skip_by_reading) {
    dropped.resize(size_t(d.cinfo.output_width) * size_t(d.cinfo.output_components));
    plan.drop_row = dropped.data();
  }
  if (!read_rows(&d, &plan)) raise(d, name);
  return out;
}

// ---- encoding ----
namespace {

struct Compressor {
  jpeg_compress_struct cinfo;
  JpegErrorManager err;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  Compressor() {
    std::memset(&cinfo, 0, sizeof(cinfo));
    std::memset(&err, 0, sizeof(err));
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_error_exit;
  }
  ~Compressor() {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);  // jpeg_mem_dest allocates with malloc
  }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
};

bool compress(Compressor* c, const Image* image, int quality) {
  if (setjmp(c->err.jump)) return false;
  jpeg_create_compress(&c->cinfo);
  jpeg_mem_dest(&c->cinfo, &c->buffer, &c->size);
  c->cinfo.image_width = JDIMENSION(image->width);
  c->cinfo.image_height = JDIMENSION(image->height);
  c->cinfo.input_components = 3;
  c->cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c->cinfo);  // 4:2:0 chroma subsampling, as PIL's default
  jpeg_set_quality(&c->cinfo, quality, TRUE);
  jpeg_start_compress(&c->cinfo, TRUE);
  while (c->cinfo.next_scanline < c->cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image->row(int(c->cinfo.next_scanline)));
    jpeg_write_scanlines(&c->cinfo, &row, 1);
  }
  jpeg_finish_compress(&c->cinfo);
  return true;
}

}  // namespace
}  // namespace clipt::data::detail

namespace clipt::data {

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  CLIPT_CHECK(image.width > 0 && image.height > 0, "encode_jpeg: empty image {}x{}", image.width, image.height);
  CLIPT_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality must be in [1, 100], got {}", quality);
  CLIPT_CHECK(image.pixels.size() == size_t(image.width) * size_t(image.height) * 3,
              "encode_jpeg: {}x{} image holds {} bytes", image.width, image.height, image.pixels.size());
  detail::Compressor c;
  if (!detail::compress(&c, &image, quality)) fail("encode_jpeg: {}", c.err.message);
  return std::vector<uint8_t>(c.buffer, c.buffer + c.size);
}

}  // namespace clipt::data
