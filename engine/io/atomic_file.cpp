#include "engine/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <streambuf>
#include <vector>

#include "engine/core/error.h"

namespace clipt::io {
namespace {

std::string errno_str(int err) { return std::strerror(err); }

// Writes all of [data, data + n) to fd, retrying partial writes and EINTR. Returns 0 or the errno.
int write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += w;
    n -= size_t(w);
  }
  return 0;
}

std::filesystem::path parent_dir(const std::filesystem::path& target) {
  auto dir = target.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

}  // namespace

// A buffered streambuf over a file descriptor that remembers the first write error (std::ostream would
// only set badbit and lose the reason), so commit() can report it.
class AtomicWriter::FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd), buffer_(size_t(1) << 16) { reset_put_area(); }

  int error() const { return error_; }

  bool flush_buffer() {
    if (error_ != 0) return false;
    const size_t pending = size_t(pptr() - pbase());
    if (pending > 0) error_ = write_all(fd_, pbase(), pending);
    reset_put_area();
    return error_ == 0;
  }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (error_ != 0) return 0;
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), s, size_t(n));
      pbump(int(n));
      return n;
    }
    if (!flush_buffer()) return 0;
    if (n >= std::streamsize(buffer_.size())) {  // large blocks bypass the buffer
      error_ = write_all(fd_, s, size_t(n));
      return error_ == 0 ? n : 0;
    }
    std::memcpy(pptr(), s, size_t(n));
    pbump(int(n));
    return n;
  }

  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  void reset_put_area() { setp(buffer_.data(), buffer_.data() + buffer_.size()); }

  int fd_;
  int error_ = 0;
  std::vector<char> buffer_;
};

AtomicWriter::AtomicWriter(std::filesystem::path target) : target_(std::move(target)) {
  CLIPT_CHECK(!target_.empty(), "AtomicWriter: empty target path");
  CLIPT_CHECK(target_.has_filename(), "cannot write '{}': the path names a directory", target_.string());
  // The name is hidden (leading dot) so globs over the folder skip it; pid + counter make it unique per
  // writer, and O_EXCL makes a clash with a leftover from a crashed process fall through to the next name.
  static std::atomic<uint64_t> counter{0};
  const std::string base = fmt::format(".{}.tmp-{}-", target_.filename().string(), ::getpid());
  for (int attempt = 0;; ++attempt) {
    temp_ = parent_dir(target_) / (base + std::to_string(counter.fetch_add(1)));
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      temp_exists_ = true;
      break;
    }
    const int err = errno;
    if (err == EEXIST && attempt < 100) continue;
    fail("cannot write '{}': creating temporary file '{}' failed: {}", target_.string(), temp_.string(),
         errno_str(err));
  }
  buf_ = std::make_unique<FdBuf>(fd_);
  stream_ = std::make_unique<std::ostream>(buf_.get());
}

AtomicWriter::~AtomicWriter() {
  if (!committed_) abandon();
}

void AtomicWriter::check_open(const char* what) const {
  CLIPT_CHECK(!committed_, "AtomicWriter::{}: '{}' was already committed", what, target_.string());
  CLIPT_CHECK(fd_ >= 0, "AtomicWriter::{}: the write of '{}' was abandoned", what, target_.string());
}

std::ostream& AtomicWriter::stream() {
  check_open("stream");
  return *stream_;
}

void AtomicWriter::write(const void* data, size_t nbytes) {
  check_open("write");
  if (nbytes == 0) return;
  const auto* p = static_cast<const char*>(data);
  // sputn takes a signed count: feed huge buffers in pieces.
  while (nbytes > 0) {
    const size_t piece = std::min<size_t>(nbytes, size_t(1) << 30);
    if (buf_->sputn(p, std::streamsize(piece)) != std::streamsize(piece) || buf_->error() != 0) {
      const int err = buf_->error();
      abandon();
      fail("cannot write '{}': writing temporary file failed: {}", target_.string(),
           err ? errno_str(err) : "short write");
    }
    p += piece;
    nbytes -= piece;
  }
}

void AtomicWriter::commit() {
  check_open("commit");
  auto fail_and_clean = [this](const char* step, int err) {
    abandon();
    fail("cannot write '{}': {} of temporary file '{}' failed: {}", target_.string(), step, temp_.string(),
         errno_str(err));
  };
  stream_->flush();
  if (!buf_->flush_buffer()) fail_and_clean("writing", buf_->error());
  if (!*stream_) fail_and_clean("writing", EIO);
  if (::fsync(fd_) != 0) fail_and_clean("fsync", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {  // NFS and some FUSE filesystems report deferred write errors here
    const int err = errno;
    fail_and_clean("close", err);
  }
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail_and_clean("rename", errno);
  temp_exists_ = false;
  committed_ = true;

  // Make the rename durable. Filesystems that cannot sync a directory say EINVAL; nothing to do then.
  const auto dir = parent_dir(target_);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("wrote '{}' but could not open its directory to sync it: {}", target_.string(), errno_str(errno));
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0 && err != EINVAL && err != EROFS)
    fail("wrote '{}' but syncing its directory failed: {}", target_.string(), errno_str(err));
}

void AtomicWriter::abandon() noexcept {
  if (committed_) return;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (temp_exists_) {
    ::unlink(temp_.c_str());
    temp_exists_ = false;
  }
}

void write_file_atomic(const std::filesystem::path& path, const void* data, size_t nbytes) {
  AtomicWriter writer(path);
  writer.write(data, nbytes);
  writer.commit();
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace clipt::io
