#include "data/image_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "data/image.h"
#include "engine/core/error.h"

namespace clipt::data {
namespace {

constexpr size_t kFirstRead = 4096;

// An open file read by offset; closed on scope exit.
class FileReader {
 public:
  explicit FileReader(const std::filesystem::path& path)
      : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) fail("cannot open image {}: {}", path_.string(), std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot read image {}: {}", path_.string(), std::strerror(errno));
    size_ = size_t(st.st_size);
  }
  ~FileReader() { ::close(fd_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  size_t size() const { return size_; }
  std::vector<uint8_t> read(size_t offset, size_t n) const {
    std::vector<uint8_t> bytes(n);
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, bytes.data() + done, n - done, off_t(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail("cannot read image {}: {}", path_.string(), std::strerror(errno));
      if (got == 0) fail("cannot read image {}: the file shrank while it was checked", path_.string());
      done += size_t(got);
    }
    return bytes;
  }

 private:
  std::filesystem::path path_;
  int fd_;
  size_t size_ = 0;
};

bool ends_with(const std::vector<uint8_t>& tail, std::initializer_list<uint8_t> marker) {
  return tail.size() >= marker.size() && std::equal(marker.begin(), marker.end(), tail.end() - long(marker.size()));
}

}  // namespace

void check_image_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("cannot read image {}: it is a folder", path.string());
  const FileReader file(path);
  // The header: a growing prefix until it parses, or the whole file fails to.
  ImageFormat format = ImageFormat::Jpeg;
  for (size_t n = std::min(file.size(), kFirstRead);; n = std::min(file.size(), n * 8)) {
    try {
      format = EncodedImage::from_bytes(file.read(0, n), path.string()).format();
      break;
    } catch (const Error&) {
      if (n == file.size()) throw;  // the whole file: a real error (it names the path)
    }
  }
  // The end: a file cut short lacks its end marker.
  const std::vector<uint8_t> tail =
      file.read(file.size() - std::min<size_t>(file.size(), 12), std::min<size_t>(file.size(), 12));
  const bool complete = format == ImageFormat::Jpeg
                            ? ends_with(tail, {0xFF, 0xD9})
                            : ends_with(tail, {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82});
  if (!complete) decode(EncodedImage::read(path));  // bytes after the marker, or truncated: as the loader sees it
}

void check_split_images(const DatasetSplits& splits, const std::string& dataset) {
  std::vector<const Sample*> samples;
  for (const auto* part : {&splits.train, &splits.val, &splits.test})
    for (const auto& s : *part) samples.push_back(&s);
  const int64_t total = int64_t(samples.size());
  std::vector<char> missing(samples.size(), 0);
  std::vector<std::string> problems(samples.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < total; ++i) {
    const std::string& path = samples[size_t(i)]->path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      missing[size_t(i)] = 1;
      continue;
    }
    try {
      check_image_file(path);
    } catch (const Error& e) { problems[size_t(i)] = e.what(); } catch (const std::bad_alloc&) {
      problems[size_t(i)] = fmt::format("out of memory reading image {}", path);
    }
  }
  int64_t n_missing = 0, n_bad = 0;
  std::string first_missing, first_bad;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (missing[i] && n_missing++ == 0) first_missing = samples[i]->path;
    if (!problems[i].empty() && n_bad++ == 0) first_bad = problems[i];
  }
  CLIPT_CHECK(n_missing == 0, "{} of the {} images of {} (train, val and test) do not exist, e.g. {}", n_missing, total,
              dataset, first_missing);
  CLIPT_CHECK(n_bad == 0, "{} of the {} images of {} (train, val and test) cannot be read, e.g. {}", n_bad, total,
              dataset, first_bad);
}

}  // namespace clipt::data
