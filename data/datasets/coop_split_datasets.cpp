// The nine CoOp datasets that read a fixed `split_zhou_<Name>.json` (CoOp's `datasets/*.py`: each
// class's __init__ calls OxfordPets.read_split(split_path, image_dir) when the split file exists).
//
// CoOp falls back to building a new random split from the raw annotations when the file is missing;
// the published numbers all use the fixed files, so we require them (DATASETS.md links each one) rather
// than silently producing a different split. Class names come from the split file as stored, e.g.
// Caltech101's renamed "airplane"/"face" and EuroSAT's expanded "Annual Crop Land".
#include "data/datasets/common.h"
#include "data/datasets/readers.h"

namespace clipt::data::datasets {
namespace {

struct SplitDatasetLayout {
  const char* name;        // registry name
  const char* folder;      // under DATASET.ROOT (CoOp's dataset_dir)
  const char* image_dir;   // under the dataset folder ("" = the dataset folder itself)
  const char* split_file;  // under the dataset folder
};

DatasetSplits read_split_dataset(const SplitDatasetLayout& layout, const DatasetSource& source) {
  require_dir(source.root, "DATASET.ROOT, the folder that holds the datasets");
  const fs::path dataset_dir = source.root / layout.folder;
  require_dir(dataset_dir, fmt::format("the {} dataset folder \"{}\" under DATASET.ROOT (CoOp's DATASETS.md layout)",
                                       layout.name, layout.folder));
  const fs::path image_dir = std::string(layout.image_dir).empty() ? dataset_dir : dataset_dir / layout.image_dir;
  require_dir(image_dir, fmt::format("the {} images folder \"{}\"", layout.name, layout.image_dir));
  const fs::path split_file = dataset_dir / layout.split_file;
  require_file(split_file,
               fmt::format("CoOp's fixed split file {} (download it as DATASETS.md describes)", layout.split_file));
  SplitLists lists = read_split_json(split_file, image_dir);
  DatasetSplits out;
  out.name = layout.name;
  out.dataset_dir = dataset_dir;
  out.image_dir = image_dir;
  out.split_file = split_file;
  out.train = std::move(lists.train);
  out.val = std::move(lists.val);
  out.test = std::move(lists.test);
  CLIPT_CHECK(!out.train.empty(), "split file {} has an empty \"train\" list", split_file.string());
  return out;
}

}  // namespace

DatasetSplits read_caltech101(const DatasetSource& s) {
  return read_split_dataset({"caltech101", "caltech-101", "101_ObjectCategories", "split_zhou_Caltech101.json"}, s);
}
DatasetSplits read_oxford_pets(const DatasetSource& s) {
  return read_split_dataset({"oxford_pets", "oxford_pets", "images", "split_zhou_OxfordPets.json"}, s);
}
DatasetSplits read_stanford_cars(const DatasetSource& s) {
  // Paths in this split are relative to the dataset folder ("cars_train/00001.jpg").
  return read_split_dataset({"stanford_cars", "stanford_cars", "", "split_zhou_StanfordCars.json"}, s);
}
DatasetSplits read_oxford_flowers(const DatasetSource& s) {
  return read_split_dataset({"oxford_flowers", "oxford_flowers", "jpg", "split_zhou_OxfordFlowers.json"}, s);
}
DatasetSplits read_food101(const DatasetSource& s) {
  return read_split_dataset({"food101", "food-101", "images", "split_zhou_Food101.json"}, s);
}
DatasetSplits read_sun397(const DatasetSource& s) {
  return read_split_dataset({"sun397", "sun397", "SUN397", "split_zhou_SUN397.json"}, s);
}
DatasetSplits read_dtd(const DatasetSource& s) {
  return read_split_dataset({"dtd", "dtd", "images", "split_zhou_DescribableTextures.json"}, s);
}
DatasetSplits read_eurosat(const DatasetSource& s) {
  return read_split_dataset({"eurosat", "eurosat", "2750", "split_zhou_EuroSAT.json"}, s);
}
DatasetSplits read_ucf101(const DatasetSource& s) {
  return read_split_dataset({"ucf101", "ucf101", "UCF-101-midframes", "split_zhou_UCF101.json"}, s);
}

}  // namespace clipt::data::datasets
