// FGVC-Aircraft as CoOp's FGVCAircraft reads it: the class list is `variants.txt` (label = line index),
// and `images_variant_{train,val,test}.txt` hold lines "<image id> <variant name>" → images/<id>.jpg.
#include <unordered_map>

#include "data/datasets/common.h"
#include "data/datasets/readers.h"

namespace clipt::data::datasets {
namespace {

std::vector<Sample> read_variant_file(const fs::path& file, const fs::path& image_dir,
                                      const std::unordered_map<std::string, int64_t>& label_of) {
  require_file(file, "FGVC-Aircraft's image list with lines \"<image id> <variant>\"");
  std::vector<Sample> out;
  const auto lines = read_stripped_lines(file);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    // line.strip().split(" "): image id, then the class name joined back with single spaces.
    const size_t space = line.find(' ');
    CLIPT_CHECK(space != std::string::npos && space > 0, "{} line {}: expected \"<image id> <variant>\", got \"{}\"",
                file.string(), i + 1, line);
    const std::string id = line.substr(0, space), classname = line.substr(space + 1);
    const auto it = label_of.find(classname);
    CLIPT_CHECK(it != label_of.end(), "{} line {}: variant \"{}\" is not listed in variants.txt", file.string(), i + 1,
                classname);
    Sample s;
    s.path = (image_dir / (id + ".jpg")).string();
    s.label = it->second;
    s.classname = classname;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

DatasetSplits read_fgvc_aircraft(const DatasetSource& source) {
  require_dir(source.root, "DATASET.ROOT, the folder that holds the datasets");
  const fs::path dataset_dir = source.root / "fgvc_aircraft";
  require_dir(dataset_dir, "the fgvc_aircraft folder (the archive's data/ folder renamed, CoOp's DATASETS.md)");
  const fs::path image_dir = dataset_dir / "images";
  require_dir(image_dir, "FGVC-Aircraft's images folder");
  const fs::path variants = dataset_dir / "variants.txt";
  require_file(variants, "FGVC-Aircraft's variants.txt (one class name per line)");

  // CoOp: classnames = [line.strip() for line in readlines()], cname2lab = {c: i}. A repeated name
  // keeps its last index, as a Python dict would.
  std::unordered_map<std::string, int64_t> label_of;
  const auto names = read_stripped_lines(variants);
  for (size_t i = 0; i < names.size(); ++i) label_of[names[i]] = int64_t(i);

  DatasetSplits out;
  out.name = "fgvc_aircraft";
  out.dataset_dir = dataset_dir;
  out.image_dir = image_dir;
  out.train = read_variant_file(dataset_dir / "images_variant_train.txt", image_dir, label_of);
  out.val = read_variant_file(dataset_dir / "images_variant_val.txt", image_dir, label_of);
  out.test = read_variant_file(dataset_dir / "images_variant_test.txt", image_dir, label_of);
  CLIPT_CHECK(!out.train.empty(), "{} lists no images", (dataset_dir / "images_variant_train.txt").string());
  return out;
}

}  // namespace clipt::data::datasets
