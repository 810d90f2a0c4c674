#include "engine/io/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>

#include "engine/core/error.h"

namespace clipt::io {

namespace {

// The pid the holder wrote into the lock file, or "unknown" (it may not have written it yet).
std::string holder_pid(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string pid;
  in >> pid;
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

FolderLock::FolderLock(const std::filesystem::path& dir, const char* purpose) : dir_(dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  CLIPT_CHECK(!ec, "cannot create {}: {}", dir.string(), ec.message());
  const auto file = lock_file(dir);
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  CLIPT_CHECK(fd_ >= 0, "cannot open the lock file {}: {}", file.string(), std::strerror(errno));
  int rc;
  do rc = ::flock(fd_, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      fail("{} is in use by another clipt process (pid {}); wait for it to finish or {}", dir.string(),
           holder_pid(file), purpose);
    fail("cannot lock {}: {}", file.string(), std::strerror(err));
  }
  // Ours now: record our pid for the next asker (a failure here only loses that detail).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) { [[maybe_unused]] const ssize_t w = ::pwrite(fd_, pid.data(), pid.size(), 0); }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
}

int remove_stale_temp_files(const std::filesystem::path& dir) {
  static const std::regex temp_name(R"(\..+\.tmp-[0-9]+-[0-9]+)");
  int removed = 0;
  std::error_code ec;
  auto sweep = [&](const std::filesystem::path& folder) {
    for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
      const std::string name = e.path().filename().string();
      std::error_code rm;
      if (e.is_regular_file(rm) && std::regex_match(name, temp_name) && std::filesystem::remove(e.path(), rm))
        ++removed;
    }
  };
  sweep(dir);
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code sub;
    if (e.is_directory(sub) && !e.is_symlink(sub)) sweep(e.path());
  }
  return removed;
}

}  // namespace clipt::io
