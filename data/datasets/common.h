// Helpers shared by the dataset readers: checked folder/file access with messages that say what was
// expected, directory listings with Dassl's listdir_nohidden semantics (but always sorted, so results
// do not depend on the filesystem's order), CoOp's split JSON and ImageNet's classnames.txt.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "engine/core/error.h"

namespace clipt::data::datasets {

namespace fs = std::filesystem;

// Error unless `path` is a directory / regular file; `what` says what should be there.
void require_dir(const fs::path& path, const std::string& what);
void require_file(const fs::path& path, const std::string& what);

// Non-hidden sub-directories (symlinks followed), sorted by name.
std::vector<std::string> list_subdirs(const fs::path& dir);
// Non-hidden entries that are not directories, sorted by name (Dassl lists every file, whatever its
// extension).
std::vector<std::string> list_files(const fs::path& dir);

// Python's `open(path).readlines()` followed by `.strip()` of each line.
std::vector<std::string> read_stripped_lines(const fs::path& path);

// CoOp's OxfordPets.read_split: {"train"|"val"|"test": [[relative_path, label, classname], ...]}, paths
// joined onto `image_dir`.
struct SplitLists {
  std::vector<Sample> train, val, test;
};
SplitLists read_split_json(const fs::path& split_file, const fs::path& image_dir);

// ImageNet.read_classnames: lines "n01440764 tench" → (folder, class name) in file order.
std::vector<std::pair<std::string, std::string>> read_imagenet_classnames(const fs::path& path);

// Samples of one class folder: every file in `dir`, label and class name as given.
void append_folder_samples(const fs::path& dir, int64_t label, const std::string& classname, std::vector<Sample>& out);

}  // namespace clipt::data::datasets
