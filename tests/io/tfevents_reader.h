// A reader of TensorBoard event files written for the tests, independent of engine/io/tfevents.cpp: it
// checks every record's length and data CRCs with a bit-by-bit CRC32C (no table) and decodes the Event
// protos field by field, refusing anything it does not expect.
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace clipt::test {

struct ReadEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version, tag;
  float value = 0;
  bool has_value = false;
};

inline uint32_t crc32c_bitwise(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char byte : s) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
  }
  return ~c;
}

inline uint32_t masked(uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; }

struct ProtoReader {
  const std::string& b;
  size_t at, end;
  bool done() const { return at >= end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (at >= end || shift > 63) throw std::runtime_error("bad varint");
      const uint8_t byte = uint8_t(b[at++]);
      v |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
  }
  template <typename T> T fixed() {
    if (at + sizeof(T) > end) throw std::runtime_error("truncated fixed field");
    T v;
    std::memcpy(&v, b.data() + at, sizeof(T));
    at += sizeof(T);
    return v;
  }
  ProtoReader sub() {
    const uint64_t n = varint();
    if (at + n > end) throw std::runtime_error("truncated length-delimited field");
    ProtoReader r{b, at, at + n};
    at += n;
    return r;
  }
};

inline ReadEvent decode_event(const std::string& data) {
  ReadEvent e;
  ProtoReader r{data, 0, data.size()};
  while (!r.done()) {
    const uint64_t key = r.varint();
    switch (key) {
      case (1 << 3) | 1: e.wall_time = r.fixed<double>(); break;
      case (2 << 3) | 0: e.step = int64_t(r.varint()); break;
      case (3 << 3) | 2: {
        ProtoReader s = r.sub();
        e.file_version = data.substr(s.at, s.end - s.at);
        break;
      }
      case (5 << 3) | 2: {  // Summary
        ProtoReader summary = r.sub();
        while (!summary.done()) {
          if (summary.varint() != ((1 << 3) | 2)) throw std::runtime_error("unexpected Summary field");
          ProtoReader value = summary.sub();
          while (!value.done()) {
            const uint64_t vkey = value.varint();
            if (vkey == ((1 << 3) | 2)) {
              ProtoReader t = value.sub();
              e.tag = data.substr(t.at, t.end - t.at);
            } else if (vkey == ((2 << 3) | 5)) {
              e.value = value.fixed<float>();
              e.has_value = true;
            } else {
              throw std::runtime_error("unexpected Summary.Value field");
            }
          }
        }
        break;
      }
      default: throw std::runtime_error("unexpected Event field " + std::to_string(key));
    }
  }
  return e;
}

// Every event of a file; throws on a bad CRC or a truncated record.
inline std::vector<ReadEvent> read_events(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  std::vector<ReadEvent> out;
  size_t at = 0;
  while (at < bytes.size()) {
    if (at + 12 > bytes.size()) throw std::runtime_error("truncated record header");
    const std::string len_bytes = bytes.substr(at, 8);
    uint64_t len;
    uint32_t len_crc, data_crc;
    std::memcpy(&len, len_bytes.data(), 8);
    std::memcpy(&len_crc, bytes.data() + at + 8, 4);
    if (len_crc != masked(crc32c_bitwise(len_bytes))) throw std::runtime_error("bad length CRC");
    if (at + 12 + len + 4 > bytes.size()) throw std::runtime_error("truncated record");
    const std::string data = bytes.substr(at + 12, len);
    std::memcpy(&data_crc, bytes.data() + at + 12 + len, 4);
    if (data_crc != masked(crc32c_bitwise(data))) throw std::runtime_error("bad data CRC");
    out.push_back(decode_event(data));
    at += 12 + len + 4;
  }
  return out;
}

}  // namespace clipt::test
