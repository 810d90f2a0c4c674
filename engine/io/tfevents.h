// TensorBoard scalars, written the way Dassl's trainer does (torch.utils.tensorboard's SummaryWriter), so
// `tensorboard --logdir RUN` shows clipt's runs without any Python installed next to clipt.
//
// The file format (events.out.tfevents.<unix seconds>.<host>) is TFRecord framing around Event protocol
// buffers; both are small enough to write by hand, so clipt needs neither TensorFlow nor protobuf:
//  - a record is: uint64 length (little-endian), uint32 masked CRC32C of those 8 bytes, the data, uint32
//    masked CRC32C of the data; masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (CRC32C = Castagnoli);
//  - the first record is Event{wall_time = 1, file_version = 3: "brain.Event:2"};
//  - a scalar is Event{wall_time = 1 (double), step = 2 (varint), summary = 5: Summary{value = 1:
//    Value{tag = 1 (string), simple_value = 2 (float)}}} (tensorflow/core/util/event.proto, summary.proto).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace clipt::io {

uint32_t crc32c(const void* data, size_t n);
uint32_t masked_crc32c(const void* data, size_t n);

// One TFRecord (framing above) around `data`.
std::string tfrecord(std::string_view data);
// The serialised Event protos.
std::string file_version_event(double wall_time);
std::string scalar_event(const std::string& tag, float value, int64_t step, double wall_time);

// Appends scalars to a new events file in `dir` (created on the first scalar). Flushes after each, so a
// killed run keeps what it logged.
class TfEventsWriter {
 public:
  explicit TfEventsWriter(std::filesystem::path dir) : dir_(std::move(dir)) {}
  void add_scalar(const std::string& tag, double value, int64_t step);
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path dir_, file_;
  std::ofstream out_;
};

}  // namespace clipt::io
