// Atomic file replacement: every output file of clipt (checkpoints, results.json, metrics, converted
// weights) is written through here, so a reader never sees a half-written file and a failed or
// interrupted write never damages the previous version.
//
// How: the bytes go to a temporary file in the target's own directory (rename is only atomic within
// one filesystem), which is fsync'ed, renamed over the target and then the directory is fsync'ed so the
// rename itself survives a crash. On any error, or when the writer is destroyed without commit(), the
// temporary file is removed and the target is left exactly as it was.
//
// The target's parent directory must exist. If the target is a symbolic link, the link itself is
// replaced by a regular file (the file it pointed to is not modified).
#pragma once
#include <cstddef>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string_view>

namespace clipt::io {

class AtomicWriter {
 public:
  // Creates the temporary file next to `target` (throws clipt::Error naming both on failure).
  explicit AtomicWriter(std::filesystem::path target);
  // Without a successful commit(), removes the temporary file; never throws.
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(const void* data, size_t nbytes);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // Stream-like use: `writer << json.dump(2) << '\n';` (anything std::ostream can print).
  template <typename T> AtomicWriter& operator<<(const T& value) {
    stream() << value;
    return *this;
  }
  // A std::ostream writing into the temporary file; its errors are reported by commit().
  std::ostream& stream();

  // Flushes, fsyncs, renames over the target and fsyncs the directory. After a failure the temporary
  // file is gone and the target untouched. Calling write/commit after commit() is an error.
  void commit();
  // Drops everything written so far (the destructor does the same).
  void abandon() noexcept;

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  bool committed() const { return committed_; }

 private:
  class FdBuf;
  void check_open(const char* what) const;

  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool committed_ = false;
  bool temp_exists_ = false;
  std::unique_ptr<FdBuf> buf_;
  std::unique_ptr<std::ostream> stream_;
};

// Writes `bytes` to `path` atomically (see AtomicWriter).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
void write_file_atomic(const std::filesystem::path& path, const void* data, size_t nbytes);

}  // namespace clipt::io
