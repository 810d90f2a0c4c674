// One owner per run folder: a process that trains into (or otherwise writes) a run folder holds an
// exclusive flock(2) on <folder>/.clipt.lock for as long as it works there. A second process asking for
// the same folder fails at once with the holder's pid instead of interleaving logs, metrics and
// checkpoints with it. The kernel drops the lock when the holder exits, even on SIGKILL, so a stale lock
// file never blocks anyone; the file itself stays (removing it would race with a new owner).
#pragma once
#include <filesystem>

namespace clipt::io {

class FolderLock {
 public:
  // Creates `dir` if needed and locks it. Held elsewhere: Error "<dir> is in use by another clipt process
  // (pid N) ...". `purpose` ends the hint (e.g. "choose another --output-dir").
  explicit FolderLock(const std::filesystem::path& dir, const char* purpose = "choose another --output-dir");
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  static std::filesystem::path lock_file(const std::filesystem::path& dir) { return dir / ".clipt.lock"; }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
};

// Removes what killed atomic writes (AtomicWriter's hidden ".<name>.tmp-<pid>-<n>" files) left in `dir`
// and its immediate subfolders; returns how many. Only safe in a folder this process owns (FolderLock):
// there, no other writer can be mid-write.
int remove_stale_temp_files(const std::filesystem::path& dir);

}  // namespace clipt::io
