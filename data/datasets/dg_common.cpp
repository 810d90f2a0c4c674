#include "data/datasets/dg_common.h"

#include <algorithm>

namespace clipt::data::datasets {

DatasetSplits assemble_domains(const std::string& name, const fs::path& dataset_dir, const fs::path& image_dir,
                               const std::vector<std::string>& domains, std::vector<DomainSamples> per_domain) {
  CLIPT_CHECK(domains.size() == per_domain.size(), "{}: {} domain names for {} domains", name, domains.size(),
              per_domain.size());
  DatasetSplits out;
  out.name = name;
  out.dataset_dir = dataset_dir;
  out.image_dir = image_dir;
  out.domains = domains;
  for (size_t d = 0; d < per_domain.size(); ++d) {
    auto move_into = [d](std::vector<Sample>& from, std::vector<Sample>& to) {
      for (auto& s : from) {
        s.domain = int64_t(d);
        to.push_back(std::move(s));
      }
    };
    move_into(per_domain[d].train, out.train);
    move_into(per_domain[d].val, out.val);
    move_into(per_domain[d].test, out.test);
  }
  return out;
}

fs::path dataset_folder(const fs::path& root, const std::string& primary, const std::string& alternative,
                        const std::string& what) {
  require_dir(root, "DATASET.ROOT, the folder that holds the datasets");
  std::error_code ec;
  if (fs::is_directory(root / primary, ec)) return root / primary;
  if (!alternative.empty() && fs::is_directory(root / alternative, ec)) return root / alternative;
  if (alternative.empty()) fail("missing folder {} (expected {})", (root / primary).string(), what);
  fail("missing folder {} (or {}; expected {})", (root / primary).string(), (root / alternative).string(), what);
}

namespace {
std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}
}  // namespace

std::string parent_folder_name(const std::string& rel, const fs::path& file, size_t line) {
  const auto parts = split_on(rel, '/');
  CLIPT_CHECK(parts.size() >= 2 && !parts[parts.size() - 2].empty(),
              "{} line {}: image path \"{}\" has no class folder (expected <domain>/<class>/<file>)", file.string(),
              line, rel);
  return parts[parts.size() - 2];
}

std::string second_component(const std::string& rel, const fs::path& file, size_t line) {
  const auto parts = split_on(rel, '/');
  CLIPT_CHECK(parts.size() >= 3 && !parts[1].empty(), "{} line {}: image path \"{}\" is not <domain>/<class>/<file>",
              file.string(), line, rel);
  return parts[1];
}

std::vector<Sample> read_path_label_file(const fs::path& file, const fs::path& base_dir, int64_t label_offset,
                                         const ClassnameOf& classname_of, const std::set<std::string>& skip) {
  require_file(file, "a split file with \"<relative image path> <label>\" lines");
  const auto lines = read_stripped_lines(file);
  std::vector<Sample> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) continue;
    const auto fields = split_on(line, ' ');
    CLIPT_CHECK(fields.size() == 2 && !fields[0].empty(),
                "{} line {}: expected \"<relative image path> <label>\" separated by one space, got \"{}\"",
                file.string(), i + 1, line);
    if (skip.count(fields[0])) continue;
    int64_t label = 0;
    try {
      size_t used = 0;
      label = std::stoll(fields[1], &used);
      CLIPT_CHECK(used == fields[1].size(), "trailing characters");
    } catch (const std::exception&) {
      fail("{} line {}: label \"{}\" is not an integer", file.string(), i + 1, fields[1]);
    }
    label -= label_offset;
    CLIPT_CHECK(label >= 0, "{} line {}: label {} gives class index {} (labels in this file start at {})",
                file.string(), i + 1, fields[1], label, label_offset);
    Sample s;
    s.path = (base_dir / fields[0]).string();
    s.label = label;
    s.classname = classname_of(fields[0], file, i + 1);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> read_jpg_class_folders(
    const fs::path& dir, const std::function<std::string(size_t label, const std::string& folder)>& classname) {
  require_dir(dir, "one sub-folder of .jpg images per class");
  const auto folders = list_subdirs(dir);
  CLIPT_CHECK(!folders.empty(), "{} has no class folders", dir.string());
  std::vector<Sample> out;
  for (size_t label = 0; label < folders.size(); ++label) {
    const std::string name = classname(label, folders[label]);
    for (const auto& f : list_files(dir / folders[label])) {
      if (f.size() < 4 || f.compare(f.size() - 4, 4, ".jpg") != 0) continue;  // glob('*.jpg')
      Sample s;
      s.path = (dir / folders[label] / f).string();
      s.label = int64_t(label);
      s.classname = name;
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace clipt::data::datasets
