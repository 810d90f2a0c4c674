// Comma-separated option values shared by the protocol commands (dg, xd).
#pragma once
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace clipt::apps {

inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

inline std::vector<int64_t> parse_seeds(const std::string& s, const char* command) {
  std::vector<int64_t> out;
  for (const auto& item : split_commas(s)) {
    try {
      size_t used = 0;
      out.push_back(std::stoll(item, &used));
      CLIPT_CHECK(used == item.size(), "trailing characters");
    } catch (const std::exception&) { fail("{}: seed '{}' is not an integer", command, item); }
  }
  CLIPT_CHECK(!out.empty(), "{}: --seeds lists no seed", command);
  return out;
}

}  // namespace clipt::apps
