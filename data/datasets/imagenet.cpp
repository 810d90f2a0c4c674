// ImageNet and the domain-shift sets evaluated with its class names (CoOp's imagenet*.py).
//
// ImageNet: images/{train,val}/<wnid>/..., labels by sorted folder order, class names from
// classnames.txt ("n01440764 tench"); val is the test set and doubles as val. CoOp caches the listing in
// preprocessed.pkl; we list the folders each time (sorted, so the order does not depend on the
// filesystem — CoOp keeps os.listdir order within a class).
// ImageNetV2: imagenetv2-matched-frequency-format-val/<i>/ holds class i of classnames.txt.
// ImageNet-Sketch / -A / -R: one folder per wnid (A and R have 200 of them), labels 0..n−1 by sorted
// folder order, class names looked up by wnid — CoOp's relabelling, so A and R are 200-way problems.
// Each variant reads classnames.txt from its own folder as DATASETS.md asks (a copy of ImageNet's);
// when it is absent we fall back to <root>/imagenet/classnames.txt.
#include <unordered_map>

#include "data/datasets/common.h"
#include "data/datasets/readers.h"

namespace clipt::data::datasets {
namespace {

using ClassNames = std::vector<std::pair<std::string, std::string>>;

ClassNames classnames_for(const fs::path& dataset_dir, const fs::path& root) {
  const fs::path own = dataset_dir / "classnames.txt";
  std::error_code ec;
  if (fs::is_regular_file(own, ec)) return read_imagenet_classnames(own);
  const fs::path shared = root / "imagenet" / "classnames.txt";
  if (fs::is_regular_file(shared, ec)) return read_imagenet_classnames(shared);
  fail(
      "missing file {} (expected a copy of ImageNet's classnames.txt, as CoOp's DATASETS.md asks; {} was not found "
      "either)",
      own.string(), shared.string());
}

std::unordered_map<std::string, std::string> by_folder(const ClassNames& names) {
  std::unordered_map<std::string, std::string> map;
  for (const auto& [folder, name] : names) map[folder] = name;  // later lines win, like an OrderedDict
  return map;
}

// Every sorted class folder of `split_dir` becomes label 0, 1, ... with its name from `names`.
std::vector<Sample> read_wnid_folders(const fs::path& split_dir,
                                      const std::unordered_map<std::string, std::string>& names,
                                      const fs::path& names_file_hint) {
  std::vector<Sample> out;
  const auto folders = list_subdirs(split_dir);
  CLIPT_CHECK(!folders.empty(), "{} has no class folders", split_dir.string());
  for (size_t label = 0; label < folders.size(); ++label) {
    const auto it = names.find(folders[label]);
    CLIPT_CHECK(it != names.end(), "class folder {} is not listed in {}", (split_dir / folders[label]).string(),
                names_file_hint.string());
    append_folder_samples(split_dir / folders[label], int64_t(label), it->second, out);
  }
  return out;
}

DatasetSplits read_variant(const char* name, const char* folder, const char* image_subdir, const DatasetSource& source,
                           const char* what) {
  require_dir(source.root, "DATASET.ROOT, the folder that holds the datasets");
  const fs::path dataset_dir = source.root / folder;
  require_dir(dataset_dir, fmt::format("the {} folder \"{}\" under DATASET.ROOT", name, folder));
  const fs::path image_dir = dataset_dir / image_subdir;
  require_dir(image_dir, what);
  const auto names = by_folder(classnames_for(dataset_dir, source.root));
  DatasetSplits out;
  out.name = name;
  out.dataset_dir = dataset_dir;
  out.image_dir = image_dir;
  out.test = read_wnid_folders(image_dir, names, dataset_dir / "classnames.txt");
  out.train = out.test;
  out.test_only = true;
  return out;
}

}  // namespace

DatasetSplits read_imagenet(const DatasetSource& source) {
  require_dir(source.root, "DATASET.ROOT, the folder that holds the datasets");
  const fs::path dataset_dir = source.root / "imagenet";
  require_dir(dataset_dir, "the imagenet folder under DATASET.ROOT (CoOp's DATASETS.md layout)");
  const fs::path image_dir = dataset_dir / "images";
  require_dir(image_dir / "train", "ImageNet's training set: images/train/<wnid>/*.JPEG");
  require_dir(image_dir / "val", "ImageNet's validation set in class folders: images/val/<wnid>/*.JPEG");
  const fs::path names_file = dataset_dir / "classnames.txt";
  const auto names = by_folder(read_imagenet_classnames(names_file));
  DatasetSplits out;
  out.name = "imagenet";
  out.dataset_dir = dataset_dir;
  out.image_dir = image_dir;
  out.train = read_wnid_folders(image_dir / "train", names, names_file);
  out.test = read_wnid_folders(image_dir / "val", names, names_file);
  out.val = out.test;
  out.val_is_test = true;
  return out;
}

DatasetSplits read_imagenetv2(const DatasetSource& source) {
  require_dir(source.root, "DATASET.ROOT, the folder that holds the datasets");
  const fs::path dataset_dir = source.root / "imagenetv2";
  require_dir(dataset_dir, "the imagenetv2 folder under DATASET.ROOT (CoOp's DATASETS.md layout)");
  const fs::path image_dir = dataset_dir / "imagenetv2-matched-frequency-format-val";
  require_dir(image_dir, "ImageNetV2's matched-frequency images in folders 0..999");
  const ClassNames names = classnames_for(dataset_dir, source.root);
  DatasetSplits out;
  out.name = "imagenetv2";
  out.dataset_dir = dataset_dir;
  out.image_dir = image_dir;
  // CoOp loops over range(1000); we loop over the classes listed, which is the same for the real file.
  for (size_t label = 0; label < names.size(); ++label) {
    const fs::path class_dir = image_dir / std::to_string(label);
    require_dir(class_dir, fmt::format("ImageNetV2's folder for class {} ({})", label, names[label].second));
    append_folder_samples(class_dir, int64_t(label), names[label].second, out.test);
  }
  out.train = out.test;
  out.test_only = true;
  return out;
}

DatasetSplits read_imagenet_sketch(const DatasetSource& source) {
  return read_variant("imagenet_sketch", "imagenet-sketch", "images", source,
                      "ImageNet-Sketch's images/<wnid>/ folders");
}

DatasetSplits read_imagenet_a(const DatasetSource& source) {
  return read_variant("imagenet_a", "imagenet-adversarial", "imagenet-a", source,
                      "ImageNet-A's imagenet-a/<wnid>/ folders (200 classes)");
}

DatasetSplits read_imagenet_r(const DatasetSource& source) {
  return read_variant("imagenet_r", "imagenet-rendition", "imagenet-r", source,
                      "ImageNet-R's imagenet-r/<wnid>/ folders (200 classes)");
}

}  // namespace clipt::data::datasets
