// Bring-your-own-data readers.
//
// split_json: a CoOp-format split file over any image folder. DATASET.ROOT is the dataset folder; the
// split file is <root>/split.json and the images <root>/images (or <root> itself) unless given.
//
// image_folder: one sub-folder per class (torchvision's ImageFolder). If the root holds train/ (and
// optionally val/, test/) those are the splits, each with class sub-folders; otherwise the root's class
// folders are used for every split (as CoOp does for its test-only sets; few-shot sampling of train
// still applies). Labels follow the sorted union
// of class folder names across splits, so a class gets the same label everywhere; class names are the
// folder names, or the names given by an optional classnames.txt ("<folder> <class name>" lines, the
// ImageNet format).
#include <algorithm>
#include <map>
#include <set>

#include "data/datasets/common.h"
#include "data/datasets/readers.h"

namespace clipt::data::datasets {

DatasetSplits read_split_json_dataset(const DatasetSource& source) {
  require_dir(source.root, "the dataset folder (DATASET.ROOT) of a split_json dataset");
  const fs::path split_file = source.split_file.empty() ? source.root / "split.json" : source.split_file;
  require_file(split_file, "a CoOp split file {\"train\"|\"val\"|\"test\": [[relative_path, label, classname], ...]}");
  fs::path image_dir = source.image_dir;
  if (image_dir.empty()) {
    std::error_code ec;
    image_dir = fs::is_directory(source.root / "images", ec) ? source.root / "images" : source.root;
  }
  require_dir(image_dir, "the folder the split file's image paths are relative to");
  SplitLists lists = read_split_json(split_file, image_dir);
  DatasetSplits out;
  out.name = "split_json";
  out.dataset_dir = source.root;
  out.image_dir = image_dir;
  out.split_file = split_file;
  out.train = std::move(lists.train);
  out.val = std::move(lists.val);
  out.test = std::move(lists.test);
  return out;
}

DatasetSplits read_image_folder(const DatasetSource& source) {
  const fs::path& root = source.root;
  require_dir(root, "an image folder with one sub-folder per class (or train/, val/, test/ holding them)");
  std::error_code ec;
  const bool has_splits = fs::is_directory(root / "train", ec);
  const fs::path train_dir = has_splits ? root / "train" : root;
  const fs::path val_dir = has_splits && fs::is_directory(root / "val", ec) ? root / "val" : fs::path();
  const fs::path test_dir = has_splits && fs::is_directory(root / "test", ec) ? root / "test" : fs::path();

  std::set<std::string> folders;
  for (const fs::path& dir : {train_dir, val_dir, test_dir}) {
    if (dir.empty()) continue;
    for (const auto& name : list_subdirs(dir)) folders.insert(name);
  }
  CLIPT_CHECK(!folders.empty(), "{} has no class sub-folders", train_dir.string());
  std::map<std::string, std::string> display;
  const fs::path names_file = root / "classnames.txt";
  if (fs::is_regular_file(names_file, ec))
    for (const auto& [folder, name] : read_imagenet_classnames(names_file)) display[folder] = name;
  std::map<std::string, int64_t> label_of;
  for (const auto& folder : folders) label_of.emplace(folder, int64_t(label_of.size()));

  auto read_split = [&](const fs::path& dir) {
    std::vector<Sample> samples;
    if (dir.empty()) return samples;
    for (const auto& folder : list_subdirs(dir)) {
      const auto it = display.find(folder);
      append_folder_samples(dir / folder, label_of.at(folder), it == display.end() ? folder : it->second, samples);
    }
    return samples;
  };
  DatasetSplits out;
  out.name = "image_folder";
  out.dataset_dir = root;
  out.image_dir = root;
  out.train = read_split(train_dir);
  CLIPT_CHECK(!out.train.empty(), "{} holds no images in its class folders", train_dir.string());
  if (!has_splits) {  // one tree for every split (few-shot sampling still applies to train)
    out.test = out.train;
    out.val = out.test;
    out.val_is_test = true;
    return out;
  }
  out.test = test_dir.empty() ? read_split(val_dir) : read_split(test_dir);
  if (val_dir.empty() || test_dir.empty()) {
    out.val = out.test;
    out.val_is_test = true;
  } else {
    out.val = read_split(val_dir);
  }
  return out;
}

}  // namespace clipt::data::datasets
