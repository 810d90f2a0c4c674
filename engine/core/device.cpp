#include "engine/core/device.h"

#include <charconv>

#include "engine/core/error.h"

namespace clipt {

std::string Device::str() const { return is_cpu() ? "cpu" : fmt::format("cuda:{}", index); }

Device parse_device(std::string_view s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda" || s == "gpu") return Device::cuda(0);
  if (s.starts_with("cuda:")) {
    int idx = -1;
    auto rest = s.substr(5);
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), idx);
    if (ec == std::errc() && p == rest.data() + rest.size() && idx >= 0) return Device::cuda(idx);
  }
  fail("unknown device '{}' (expected cpu, cuda or cuda:N)", s);
}

}  // namespace clipt
