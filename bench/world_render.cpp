// Rendering throughput of the built-in world (issue 7 asks for ≥ 2,000 images/s per core at 64×64).
// Single thread, timed in thread CPU time; each style and the pretraining mix; prints JSON. Sampling the scene is
// included (it is part of producing an image), PNG encoding is reported separately.
//
//   bench_world_render [--size 64] [--images 4000] [--contact-sheet out.png]
//
// --contact-sheet writes a grid of sample images (one row per style) for looking at.
#include <fmt/format.h>
#include <time.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "data/world/png_io.h"
#include "data/world/render.h"
#include "data/world/scene.h"

using namespace clipt::world;

namespace {

// CPU time of this thread: "per core" even when other processes share the machine.
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void write_contact_sheet(const std::string& path, int size) {
  const int cols = 10, rows = kNumStyles + 1, pad = 2;
  Image sheet;
  sheet.width = cols * (size + pad) + pad;
  sheet.height = rows * (size + pad) + pad;
  sheet.pixels.assign(size_t(sheet.width) * size_t(sheet.height) * 3, 255);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      SceneOptions options;
      // The last row shows photo scenes with distractors forced on.
      options.style = r < kNumStyles ? Style(r) : Style::Photo;
      options.distractor_probability = r < kNumStyles ? 0.3f : 1.0f;
      const Scene scene = sample_scene(options, derive_seed(7, 0, uint64_t(r), uint64_t(c)));
      const Image img = render(scene, size, size);
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
          for (int ch = 0; ch < 3; ++ch)
            sheet.pixels[(size_t(pad + r * (size + pad) + y) * size_t(sheet.width) +
                          size_t(pad + c * (size + pad) + x)) *
                             3 +
                         size_t(ch)] = img.pixels[(size_t(y) * size_t(size) + size_t(x)) * 3 + size_t(ch)];
    }
  write_png(path, sheet);
}

}  // namespace

int main(int argc, char** argv) {
  int size = 64, images = 4000;
  std::string sheet;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--size" && i + 1 < argc)
      size = std::atoi(argv[++i]);
    else if (a == "--images" && i + 1 < argc)
      images = std::atoi(argv[++i]);
    else if (a == "--contact-sheet" && i + 1 < argc)
      sheet = argv[++i];
    else {
      fmt::print(stderr, "usage: bench_world_render [--size N] [--images N] [--contact-sheet out.png]\n");
      return 2;
    }
  }
  if (!sheet.empty()) write_contact_sheet(sheet, size);

  std::vector<uint8_t> out(size_t(size) * size_t(size) * 3);
  std::vector<std::string> rows;
  double worst = 1e30;
  for (int s = 0; s <= kNumStyles; ++s) {
    SceneOptions options;
    const bool mixed = s == kNumStyles;  // all styles in turn, as pretraining draws them
    uint64_t checksum = 0;
    const double t0 = thread_seconds();
    for (int i = 0; i < images; ++i) {
      options.style = mixed ? Style(i % kNumStyles) : Style(s);
      const Scene scene = sample_scene(options, derive_seed(1, 0, uint64_t(s), uint64_t(i)));
      render(scene, size, size, out.data());
      checksum += out[size_t(i) % out.size()];
    }
    const double rate = images / (thread_seconds() - t0);
    if (!mixed) worst = std::min(worst, rate);
    rows.push_back(fmt::format("{{\"style\": \"{}\", \"images_per_s\": {:.0f}, \"checksum\": {}}}",
                               mixed ? "mixed" : std::string(style_name(Style(s))), rate, checksum));
  }
  Image img;
  img.width = img.height = size;
  img.pixels = out;
  const double t0 = thread_seconds();
  size_t png_bytes = 0;
  for (int i = 0; i < images / 4; ++i) png_bytes += encode_png(img).size();
  const double png_rate = (images / 4) / (thread_seconds() - t0);
  fmt::print(
      "{{\"bench\": \"world_render\", \"size\": {}, \"threads\": 1, \"styles\": [{}],\n"
      " \"figure\": \"images/s per core (slowest style)\", \"value\": {:.0f}, \"reference\": 2000, "
      "\"ratio\": {:.2f},\n \"png_encode_per_s\": {:.0f}, \"png_bytes_avg\": {}}}\n",
      size, fmt::join(rows, ",\n   "), worst, worst / 2000.0, png_rate, png_bytes / size_t(images / 4));
  return 0;
}
