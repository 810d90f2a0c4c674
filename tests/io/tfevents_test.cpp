// TensorBoard event files: CRC32C against its published check value, and scalars read back (by the
// independent reader in tfevents_reader.h) with the tags, steps and values written.
#include "engine/io/tfevents.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "tests/io/tfevents_reader.h"

namespace clipt::io {
namespace {

namespace fs = std::filesystem;

TEST(TfEvents, Crc32cCheckValue) {
  // The CRC-32C check value of "123456789" (RFC 3720 / the Castagnoli catalogue entry).
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  const std::string s = "clipt tensorboard";
  EXPECT_EQ(crc32c(s.data(), s.size()), test::crc32c_bitwise(s));
}

TEST(TfEvents, ScalarsReadBack) {
  const fs::path dir = fs::temp_directory_path() / ("clipt_tfevents_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    TfEventsWriter w(dir);
    EXPECT_FALSE(fs::exists(dir));  // nothing is created before the first scalar
    w.add_scalar("train/loss", 2.5, 1);
    w.add_scalar("train/lr", 0.002, 300);
    w.add_scalar("test/accuracy", 71.25, 1234567890123);
    EXPECT_EQ(w.file().filename().string().rfind("events.out.tfevents.", 0), 0u);
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  const auto events = test::read_events(files[0].string());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.6e9);
  EXPECT_EQ(events[1].tag, "train/loss");
  EXPECT_EQ(events[1].value, 2.5f);
  EXPECT_EQ(events[1].step, 1);
  EXPECT_EQ(events[2].tag, "train/lr");
  EXPECT_EQ(events[2].value, 0.002f);
  EXPECT_EQ(events[2].step, 300);
  EXPECT_EQ(events[3].tag, "test/accuracy");
  EXPECT_EQ(events[3].value, 71.25f);
  EXPECT_EQ(events[3].step, 1234567890123);
  EXPECT_GE(events[3].wall_time, events[0].wall_time);
  // A flipped byte is caught by the reader's CRC check (the test's reader can fail).
  std::string rec = tfrecord(scalar_event("a", 1.0f, 2, 3.0));
  rec[14] ^= 1;
  const fs::path bad = dir / "bad";
  std::ofstream(bad, std::ios::binary) << rec;
  EXPECT_THROW(test::read_events(bad.string()), std::runtime_error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace clipt::io
