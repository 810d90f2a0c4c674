// The world's PNG writer goes through the engine's atomic writer: a write that fails part-way (a full disk,
// here the file-size limit) leaves the previous file intact and no temporary file behind, so a killed or
// failed benchmark build never leaves partial files in the published folder.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "data/world/png_io.h"
#include "tests/common/test_util.h"

namespace clipt::world {
namespace {

std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

Image noise(int w, int h, uint32_t seed) {
  Image im;
  im.width = w;
  im.height = h;
  im.pixels.resize(size_t(w) * size_t(h) * 3);
  uint32_t x = seed;
  for (auto& p : im.pixels) {  // xorshift: incompressible, so the PNG is about as large as the pixels
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p = uint8_t(x);
  }
  return im;
}

TEST(WorldPngIo, FailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  const auto dir = test::scratch_dir("world_png_atomic");
  const auto target = dir / "test_0001.png";
  const Image small = noise(8, 8, 1);
  write_png(target, small);

  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit lowered = saved;
  lowered.rlim_cur = 100000;  // the next image is ~270 KB: write() fails with EFBIG part-way
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lowered), 0);
  EXPECT_ERROR_CONTAINS(write_png(target, noise(300, 300, 2)), "File too large");
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);

  EXPECT_EQ(listing(dir), std::vector<std::string>{"test_0001.png"});
  EXPECT_EQ(read_png(target).pixels, small.pixels);
}

}  // namespace
}  // namespace clipt::world
