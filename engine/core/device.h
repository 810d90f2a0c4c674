// Where a tensor's memory lives: the host, or CUDA device N.
#pragma once
#include <string>
#include <string_view>

namespace clipt {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu" or "cuda:0"
};

Device parse_device(std::string_view s);  // "cpu", "cuda", "cuda:N"

}  // namespace clipt
