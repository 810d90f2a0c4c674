// AtomicWriter / write_file_atomic: content, replacement, cleanup on every failure path, and that a
// concurrent reader only ever sees complete versions.
#include "engine/io/atomic_file.h"

#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/common/test_util.h"

namespace clipt::io {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng() & 0xff);
  return s;
}

TEST(AtomicFile, WritesNewFileAndLeavesNoTemporary) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "out.bin";
  const std::string bytes = random_bytes(3 * 65536 + 17, 1);  // several buffer lengths, odd tail
  write_file_atomic(target, bytes);
  EXPECT_EQ(read_all(target), bytes);
  EXPECT_EQ(listing(dir), std::vector<std::string>{"out.bin"});
}

TEST(AtomicFile, ReplacesExistingFile) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "results.json";
  write_file_atomic(target, std::string(1000, 'x'));
  write_file_atomic(target, "{}\n");
  EXPECT_EQ(read_all(target), "{}\n");
  write_file_atomic(target, "");
  EXPECT_EQ(read_all(target), "");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"results.json"});
}

TEST(AtomicFile, StreamLikeWritesMixWithRawWrites) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "metrics.txt";
  {
    AtomicWriter w(target);
    EXPECT_EQ(w.temp_path().parent_path(), target.parent_path());  // same filesystem, so rename is atomic
    EXPECT_TRUE(fs::exists(w.temp_path()));
    EXPECT_FALSE(fs::exists(target));  // nothing visible before commit
    w << "epoch " << 3 << " loss " << 0.5 << '\n';
    w.write(std::string_view("raw\n"));
    w.stream() << "last";
    w.commit();
    EXPECT_TRUE(w.committed());
    EXPECT_FALSE(fs::exists(w.temp_path()));
    EXPECT_ERROR_CONTAINS(w.write(std::string_view("more")), "already committed");
  }
  EXPECT_EQ(read_all(target), "epoch 3 loss 0.5\nraw\nlast");
}

TEST(AtomicFile, DestroyWithoutCommitLeavesTargetUntouched) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "ckpt.bin";
  write_file_atomic(target, "old");
  fs::path temp;
  {
    AtomicWriter w(target);
    temp = w.temp_path();
    w.write(random_bytes(200000, 2));
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(read_all(target), "old");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"ckpt.bin"});
}

TEST(AtomicFile, ExceptionMidWriteLeavesTargetUntouched) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "ckpt.bin";
  write_file_atomic(target, "old");
  auto produce = [&] {
    AtomicWriter w(target);
    w << "partial";
    fail("simulated failure while serialising");
  };
  EXPECT_ERROR_CONTAINS(produce(), "simulated failure");
  EXPECT_EQ(read_all(target), "old");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"ckpt.bin"});
}

TEST(AtomicFile, AbandonDropsTheWrite) {
  const auto dir = test::scratch_dir("atomic");
  AtomicWriter w(dir / "a.txt");
  w << "data";
  w.abandon();
  EXPECT_ERROR_CONTAINS(w.commit(), "abandoned");
  EXPECT_TRUE(listing(dir).empty());
}

TEST(AtomicFile, MissingDirectoryIsAnError) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "no_such_dir" / "out.bin";
  EXPECT_ERROR_CONTAINS(write_file_atomic(target, "x"), target.string());
  EXPECT_ERROR_CONTAINS(write_file_atomic(target, "x"), "No such file or directory");
  EXPECT_ERROR_CONTAINS(write_file_atomic(dir / "", "x"), "names a directory");
}

// A real write failure: with the file-size limit lowered (and SIGXFSZ ignored) write() fails with
// EFBIG part-way through. The target must keep its old bytes and the temporary must go.
TEST(AtomicFile, WriteErrorLeavesTargetUntouched) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "big.bin";
  write_file_atomic(target, "old");
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit lowered = saved;
  lowered.rlim_cur = 100000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lowered), 0);
  auto produce = [&] {
    AtomicWriter w(target);
    for (int i = 0; i < 10; ++i) w << std::string(50000, 'y');  // buffered: may fail in write or commit
    w.commit();
  };
  EXPECT_ERROR_CONTAINS(produce(), "File too large");
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_EQ(read_all(target), "old");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"big.bin"});
}

// A reader polling the file while it is replaced again and again must only ever see whole versions.
TEST(AtomicFile, ConcurrentReaderSeesOnlyCompleteVersions) {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "state.txt";
  const std::string small(100, 'a'), large(300000, 'b');
  write_file_atomic(target, small);
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      const std::string s = read_all(target);
      if (s != small && s != large) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 100; ++i) write_file_atomic(target, i % 2 ? small : large);
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace clipt::io
