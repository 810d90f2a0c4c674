// Helpers shared by the data-layer tests (header-only: the test build compiles *_test.cpp files only).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"
#include "tests/common/test_util.h"

namespace clipt::test {

inline std::filesystem::path data_fixtures() { return golden_dir() / "data"; }

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

// Writes bytes (creating parent folders); plain writes keep the replicas fast to build.
inline void put_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}
inline void put_text(const std::filesystem::path& path, const std::string& text) {
  put_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// A deterministic test picture: gradients plus a block whose position depends on `seed`.
inline data::Image test_picture(int width, int height, int seed) {
  data::Image img(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const bool block = ((x + seed * 7) % width) < width / 3 && ((y + seed * 3) % height) < height / 2;
      img.at(x, y, 0) = uint8_t(block ? 250 : (x * 255) / std::max(1, width - 1));
      img.at(x, y, 1) = uint8_t(block ? 30 : (y * 255) / std::max(1, height - 1));
      img.at(x, y, 2) = uint8_t((seed * 37 + x * 3 + y * 5) % 256);
    }
  return img;
}

// Largest absolute difference between two images of the same size (−1 if the sizes differ), and the
// number of differing bytes.
struct ImageDiff {
  int max_abs = 0;
  size_t differing = 0;
};
inline ImageDiff diff_images(const data::Image& a, const data::Image& b) {
  ImageDiff d;
  if (a.width != b.width || a.height != b.height) return {-1, 0};
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int v = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    if (v > 0) ++d.differing;
    d.max_abs = std::max(d.max_abs, v);
  }
  return d;
}

// N small images under `dir` (PNG and JPEG alternating, sizes varying), labels i % 3 and domains i % 2.
inline std::vector<data::Sample> mixed_image_samples(const std::filesystem::path& dir, int n) {
  std::vector<data::Sample> samples;
  for (int i = 0; i < n; ++i) {
    const data::Image img = test_picture(40 + i % 7, 30 + i % 5, i);
    const std::filesystem::path p = dir / ("img" + std::to_string(i) + (i % 2 ? ".jpg" : ".png"));
    put_file(p, i % 2 ? data::encode_jpeg(img, 90) : data::encode_png(img));
    samples.push_back({p.string(), i % 3, "class" + std::to_string(i % 3), i % 2});
  }
  return samples;
}

}  // namespace clipt::test
