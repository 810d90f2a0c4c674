#include "data/datasets/common.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/core/error.h"

namespace clipt::data::datasets {

void require_dir(const fs::path& path, const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return;
  if (fs::exists(path, ec)) fail("{} is not a folder (expected {})", path.string(), what);
  fail("missing folder {} (expected {})", path.string(), what);
}

void require_file(const fs::path& path, const std::string& what) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return;
  if (fs::exists(path, ec)) fail("{} is not a regular file (expected {})", path.string(), what);
  fail("missing file {} (expected {})", path.string(), what);
}

namespace {
std::vector<std::string> list_entries(const fs::path& dir, bool want_dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) fail("cannot list folder {}: {}", dir.string(), ec.message());
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // listdir_nohidden
    std::error_code ec2;
    const bool is_dir = entry.is_directory(ec2);  // follows symlinks
    if (is_dir == want_dirs) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

std::vector<std::string> list_subdirs(const fs::path& dir) { return list_entries(dir, true); }
std::vector<std::string> list_files(const fs::path& dir) { return list_entries(dir, false); }

std::vector<std::string> read_stripped_lines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open {}", path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    line.erase(line.begin(), std::find_if(line.begin(), line.end(), not_space));
    line.erase(std::find_if(line.rbegin(), line.rend(), not_space).base(), line.end());
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

namespace {
std::vector<Sample> convert_split(const nlohmann::json& items, const char* split, const fs::path& file,
                                  const fs::path& image_dir) {
  CLIPT_CHECK(items.is_array(), "split file {}: \"{}\" must be a list of [path, label, classname]", file.string(),
              split);
  std::vector<Sample> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    const bool ok_shape = item.is_array() && item.size() == 3 && item[0].is_string() && item[2].is_string() &&
                          (item[1].is_number_integer() || item[1].is_string());
    CLIPT_CHECK(ok_shape, "split file {}: {}[{}] must be [relative_path, label, classname], got {}", file.string(),
                split, i, item.dump());
    Sample s;
    s.path = (image_dir / item[0].get<std::string>()).string();
    if (item[1].is_string()) {  // CoOp applies int(label)
      try {
        size_t used = 0;
        const std::string text = item[1].get<std::string>();
        s.label = std::stoll(text, &used);
        CLIPT_CHECK(used == text.size(), "trailing characters");
      } catch (const std::exception&) {
        fail("split file {}: {}[{}] has a label that is not an integer: {}", file.string(), split, i, item[1].dump());
      }
    } else {
      s.label = item[1].get<int64_t>();
    }
    CLIPT_CHECK(s.label >= 0, "split file {}: {}[{}] has a negative label {}", file.string(), split, i, s.label);
    s.classname = item[2].get<std::string>();
    out.push_back(std::move(s));
  }
  return out;
}
}  // namespace

SplitLists read_split_json(const fs::path& split_file, const fs::path& image_dir) {
  std::ifstream in(split_file, std::ios::binary);
  if (!in) fail("cannot open split file {}", split_file.string());
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("split file {} is not valid JSON: {}", split_file.string(), e.what());
  }
  CLIPT_CHECK(root.is_object(), "split file {} must hold a JSON object with \"train\", \"val\" and \"test\"",
              split_file.string());
  SplitLists lists;
  const char* names[] = {"train", "val", "test"};
  std::vector<Sample>* targets[] = {&lists.train, &lists.val, &lists.test};
  for (int k = 0; k < 3; ++k) {
    CLIPT_CHECK(root.contains(names[k]), "split file {} lacks the \"{}\" list", split_file.string(), names[k]);
    *targets[k] = convert_split(root[names[k]], names[k], split_file, image_dir);
  }
  // Every use evaluates on "test" (a cross-dataset target has no "train"): an empty one is named here,
  // not found as "no classes" after the model is loaded.
  CLIPT_CHECK(!lists.test.empty(), "split file {}: the \"test\" list is empty (no images, so no classes)",
              split_file.string());
  return lists;
}

std::vector<std::pair<std::string, std::string>> read_imagenet_classnames(const fs::path& path) {
  require_file(path, "ImageNet's classnames.txt with lines like \"n01440764 tench\"");
  std::vector<std::pair<std::string, std::string>> out;
  const auto lines = read_stripped_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) continue;  // a trailing blank line; CoOp's files have none
    // line.split(" "): folder = first field, class name = the rest joined by single spaces.
    const size_t space = line.find(' ');
    const std::string folder = line.substr(0, space);
    const std::string name = space == std::string::npos ? "" : line.substr(space + 1);
    CLIPT_CHECK(!name.empty(), "{} line {}: expected \"<folder> <class name>\", got \"{}\"", path.string(), i + 1,
                line);
    out.emplace_back(folder, name);
  }
  CLIPT_CHECK(!out.empty(), "{} lists no classes", path.string());
  return out;
}

void append_folder_samples(const fs::path& dir, int64_t label, const std::string& classname, std::vector<Sample>& out) {
  for (const auto& file : list_files(dir)) {
    Sample s;
    s.path = (dir / file).string();
    s.label = label;
    s.classname = classname;
    out.push_back(std::move(s));
  }
}

}  // namespace clipt::data::datasets
