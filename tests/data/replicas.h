// Generated replicas of every dataset layout of CoOp's DATASETS.md: the same folder names, split files
// and annotation formats, with tiny JPEGs (all the same bytes: readers do not decode) and tens of
// classes. Each builder returns what a correct reader must find.
#pragma once
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "data/image.h"
#include "tests/data/data_test_util.h"

namespace clipt::test::replicas {

namespace fs = std::filesystem;
using nlohmann::json;

struct Expected {
  size_t train = 0, val = 0, test = 0;
  std::vector<std::string> classnames;  // by label (of the train split)
};

inline const std::vector<uint8_t>& tiny_jpeg() {
  static const std::vector<uint8_t> bytes = data::encode_jpeg(test_picture(8, 8, 1), 80);
  return bytes;
}
inline void image(const fs::path& path) { put_file(path, tiny_jpeg()); }

// One class of a split-JSON dataset: its folder (or file-name stem) on disk and its name in the JSON.
struct SplitClass {
  std::string folder, classname;
};

// Writes images and a CoOp split JSON. `relpath(class_index, class, split, i)` gives each image's path
// relative to the image folder; class c has n_train[c] / n_val[c] / n_test[c] images (defaults below).
template <typename PathFn> Expected split_dataset(const fs::path& dataset_dir, const fs::path& image_dir,
                                                  const std::string& split_file, const std::vector<SplitClass>& classes,
                                                  PathFn relpath, int n_train = 4, int n_val = 2, int n_test = 3) {
  json split = {{"train", json::array()}, {"val", json::array()}, {"test", json::array()}};
  Expected e;
  const std::pair<const char*, int> splits[] = {{"train", n_train}, {"val", n_val}, {"test", n_test}};
  for (size_t c = 0; c < classes.size(); ++c) {
    e.classnames.push_back(classes[c].classname);
    for (const auto& [name, count] : splits) {
      // Class 0 gets one extra training image so class sizes differ.
      const int n = count + (c == 0 && std::string(name) == "train" ? 1 : 0);
      for (int i = 0; i < n; ++i) {
        const std::string rel = relpath(c, classes[c], std::string(name), i);
        image(image_dir / rel);
        split[name].push_back(json::array({rel, int(c), classes[c].classname}));
      }
      if (std::string(name) == "train") e.train += size_t(n);
      if (std::string(name) == "val") e.val += size_t(n);
      if (std::string(name) == "test") e.test += size_t(n);
    }
  }
  put_text(dataset_dir / split_file, split.dump(1));
  return e;
}

inline std::string folder_file(size_t, const SplitClass& c, const std::string& split, int i) {
  return fmt::format("{}/{}_{}_{:04d}.jpg", c.folder, c.folder, split, i);
}

inline Expected caltech101(const fs::path& root) {
  const fs::path dir = root / "caltech-101", images = dir / "101_ObjectCategories";
  std::vector<SplitClass> classes = {
      {"accordion", "accordion"}, {"airplanes", "airplane"}, {"anchor", "anchor"},    {"ant", "ant"},
      {"barrel", "barrel"},       {"Faces", "face"},         {"Leopards", "leopard"}, {"Motorbikes", "motorbike"},
      {"bass", "bass"},           {"beaver", "beaver"},      {"camera", "camera"},    {"wild_cat", "wild_cat"}};
  // CoOp ignores these two folders; they exist on disk but not in the split.
  image(images / "BACKGROUND_Google" / "image_0001.jpg");
  image(images / "Faces_easy" / "image_0001.jpg");
  return split_dataset(dir, images, "split_zhou_Caltech101.json", classes,
                       [](size_t, const SplitClass& c, const std::string& s, int i) {
                         return fmt::format("{}/image_{}{:04d}.jpg", c.folder, s, i);
                       });
}

inline Expected oxford_pets(const fs::path& root) {
  const fs::path dir = root / "oxford_pets";
  put_text(dir / "annotations" / "trainval.txt", "Abyssinian_100 1 1 1\n");  // present, unused with a split file
  std::vector<SplitClass> classes;
  for (const char* breed : {"Abyssinian", "american_bulldog", "Bengal", "beagle", "Birman", "boxer", "Bombay",
                            "chihuahua", "British_Shorthair", "english_setter"}) {
    std::string lower = breed;
    for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    classes.push_back({breed, lower});
  }
  return split_dataset(dir, dir / "images", "split_zhou_OxfordPets.json", classes,
                       [](size_t, const SplitClass& c, const std::string& s, int i) {
                         return fmt::format("{}_{}{}.jpg", c.folder, s == "test" ? 500 : s == "val" ? 300 : 100, i);
                       });
}

inline Expected stanford_cars(const fs::path& root) {
  const fs::path dir = root / "stanford_cars";
  std::vector<SplitClass> classes;
  for (int c = 0; c < 14; ++c) classes.push_back({"", fmt::format("{} Make{} Model {}", 2000 + c, c % 4, c)});
  int counter = 0;
  return split_dataset(dir, dir, "split_zhou_StanfordCars.json", classes,
                       [&counter](size_t, const SplitClass&, const std::string& s, int) {
                         return fmt::format("{}/{:05d}.jpg", s == "test" ? "cars_test" : "cars_train", ++counter);
                       });
}

inline Expected oxford_flowers(const fs::path& root) {
  const fs::path dir = root / "oxford_flowers";
  put_text(dir / "cat_to_name.json", "{\"1\": \"pink primrose\"}");
  std::vector<SplitClass> classes;
  for (const char* n :
       {"pink primrose", "hard-leaved pocket orchid", "canterbury bells", "sweet pea", "english marigold", "tiger lily",
        "moon orchid", "bird of paradise", "monkshood", "globe thistle", "snapdragon", "colt's foot", "king protea"})
    classes.push_back({"", n});
  int counter = 0;
  return split_dataset(dir, dir / "jpg", "split_zhou_OxfordFlowers.json", classes,
                       [&counter](size_t, const SplitClass&, const std::string&, int) {
                         return fmt::format("image_{:05d}.jpg", ++counter);
                       });
}

inline Expected food101(const fs::path& root) {
  const fs::path dir = root / "food-101";
  std::vector<SplitClass> classes;
  for (const char* n : {"apple_pie", "baby_back_ribs", "baklava", "beef_carpaccio", "beef_tartare", "beet_salad",
                        "beignets", "bibimbap", "bread_pudding", "breakfast_burrito", "bruschetta"})
    classes.push_back({n, n});
  return split_dataset(dir, dir / "images", "split_zhou_Food101.json", classes, folder_file);
}

inline Expected sun397(const fs::path& root) {
  const fs::path dir = root / "sun397";
  put_text(dir / "ClassName.txt", "/a/abbey\n");
  // Folder a/apartment_building/outdoor → CoOp's class name "outdoor apartment_building".
  std::vector<SplitClass> classes = {{"a/abbey", "abbey"},
                                     {"a/apartment_building/outdoor", "outdoor apartment_building"},
                                     {"b/bakery/shop", "shop bakery"},
                                     {"b/ballroom", "ballroom"},
                                     {"c/cathedral/indoor", "indoor cathedral"},
                                     {"c/cathedral/outdoor", "outdoor cathedral"},
                                     {"d/desert/sand", "sand desert"},
                                     {"f/forest_path", "forest_path"},
                                     {"h/highway", "highway"},
                                     {"l/library/indoor", "indoor library"},
                                     {"s/sky", "sky"},
                                     {"w/waterfall/block", "block waterfall"}};
  return split_dataset(dir, dir / "SUN397", "split_zhou_SUN397.json", classes,
                       [](size_t, const SplitClass& c, const std::string& s, int i) {
                         return fmt::format("{}/sun_{}{}.jpg", c.folder, s, i);
                       });
}

inline Expected dtd(const fs::path& root) {
  const fs::path dir = root / "dtd";
  put_text(dir / "labels" / "labels_joint_anno.txt", "banded/banded_0002.jpg banded\n");
  std::vector<SplitClass> classes;
  for (const char* n : {"banded", "blotchy", "braided", "bubbly", "bumpy", "chequered", "cobwebbed", "cracked",
                        "crosshatched", "crystalline", "dotted", "fibrous", "flecked", "frilly"})
    classes.push_back({n, n});
  return split_dataset(dir, dir / "images", "split_zhou_DescribableTextures.json", classes, folder_file);
}

inline Expected eurosat(const fs::path& root) {
  const fs::path dir = root / "eurosat";
  std::vector<SplitClass> classes = {{"AnnualCrop", "Annual Crop Land"},
                                     {"Forest", "Forest"},
                                     {"HerbaceousVegetation", "Herbaceous Vegetation Land"},
                                     {"Highway", "Highway or Road"},
                                     {"Industrial", "Industrial Buildings"},
                                     {"Pasture", "Pasture Land"},
                                     {"PermanentCrop", "Permanent Crop Land"},
                                     {"Residential", "Residential Buildings"},
                                     {"River", "River"},
                                     {"SeaLake", "Sea or Lake"}};
  return split_dataset(dir, dir / "2750", "split_zhou_EuroSAT.json", classes,
                       [](size_t, const SplitClass& c, const std::string& s, int i) {
                         return fmt::format("{}/{}_{}{}.jpg", c.folder, c.folder, s, i + 1);
                       });
}

inline Expected ucf101(const fs::path& root) {
  const fs::path dir = root / "ucf101";
  std::vector<SplitClass> classes;
  for (const char* n :
       {"Apply_Eye_Makeup", "Apply_Lipstick", "Archery", "Baby_Crawling", "Balance_Beam", "Band_Marching",
        "Baseball_Pitch", "Basketball", "Basketball_Dunk", "Bench_Press", "Biking", "Billiards", "Blow_Dry_Hair"})
    classes.push_back({n, n});
  return split_dataset(dir, dir / "UCF-101-midframes", "split_zhou_UCF101.json", classes,
                       [](size_t, const SplitClass& c, const std::string& s, int i) {
                         std::string action;
                         for (char ch : c.folder)
                           if (ch != '_') action += ch;
                         return fmt::format("{}/v_{}_g{:02d}_c0{}.jpg", c.folder, action, s == "test" ? 1 : 8, i + 1);
                       });
}

// FGVC-Aircraft: variants.txt and images_variant_*.txt; class names contain spaces and slashes.
inline Expected fgvc_aircraft(const fs::path& root) {
  const fs::path dir = root / "fgvc_aircraft";
  const std::vector<std::string> variants = {"707-320", "727-200", "737-200",     "A300B4", "ATR-42", "Cessna 172",
                                             "DC-10",   "F-16A/B", "Falcon 2000", "Tu-134", "Yak-42", "Saab 340"};
  std::string list;
  for (const auto& v : variants) list += v + "\n";
  put_text(dir / "variants.txt", list);
  Expected e;
  e.classnames = variants;
  int id = 1000000;
  for (const auto& [split, per_class] :
       std::vector<std::pair<std::string, int>>{{"train", 3}, {"val", 3}, {"test", 2}}) {
    std::string lines;
    // CoOp's files are sorted by image id, not by class: interleave the classes.
    for (int i = 0; i < per_class; ++i)
      for (const auto& v : variants) {
        ++id;
        image(dir / "images" / fmt::format("{}.jpg", id));
        lines += fmt::format("{} {}\n", id, v);
      }
    put_text(dir / ("images_variant_" + split + ".txt"), lines);
    const size_t n = size_t(per_class) * variants.size();
    (split == "train" ? e.train : split == "val" ? e.val : e.test) = n;
  }
  return e;
}

struct Wnid {
  std::string wnid, name;
};
inline std::vector<Wnid> imagenet_classes() {
  return {{"n01440764", "tench"},
          {"n01443537", "goldfish"},
          {"n01484850", "great white shark"},
          {"n01491361", "tiger shark"},
          {"n01494475", "hammerhead shark"},
          {"n01496331", "electric ray"},
          {"n01498041", "stingray"},
          {"n01514668", "rooster"},
          {"n01514859", "hen"},
          {"n01518878", "ostrich"},
          {"n01530575", "brambling"},
          {"n01531178", "goldfinch"},
          {"n01532829", "house finch"},
          {"n01534433", "junco"},
          {"n01537544", "indigo bunting"},
          {"n01558993", "American robin"},
          {"n01560419", "bulbul"},
          {"n01580077", "jay"},
          {"n01582220", "magpie"},
          {"n01592084", "chickadee"}};
}
inline std::string classnames_txt() {
  std::string text;
  // Not sorted on purpose: labels follow the sorted folders, names are looked up by folder.
  auto classes = imagenet_classes();
  std::swap(classes[0], classes[5]);
  for (const auto& c : classes) text += c.wnid + " " + c.name + "\n";
  return text;
}

inline Expected imagenet(const fs::path& root) {
  const fs::path dir = root / "imagenet";
  put_text(dir / "classnames.txt", classnames_txt());
  Expected e;
  for (const auto& c : imagenet_classes()) {
    e.classnames.push_back(c.name);
    for (int i = 0; i < 5; ++i) image(dir / "images" / "train" / c.wnid / fmt::format("{}_{}.JPEG", c.wnid, 100 + i));
    for (int i = 0; i < 2; ++i)
      image(dir / "images" / "val" / c.wnid / fmt::format("ILSVRC2012_val_{}{:03d}.JPEG", c.wnid.substr(5), i));
    e.train += 5;
    e.test += 2;
  }
  put_text(dir / "images" / "train" / imagenet_classes()[0].wnid / ".DS_Store", "hidden");  // ignored
  e.val = e.test;
  return e;
}

inline Expected imagenetv2(const fs::path& root) {
  const fs::path dir = root / "imagenetv2", images = dir / "imagenetv2-matched-frequency-format-val";
  std::string text;
  Expected e;
  for (const auto& c : imagenet_classes()) text += c.wnid + " " + c.name + "\n";  // ImageNet's order
  put_text(dir / "classnames.txt", text);
  for (size_t label = 0; label < imagenet_classes().size(); ++label) {
    e.classnames.push_back(imagenet_classes()[label].name);
    for (int i = 0; i < 3; ++i)
      image(images / std::to_string(label) / fmt::format("{:040x}.jpeg", label * 10 + size_t(i)));
    e.test += 3;
  }
  e.train = e.test;
  return e;
}

// ImageNet-Sketch (all classes), -A and -R (a subset, with a README.txt next to the class folders).
inline Expected imagenet_variant(const fs::path& root, const std::string& folder, const std::string& image_subdir,
                                 bool subset) {
  const fs::path dir = root / folder, images = dir / image_subdir;
  put_text(dir / "classnames.txt", classnames_txt());
  if (subset) put_text(images / "README.txt", "ImageNet-A/R readme\n");
  Expected e;
  const auto classes = imagenet_classes();
  for (size_t k = 0; k < classes.size(); ++k) {
    if (subset && k % 3 != 1) continue;  // 7 of the 20 classes
    e.classnames.push_back(classes[k].name);
    for (int i = 0; i < 2 + int(k % 2); ++i) image(images / classes[k].wnid / fmt::format("{}.jpg", i));
    e.test += size_t(2 + k % 2);
  }
  e.train = e.test;
  return e;
}

// A 5-class split-JSON dataset for the generic reader and the protocol tests: class c has
// 3 + 2c training images (so the first classes have fewer than 8 shots), 4 val and 3 test images.
inline Expected five_class_split(const fs::path& root) {
  json split = {{"train", json::array()}, {"val", json::array()}, {"test", json::array()}};
  Expected e;
  const std::vector<std::string> names = {"red_circle", "green square", "blue_triangle", "cyan star", "magenta_ring"};
  for (int c = 0; c < 5; ++c) {
    e.classnames.push_back(names[size_t(c)]);
    const std::pair<const char*, int> splits[] = {{"train", 3 + 2 * c}, {"val", 4}, {"test", 3}};
    for (const auto& [s, n] : splits)
      for (int i = 0; i < n; ++i) {
        const std::string rel = fmt::format("c{}/{}_{}.jpg", c, s, i);
        image(root / "images" / rel);
        split[s].push_back(json::array({rel, c, names[size_t(c)]}));
      }
    e.train += size_t(3 + 2 * c);
    e.val += 4;
    e.test += 3;
  }
  put_text(root / "split.json", split.dump());
  return e;
}

}  // namespace clipt::test::replicas
