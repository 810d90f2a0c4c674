// Every dataset reader on a generated replica of its CoOp layout: counts, labels, class names, paths;
// and the errors for missing or malformed pieces.
#include <set>

#include "data/dataset.h"
#include "tests/data/replicas.h"

namespace clipt::data {
namespace {

namespace fs = std::filesystem;
namespace replicas = test::replicas;

void expect_matches(const DatasetSplits& d, const replicas::Expected& e, const fs::path& image_dir) {
  EXPECT_EQ(d.train.size(), e.train) << d.name;
  EXPECT_EQ(d.val.size(), e.val) << d.name;
  EXPECT_EQ(d.test.size(), e.test) << d.name;
  EXPECT_EQ(class_names(d.train), e.classnames) << d.name;
  EXPECT_EQ(num_classes(d.train), int64_t(e.classnames.size())) << d.name;
  EXPECT_EQ(fs::path(d.image_dir), image_dir) << d.name;
  for (const auto* split : {&d.train, &d.val, &d.test})
    for (const auto& s : *split) {
      ASSERT_TRUE(fs::is_regular_file(s.path)) << d.name << ": " << s.path;
      ASSERT_EQ(s.classname, e.classnames[size_t(s.label)]) << d.name << ": " << s.path;
      ASSERT_EQ(s.domain, 0);
    }
  if (!d.test.empty()) { EXPECT_EQ(class_names(d.test), e.classnames) << d.name; }
}

struct SplitCase {
  const char* name;
  const char* dassl;
  replicas::Expected (*build)(const fs::path&);
  const char* image_dir;  // relative to the root
};

class SplitDatasets : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitDatasets, ReadReplica) {
  const SplitCase& c = GetParam();
  const fs::path root = test::scratch_dir(c.name);
  const replicas::Expected e = c.build(root);
  const DatasetSplits d = read_dataset(c.name, root);
  EXPECT_EQ(d.name, c.name);
  EXPECT_FALSE(d.val_is_test);
  expect_matches(d, e, root / c.image_dir);
  // The Dassl class name used in YAML configs resolves to the same reader.
  const DatasetSplits by_dassl = read_dataset(c.dassl, root);
  EXPECT_EQ(by_dassl.name, c.name);
  EXPECT_EQ(by_dassl.train.size(), d.train.size());
}

INSTANTIATE_TEST_SUITE_P(
    CoOp, SplitDatasets,
    ::testing::Values(SplitCase{"caltech101", "Caltech101", replicas::caltech101, "caltech-101/101_ObjectCategories"},
                      SplitCase{"oxford_pets", "OxfordPets", replicas::oxford_pets, "oxford_pets/images"},
                      SplitCase{"stanford_cars", "StanfordCars", replicas::stanford_cars, "stanford_cars"},
                      SplitCase{"oxford_flowers", "OxfordFlowers", replicas::oxford_flowers, "oxford_flowers/jpg"},
                      SplitCase{"food101", "Food101", replicas::food101, "food-101/images"},
                      SplitCase{"sun397", "SUN397", replicas::sun397, "sun397/SUN397"},
                      SplitCase{"dtd", "DescribableTextures", replicas::dtd, "dtd/images"},
                      SplitCase{"eurosat", "EuroSAT", replicas::eurosat, "eurosat/2750"},
                      SplitCase{"ucf101", "UCF101", replicas::ucf101, "ucf101/UCF-101-midframes"},
                      SplitCase{"fgvc_aircraft", "FGVCAircraft", replicas::fgvc_aircraft, "fgvc_aircraft/images"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Datasets, CaltechAndEuroSatNamesComeFromTheSplitFile) {
  const fs::path root = test::scratch_dir("names");
  replicas::caltech101(root);
  replicas::eurosat(root);
  const auto caltech = class_names(read_dataset("caltech101", root).train);
  EXPECT_EQ(caltech[1], "airplane");
  EXPECT_EQ(caltech[5], "face");
  for (const auto& n : caltech) EXPECT_TRUE(n != "BACKGROUND_Google" && n != "Faces_easy");
  const auto eurosat = class_names(read_dataset("eurosat", root).train);
  EXPECT_EQ(eurosat[0], "Annual Crop Land");
  EXPECT_EQ(eurosat[9], "Sea or Lake");
}

TEST(Datasets, FgvcAircraftLabelsFollowVariantsTxt) {
  const fs::path root = test::scratch_dir("fgvc");
  replicas::fgvc_aircraft(root);
  const DatasetSplits d = read_dataset("fgvc_aircraft", root);
  // The first line of images_variant_train.txt is class 0 ("707-320"), the 8th "F-16A/B" (label 7).
  EXPECT_EQ(d.train[0].label, 0);
  EXPECT_EQ(d.train[7].classname, "F-16A/B");
  EXPECT_EQ(d.train[7].label, 7);
  EXPECT_EQ(fs::path(d.train[0].path).filename().string(), "1000001.jpg");
}

TEST(Datasets, ImageNetSortedFoldersAndClassnames) {
  const fs::path root = test::scratch_dir("imagenet");
  const replicas::Expected e = replicas::imagenet(root);
  const DatasetSplits d = read_dataset("imagenet", root);
  EXPECT_TRUE(d.val_is_test);
  expect_matches(d, e, root / "imagenet" / "images");
  EXPECT_EQ(class_names(d.train)[2], "great white shark");
  for (const auto& s : d.train) EXPECT_EQ(s.path.find(".DS_Store"), std::string::npos);
}

TEST(Datasets, ImageNetV2FoldersAreLabelIndices) {
  const fs::path root = test::scratch_dir("v2");
  const replicas::Expected e = replicas::imagenetv2(root);
  const DatasetSplits d = read_dataset("imagenetv2", root);
  EXPECT_TRUE(d.test_only);
  expect_matches(d, e, root / "imagenetv2" / "imagenetv2-matched-frequency-format-val");
}

TEST(Datasets, ImageNetSketchAndSubsetsRelabelledAsCoOp) {
  const fs::path root = test::scratch_dir("variants");
  const auto sketch = replicas::imagenet_variant(root, "imagenet-sketch", "images", false);
  const auto a = replicas::imagenet_variant(root, "imagenet-adversarial", "imagenet-a", true);
  const auto r = replicas::imagenet_variant(root, "imagenet-rendition", "imagenet-r", true);
  expect_matches(read_dataset("imagenet_sketch", root), sketch, root / "imagenet-sketch" / "images");
  const DatasetSplits da = read_dataset("imagenet_a", root);
  expect_matches(da, a, root / "imagenet-adversarial" / "imagenet-a");
  EXPECT_EQ(num_classes(da.test), 7);  // labels 0..6 over the wnids present
  EXPECT_EQ(class_names(da.test)[0], "goldfish");
  expect_matches(read_dataset("ImageNetR", root), r, root / "imagenet-rendition" / "imagenet-r");
}

TEST(Datasets, VariantFallsBackToImageNetClassnames) {
  const fs::path root = test::scratch_dir("fallback");
  replicas::imagenet(root);
  const auto e = replicas::imagenet_variant(root, "imagenet-rendition", "imagenet-r", true);
  fs::remove(root / "imagenet-rendition" / "classnames.txt");
  expect_matches(read_dataset("imagenet_r", root), e, root / "imagenet-rendition" / "imagenet-r");
  fs::remove(root / "imagenet" / "classnames.txt");
  EXPECT_ERROR_CONTAINS(read_dataset("imagenet_r", root), "classnames.txt");
}

TEST(Datasets, GenericSplitJson) {
  const fs::path root = test::scratch_dir("generic");
  const auto e = replicas::five_class_split(root);
  const DatasetSplits d = read_dataset("split_json", root);
  expect_matches(d, e, root / "images");
  // Explicit split file and image folder.
  fs::rename(root / "split.json", root / "mine.json");
  DatasetSource source{root, root / "mine.json", root / "images"};
  EXPECT_EQ(read_dataset("split_json", source).test.size(), e.test);
}

TEST(Datasets, GenericImageFolderWithAndWithoutSplits) {
  const fs::path root = test::scratch_dir("folder");
  for (const char* cls : {"zebra", "apple", "mango"})
    for (int i = 0; i < 3; ++i) {
      replicas::image(root / "train" / cls / fmt::format("{}.jpg", i));
      if (i < 2) replicas::image(root / "test" / cls / fmt::format("{}.png", i));
    }
  replicas::image(root / "test" / "banana" / "0.jpg");  // a class only in test still gets a stable label
  const DatasetSplits d = read_dataset("image_folder", root);
  EXPECT_EQ(d.train.size(), 9u);
  EXPECT_EQ(d.test.size(), 7u);
  EXPECT_TRUE(d.val_is_test);
  EXPECT_EQ(class_names(d.test), (std::vector<std::string>{"apple", "banana", "mango", "zebra"}));
  EXPECT_EQ(d.train[0].classname, "apple");
  EXPECT_EQ(d.train[0].label, 0);
  EXPECT_EQ(d.train.back().label, 3);

  const fs::path flat = test::scratch_dir("flat");
  for (const char* cls : {"cat", "dog"}) replicas::image(flat / cls / "a.jpg");
  test::put_text(flat / "classnames.txt", "cat house cat\ndog good dog\n");
  const DatasetSplits f = read_dataset("image_folder", flat);
  EXPECT_EQ(f.train.size(), 2u);
  EXPECT_EQ(f.test.size(), 2u);
  EXPECT_EQ(class_names(f.test), (std::vector<std::string>{"house cat", "good dog"}));
}

// ---- errors name the path and what was expected ----

TEST(DatasetErrors, MissingPieces) {
  const fs::path root = test::scratch_dir("missing");
  EXPECT_ERROR_CONTAINS(read_dataset("oxford_pets", root / "nowhere"), "DATASET.ROOT");
  EXPECT_ERROR_CONTAINS(read_dataset("oxford_pets", root), (root / "oxford_pets").string());
  fs::create_directories(root / "oxford_pets" / "images");
  EXPECT_ERROR_CONTAINS(read_dataset("oxford_pets", root), "split_zhou_OxfordPets.json");
  EXPECT_ERROR_CONTAINS(read_dataset("imagenet", root), (root / "imagenet").string());
  fs::create_directories(root / "imagenet" / "images" / "train");
  EXPECT_ERROR_CONTAINS(read_dataset("imagenet", root), "images/val");
  EXPECT_ERROR_CONTAINS(read_dataset("fgvc_aircraft", root), "fgvc_aircraft");
  EXPECT_ERROR_CONTAINS(read_dataset("image_folder", root / "nothing"), "nothing");
}

TEST(DatasetErrors, MalformedSplitFiles) {
  const fs::path root = test::scratch_dir("malformed");
  const fs::path dir = root / "dtd";
  fs::create_directories(dir / "images");
  const fs::path split = dir / "split_zhou_DescribableTextures.json";
  test::put_text(split, "{\"train\": [[\"a.jpg\", 0, \"banded\"]], \"val\": []");  // truncated
  EXPECT_ERROR_CONTAINS(read_dataset("dtd", root), split.string());
  test::put_text(split, "{\"train\": [[\"a.jpg\", 0]], \"val\": [], \"test\": []}");
  EXPECT_ERROR_CONTAINS(read_dataset("dtd", root), "train[0]");
  test::put_text(split, "{\"train\": [[\"a.jpg\", \"x\", \"banded\"]], \"val\": [], \"test\": []}");
  EXPECT_ERROR_CONTAINS(read_dataset("dtd", root), "not an integer");
  test::put_text(split, "{\"train\": [], \"val\": []}");
  EXPECT_ERROR_CONTAINS(read_dataset("dtd", root), "\"test\"");
  test::put_text(split,
                 "{\"train\": [[\"a.jpg\", \"3\", \"banded\"]], \"val\": [], \"test\": [[\"a.jpg\", 3, \"banded\"]]}");
  EXPECT_EQ(read_dataset("dtd", root).train[0].label, 3);  // CoOp applies int(label)
  // An empty list names the split file and the list, not "no classes" after the model is loaded.
  test::put_text(split, "{\"train\": [[\"a.jpg\", 0, \"banded\"]], \"val\": [], \"test\": []}");
  EXPECT_ERROR_CONTAINS(read_dataset("dtd", root), split.string() + ": the \"test\" list is empty");
}

TEST(DatasetErrors, UnknownNamesAndLabels) {
  const fs::path root = test::scratch_dir("unknown");
  EXPECT_ERROR_CONTAINS(read_dataset("oxford_pet", root), "did you mean \"oxford_pets\"");
  EXPECT_ERROR_CONTAINS(find_dataset("imagenet-sketch"), "imagenet_sketch");
  replicas::fgvc_aircraft(root);
  test::put_text(root / "fgvc_aircraft" / "images_variant_val.txt", "1000001 Boeing 999\n");
  EXPECT_ERROR_CONTAINS(read_dataset("fgvc_aircraft", root), "Boeing 999");
  replicas::imagenet(root);
  replicas::image(root / "imagenet" / "images" / "val" / "n09999999" / "x.JPEG");
  EXPECT_ERROR_CONTAINS(read_dataset("imagenet", root), "n09999999");
}

TEST(DatasetRegistry, ListsEveryNameUsersType) {
  std::set<std::string> names;
  for (const auto& info : dataset_registry()) names.insert(info.name);
  for (const char* n : {"caltech101", "oxford_pets", "stanford_cars", "oxford_flowers", "food101", "fgvc_aircraft",
                        "sun397", "dtd", "eurosat", "ucf101", "imagenet", "imagenetv2", "imagenet_sketch", "imagenet_a",
                        "imagenet_r", "split_json", "image_folder"})
    EXPECT_EQ(names.count(n), 1u) << n;
  register_dataset({"my_set", "MySet", "", [](const DatasetSource& s) {
                      DatasetSplits d;
                      d.dataset_dir = s.root;
                      d.train.push_back(Sample{"x.jpg", 0, "thing", 2});
                      return d;
                    }});
  EXPECT_EQ(read_dataset("MySet", fs::path("/tmp")).train[0].domain, 2);
  EXPECT_ERROR_CONTAINS(register_dataset({"my_set", "", "", [](const DatasetSource&) { return DatasetSplits{}; }}),
                        "already registered");
}

TEST(DatasetHelpers, ClassNamesChecksConsistency) {
  std::vector<Sample> s = {{"a", 1, "one", 0}, {"b", 0, "zero", 0}, {"c", 1, "one", 0}};
  EXPECT_EQ(class_names(s), (std::vector<std::string>{"zero", "one"}));
  s.push_back({"d", 1, "uno", 0});
  EXPECT_ERROR_CONTAINS(class_names(s), "two class names");
  EXPECT_ERROR_CONTAINS(class_names({{"a", 2, "two", 0}}), "no sample has label 0");
}

}  // namespace
}  // namespace clipt::data
