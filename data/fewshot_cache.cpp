#include "data/fewshot_cache.h"

#include <fmt/format.h>

#include <set>
#include <tuple>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace clipt::data::fewshot_cache {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string relative_path(const std::string& path, const fs::path& image_dir) {
  const fs::path rel = fs::path(path).lexically_relative(image_dir);
  if (rel.empty() || *rel.begin() == "..") return path;  // not under the image folder: keep as given
  return rel.generic_string();
}

}  // namespace

void print_warning(const std::string& message) { fmt::print(stderr, "warning: {}\n", message); }

json samples_to_json(const std::vector<Sample>& samples, const fs::path& image_dir) {
  json list = json::array();
  for (const auto& s : samples) list.push_back(json::array({relative_path(s.path, image_dir), s.label, s.classname}));
  return list;
}

std::vector<Sample> samples_from_json(const json& list, const char* role, const fs::path& file,
                                      const fs::path& image_dir, const std::vector<Sample>& split, int64_t domain) {
  CLIPT_CHECK(list.is_array(), "few-shot cache {} is corrupt: \"{}\" is not a list (delete the file to resample)",
              file.string(), role);
  std::set<std::tuple<std::string, int64_t, std::string>> present;
  for (const auto& s : split) present.emplace(s.path, s.label, s.classname);
  std::vector<Sample> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& item = list[i];
    CLIPT_CHECK(item.is_array() && item.size() == 3 && item[0].is_string() && item[1].is_number_integer() &&
                    item[2].is_string(),
                "few-shot cache {} is corrupt: {}[{}] is not [path, label, classname] (delete the file to resample)",
                file.string(), role, i);
    Sample s;
    s.path = (image_dir / item[0].get<std::string>()).string();
    s.label = item[1].get<int64_t>();
    s.classname = item[2].get<std::string>();
    s.domain = domain;
    CLIPT_CHECK(present.count({s.path, s.label, s.classname}) == 1,
                "few-shot cache {} does not match the dataset's current {} split ({} with label {} is not in it); "
                "delete the file to resample",
                file.string(), role, s.path, s.label);
    out.push_back(std::move(s));
  }
  return out;
}

void write(const fs::path& file, const json& root, const Warn& warn) {
  try {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    CLIPT_CHECK(!ec, "cannot create {}: {}", file.parent_path().string(), ec.message());
    io::write_file_atomic(file, root.dump() + "\n");
  } catch (const Error& e) {
    warn(fmt::format("could not cache the few-shot split in {} ({}); continuing without the cache", file.string(),
                     e.what()));
  }
}

}  // namespace clipt::data::fewshot_cache
