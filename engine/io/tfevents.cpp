#include "engine/io/tfevents.h"

#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

#include "engine/core/error.h"

namespace clipt::io {

namespace {

// Table of the reflected Castagnoli polynomial 0x82f63b78, one byte at a time.
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += char(uint8_t(v) | 0x80);
    v >>= 7;
  }
  out += char(uint8_t(v));
}

template <typename T> void put_fixed(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // little-endian hosts (x86-64, aarch64), as protobuf's wire format
  out.append(bytes, sizeof(T));
}

void put_bytes_field(std::string& out, uint32_t field, std::string_view bytes) {
  put_varint(out, (uint64_t(field) << 3) | 2);
  put_varint(out, bytes.size());
  out.append(bytes);
}

std::string event_head(double wall_time) {
  std::string e;
  put_varint(e, (1 << 3) | 1);  // wall_time: double
  put_fixed(e, wall_time);
  return e;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  const auto& t = crc_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = t[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint32_t masked_crc32c(const void* data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord(std::string_view data) {
  std::string out;
  put_fixed(out, uint64_t(data.size()));
  put_fixed(out, masked_crc32c(out.data(), 8));
  out.append(data);
  put_fixed(out, masked_crc32c(data.data(), data.size()));
  return out;
}

std::string file_version_event(double wall_time) {
  std::string e = event_head(wall_time);
  put_bytes_field(e, 3, "brain.Event:2");
  return e;
}

std::string scalar_event(const std::string& tag, float value, int64_t step, double wall_time) {
  std::string v;
  put_bytes_field(v, 1, tag);
  put_varint(v, (2 << 3) | 5);  // simple_value: float
  put_fixed(v, value);
  std::string summary;
  put_bytes_field(summary, 1, v);
  std::string e = event_head(wall_time);
  put_varint(e, 2 << 3);  // step: int64 varint (two's complement for negatives, as protobuf)
  put_varint(e, uint64_t(step));
  put_bytes_field(e, 5, summary);
  return e;
}

void TfEventsWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  const double now = now_seconds();
  if (!out_.is_open()) {
    std::filesystem::create_directories(dir_);
    char host[256] = "localhost";
    ::gethostname(host, sizeof(host) - 1);
    // The pid keeps two writers started in the same second apart (as SummaryWriter's file names do).
    file_ = dir_ / fmt::format("events.out.tfevents.{}.{}.{}", int64_t(now), host, ::getpid());
    out_.open(file_, std::ios::binary | std::ios::app);
    CLIPT_CHECK(out_.good(), "cannot write the TensorBoard file {}", file_.string());
    out_ << tfrecord(file_version_event(now));
  }
  out_ << tfrecord(scalar_event(tag, float(value), step, now));
  out_.flush();
}

}  // namespace clipt::io
