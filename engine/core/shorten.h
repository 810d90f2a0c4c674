// A value from the user (an option, a config value, a file's content) as an error line quotes it: at most
// `max` characters, the cut marked with how many were left out, so one line stays readable whatever the
// input was.
#pragma once
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace clipt {

inline std::string shorten(std::string_view value, size_t max = 160) {
  if (value.size() <= max) return std::string(value);
  return fmt::format("{}... ({} more characters)", value.substr(0, max), value.size() - max);
}

}  // namespace clipt
