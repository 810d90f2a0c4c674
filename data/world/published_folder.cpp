#include "data/world/published_folder.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "data/world/png_io.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace clipt::world {

namespace fs = std::filesystem;

namespace {

// The first key (as a JSON pointer) where two values differ, for a readable error.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& at = "") {
  // Numbers compare by value: a parsed 3 is unsigned, a built one signed.
  if (a.is_number() && b.is_number()) return a == b ? "" : (at.empty() ? "/" : at);
  if (a.type() != b.type()) return at.empty() ? "/" : at;
  if (a.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (!b.contains(k)) return at + "/" + k;
      const std::string d = first_difference(v, b.at(k), at + "/" + k);
      if (!d.empty()) return d;
    }
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) return at + "/" + k;
    return "";
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return at.empty() ? "/" : at;
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string d = first_difference(a[i], b[i], at + "/" + std::to_string(i));
      if (!d.empty()) return d;
    }
    return "";
  }
  return a == b ? "" : (at.empty() ? "/" : at);
}

std::string value_at(const nlohmann::json& j, const std::string& key) {
  if (key == "/") return j.dump();
  const nlohmann::json::json_pointer ptr(key);
  return j.contains(ptr) ? j.at(ptr).dump() : "(absent)";
}

}  // namespace

bool published_folder_matches(const fs::path& dir, const nlohmann::json& marker) {
  if (!fs::exists(dir)) return false;
  const fs::path file = dir / kMarkerFile;
  CLIPT_CHECK(fs::is_regular_file(file),
              "{} exists but is not a finished world folder (no {}); remove it or choose another name", dir.string(),
              kMarkerFile);
  nlohmann::json found;
  try {
    std::ifstream in(file);
    found = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{} is not valid JSON ({}); remove {} or choose another name", file.string(), e.what(), dir.string());
  }
  if (found == marker) return true;
  const std::string key = first_difference(marker, found);
  fail(
      "{} was written with different parameters ({}: here {}, on disk {}); choose another name or root, or "
      "remove the folder to regenerate it",
      dir.string(), key, value_at(marker, key), value_at(found, key));
}

bool publish_folder(const fs::path& dir, const nlohmann::json& marker,
                    const std::function<void(const fs::path&)>& build) {
  if (published_folder_matches(dir, marker)) return false;
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  CLIPT_CHECK(fs::is_directory(dir.parent_path()), "cannot create folder {}: {}", dir.parent_path().string(),
              ec.message());
  static std::atomic<uint64_t> counter{0};
  const fs::path tmp =
      dir.parent_path() / fmt::format(".{}.partial.{}.{}", dir.filename().string(), ::getpid(), counter.fetch_add(1));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);
  try {
    build(tmp);
    const std::string text = marker.dump(2) + "\n";
    io::write_file_atomic(tmp / kMarkerFile, text.data(), text.size());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::rename(tmp, dir, ec);
  if (ec) {
    // Someone else published it first (rename onto a non-empty folder fails): theirs must match ours.
    fs::remove_all(tmp, ec);
    if (published_folder_matches(dir, marker)) return false;
    fail("cannot rename {} to {}", tmp.string(), dir.string());
  }
  return true;
}

}  // namespace clipt::world
