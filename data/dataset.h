// Datasets as CoOp/Dassl see them: lists of samples {image path, label, class name, domain} split into
// train / val / test, read from a root folder in CoOp's DATASETS.md layout.
//
// Readers are registered by the lower-case names users type (`caltech101`, `oxford_pets`, ...); the
// Dassl class names used in the peers' YAML files (`Caltech101`, `OxfordPets`, ...) resolve too.
// Everything the readers need (folders, split files) is checked up front; a missing piece is one
// clipt::Error naming the path and what was expected there.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace clipt::data {

struct Sample {
  std::string path;  // absolute (or root-relative as given) path of the image file
  int64_t label = 0;
  std::string classname;  // as CoOp stores it (underscores kept; prompts replace them by spaces)
  int64_t domain = 0;     // 0 unless a domain-generalisation reader sets it
};

struct DatasetSplits {
  std::string name;                   // registry name, e.g. "oxford_pets"
  std::filesystem::path dataset_dir;  // e.g. <root>/oxford_pets; the few-shot cache lives under it
  std::filesystem::path image_dir;    // split-file paths are relative to this folder
  std::filesystem::path split_file;   // the split file the lists were read from; empty for folder readers
  std::vector<Sample> train, val, test;
  // ImageNet (and the generic readers without a val folder) evaluate on test and use it as val too;
  // the few-shot protocol then samples train only.
  bool val_is_test = false;
  // Test-only sets (ImageNet variants): train and test hold the same samples.
  bool test_only = false;
  // Multi-domain (domain-generalisation) datasets: the domain names that Sample::domain indexes. Empty
  // for single-domain datasets. See data/domains.h for how sources and targets are selected.
  std::vector<std::string> domains;
};

// Dassl's lab2cname over a split: class names ordered by label (labels are 0..C−1; a gap or a label
// with two different names is an error naming them).
std::vector<std::string> class_names(const std::vector<Sample>& samples);
// Dassl's num_classes: max label + 1 (0 for an empty split).
int64_t num_classes(const std::vector<Sample>& samples);

// Where a reader finds its data. Named datasets use only `root` (DATASET.ROOT, the folder holding
// `oxford_pets/`, `caltech-101/`, ...). The generic readers use the other fields (see below).
struct DatasetSource {
  std::filesystem::path root;
  // split_json: the split file (default <root>/split.json) and the image folder its paths are
  // relative to (default <root>/images if it exists, else <root>).
  std::filesystem::path split_file;
  std::filesystem::path image_dir;
};

using DatasetReader = std::function<DatasetSplits(const DatasetSource&)>;

struct DatasetInfo {
  std::string name;        // what users type: "oxford_pets"
  std::string dassl_name;  // the Dassl class name in configs: "OxfordPets"
  std::string folder;      // the folder under DATASET.ROOT: "oxford_pets" (empty for generic readers)
  DatasetReader read;
};

// All registered datasets (built-ins first, then any added with register_dataset).
std::vector<DatasetInfo> dataset_registry();
// Adds a reader (e.g. the built-in world, domain-generalisation sets). A duplicate name is an error.
void register_dataset(DatasetInfo info);
// Looks up by registry name or Dassl name (case-sensitive for Dassl names, e.g. "ImageNetSketch").
// Unknown → Error listing the known names and the closest one.
DatasetInfo find_dataset(const std::string& name);

// Reads dataset `name` under `root` (DatasetSource{root} for named datasets).
DatasetSplits read_dataset(const std::string& name, const DatasetSource& source);
inline DatasetSplits read_dataset(const std::string& name, const std::filesystem::path& root) {
  return read_dataset(name, DatasetSource{root, {}, {}});
}

}  // namespace clipt::data
