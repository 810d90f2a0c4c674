// One owner per run folder (flock, released when the holder ends, even when killed), the sweep of
// temporaries that killed writes leave, and a failed write (a full disk) leaving no temporary behind.
#include "engine/io/folder_lock.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "engine/config/config.h"
#include "engine/io/atomic_file.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FolderLock, ASecondOwnerFailsNamingTheHoldersPid) {
  const fs::path dir = test::scratch_dir("run");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // another process that owns the folder, then waits to be killed
    const io::FolderLock lock(dir);
    std::ofstream(dir / "ready") << "1";
    ::pause();
    ::_exit(0);
  }
  while (!fs::exists(dir / "ready")) ::usleep(1000);
  EXPECT_ERROR_CONTAINS(io::FolderLock{dir}, "is in use by another clipt process (pid " + std::to_string(child) + ")");
  ::kill(child, SIGKILL);  // killed holders release the lock: the next owner gets it at once
  ::waitpid(child, nullptr, 0);
  EXPECT_NO_THROW(io::FolderLock{dir});
}

TEST(FolderLock, StaleTemporariesOfKilledWritesAreRemoved) {
  const fs::path dir = test::scratch_dir("run");
  fs::create_directories(dir / "checkpoints");
  std::ofstream(dir / ".results.json.tmp-123-0") << "partial";
  std::ofstream(dir / "checkpoints" / ".epoch-2.safetensors.tmp-123-7") << "partial";
  std::ofstream(dir / "results.json") << "{}";
  std::ofstream(dir / ".hidden.tmp-notmine") << "kept";
  EXPECT_EQ(io::remove_stale_temp_files(dir), 2);
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{".hidden.tmp-notmine", "checkpoints", "results.json"}));
  EXPECT_TRUE(fs::is_empty(dir / "checkpoints"));
}

// RLIMIT_FSIZE makes every write past 1 KB fail with EFBIG, as a full disk fails with ENOSPC: the config
// (and any atomic write) fails with an error and leaves the folder as it was, without a temporary file.
TEST(FolderLock, AFailedWriteLeavesNoTemporary) {
  const fs::path dir = test::scratch_dir("full");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int failures = 0;
    Config cfg;
    cfg.define("A.LONG_VALUE", std::string(4096, 'x'));
    try {
      cfg.save(dir / "config.yaml");
    } catch (const Error&) { ++failures; }
    try {
      io::write_file_atomic(dir / "results.json", std::string(4096, 'y'));
    } catch (const Error&) { ++failures; }
    ::_exit(failures);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << "both writes fail";
  EXPECT_EQ(names_in(dir), std::vector<std::string>{});
}

}  // namespace
}  // namespace clipt
