// The few-shot protocol (sampling, determinism, the split_fewshot cache and its errors) and the
// base/new class split, on generated replicas.
#include "data/fewshot.h"

#include <map>
#include <set>

#include "data/sample_rng.h"
#include "data/subsample.h"
#include "tests/data/replicas.h"

namespace clipt::data {
namespace {

namespace fs = std::filesystem;
namespace replicas = test::replicas;

std::map<int64_t, int> per_class(const std::vector<Sample>& s) {
  std::map<int64_t, int> counts;
  for (const auto& x : s) ++counts[x.label];
  return counts;
}

std::vector<std::string> paths_of(const std::vector<Sample>& s) {
  std::vector<std::string> p;
  for (const auto& x : s) p.push_back(x.path);
  return p;
}

TEST(FewShot, CountsPerClassWithAndWithoutReplacement) {
  const fs::path root = test::scratch_dir("counts");
  replicas::five_class_split(root);  // class c has 3 + 2c training images, 4 val
  const DatasetSplits full = read_dataset("split_json", root);
  const DatasetSplits few = apply_fewshot(full, 8, 1, {false, {}});
  for (const auto& [label, n] : per_class(few.train)) EXPECT_EQ(n, 8) << "label " << label;
  for (const auto& [label, n] : per_class(few.val)) EXPECT_EQ(n, 4) << "label " << label;  // min(8, 4)
  EXPECT_EQ(few.test.size(), full.test.size());                                            // test untouched
  // Classes with ≥ 8 images are sampled without replacement, smaller ones with.
  std::map<int64_t, std::set<std::string>> distinct;
  for (const auto& s : few.train) distinct[s.label].insert(s.path);
  EXPECT_EQ(distinct[4].size(), 8u);  // 11 images available
  EXPECT_LE(distinct[0].size(), 3u);  // only 3 exist
  // Classes keep their order of first appearance (Dassl's dict order) and samples come from train.
  std::set<std::string> train_paths;
  for (const auto& s : full.train) train_paths.insert(s.path);
  for (size_t i = 0; i < few.train.size(); ++i) {
    EXPECT_EQ(few.train[i].label, int64_t(i / 8));
    EXPECT_EQ(train_paths.count(few.train[i].path), 1u);
  }
  // k = 2: val gets 2.
  for (const auto& [label, n] : per_class(apply_fewshot(full, 2, 1, {false, {}}).val)) EXPECT_EQ(n, 2);
}

TEST(FewShot, DeterministicPerSeedAndDifferentAcrossSeeds) {
  const fs::path root = test::scratch_dir("determinism");
  replicas::dtd(root);  // 14 classes × 4–5 train images
  const DatasetSplits full = read_dataset("dtd", root);
  const auto a = apply_fewshot(full, 2, 1, {false, {}});
  const auto b = apply_fewshot(full, 2, 1, {false, {}});
  const auto c = apply_fewshot(full, 2, 2, {false, {}});
  EXPECT_EQ(paths_of(a.train), paths_of(b.train));
  EXPECT_EQ(paths_of(a.val), paths_of(b.val));
  EXPECT_NE(paths_of(a.train), paths_of(c.train));
  // NUM_SHOTS < 1 leaves everything unchanged, as Dassl.
  EXPECT_EQ(apply_fewshot(full, 0, 1, {false, {}}).train.size(), full.train.size());
  EXPECT_EQ(apply_fewshot(full, -1, 1, {false, {}}).train.size(), full.train.size());
}

TEST(FewShot, SamplePerClassUsesEveryItemEquallyOften) {
  // Without replacement: over many seeds each of the 10 items of a class is picked ~k/10 of the time.
  std::vector<Sample> samples;
  for (int i = 0; i < 10; ++i) samples.push_back({std::to_string(i), 0, "c", 0});
  std::map<std::string, int> hits;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    Generator g = stream_generator(seed, 0, uint64_t(RngStream::FewShot));
    const auto picked = sample_per_class(samples, 3, g);
    std::set<std::string> unique;
    for (const auto& s : picked) unique.insert(s.path);
    ASSERT_EQ(unique.size(), 3u);
    for (const auto& p : unique) ++hits[p];
  }
  for (const auto& [path, n] : hits) EXPECT_NEAR(n, 600, 90) << path;
}

TEST(FewShotCache, WrittenThenReusedForTheSameSeed) {
  const fs::path root = test::scratch_dir("cache");
  replicas::eurosat(root);
  const DatasetSplits full = read_dataset("eurosat", root);
  const fs::path file = root / "eurosat" / "split_fewshot" / "shot_2-seed_3.json";
  EXPECT_EQ(fewshot_cache_path(full, 2, 3), file);
  const auto first = apply_fewshot(full, 2, 3);
  ASSERT_TRUE(fs::is_regular_file(file));
  const auto cached = test::read_json_file(file);
  EXPECT_EQ(cached["shots"], 2);
  EXPECT_EQ(cached["seed"], 3);
  EXPECT_EQ(cached["dataset"], "eurosat");
  EXPECT_EQ(cached["train"].size(), first.train.size());
  EXPECT_EQ(cached["train"][0][0].get<std::string>().find('/'), cached["train"][0][0].get<std::string>().find("/"));
  EXPECT_FALSE(fs::path(cached["train"][0][0].get<std::string>()).is_absolute());  // relative like CoOp's splits

  // Reuse: the cache is read, not resampled (edit it to a different valid selection to prove it).
  auto edited = cached;
  edited["train"][0] = cached["train"][1];
  test::put_text(file, edited.dump());
  const auto second = apply_fewshot(full, 2, 3);
  EXPECT_EQ(second.train[0].path, first.train[1].path);
  EXPECT_EQ(second.val.size(), first.val.size());

  // Another seed never reuses it: a new file appears.
  apply_fewshot(full, 2, 4);
  EXPECT_TRUE(fs::is_regular_file(root / "eurosat" / "split_fewshot" / "shot_2-seed_4.json"));
}

TEST(FewShotCache, CorruptOrForeignCachesAreErrorsNamingTheFile) {
  const fs::path root = test::scratch_dir("corrupt");
  replicas::eurosat(root);
  const DatasetSplits full = read_dataset("eurosat", root);
  const fs::path file = fewshot_cache_path(full, 4, 1);
  apply_fewshot(full, 4, 1);
  const auto good = test::read_json_file(file);

  test::put_text(file, "{\"format\": \"clipt-fewshot\", \"train\": [");
  EXPECT_ERROR_CONTAINS(apply_fewshot(full, 4, 1), file.string());
  test::put_text(file, "[1, 2, 3]");
  EXPECT_ERROR_CONTAINS(apply_fewshot(full, 4, 1), file.string());

  auto bad_type = good;
  bad_type["version"] = "one";
  test::put_text(file, bad_type.dump());
  EXPECT_ERROR_CONTAINS(apply_fewshot(full, 4, 1), file.string());

  auto wrong_seed = good;
  wrong_seed["seed"] = 2;  // a cache renamed from another seed
  test::put_text(file, wrong_seed.dump());
  EXPECT_ERROR_CONTAINS(apply_fewshot(full, 4, 1), "seed=2");

  auto wrong_item = good;
  wrong_item["train"][0] = nlohmann::json::array({"Forest/Forest_train1.jpg", "x", "Forest"});
  test::put_text(file, wrong_item.dump());
  EXPECT_ERROR_CONTAINS(apply_fewshot(full, 4, 1), "train[0]");

  auto stale = good;  // an image that is not in the current split file
  stale["train"][0] = nlohmann::json::array({"Forest/not_there.jpg", 1, "Forest"});
  test::put_text(file, stale.dump());
  EXPECT_ERROR_CONTAINS(apply_fewshot(full, 4, 1), "does not match");

  auto other = good;
  other["dataset"] = "dtd";
  test::put_text(file, other.dump());
  EXPECT_ERROR_CONTAINS(apply_fewshot(full, 4, 1), "\"dtd\"");

  test::put_text(file, good.dump());
  EXPECT_NO_THROW(apply_fewshot(full, 4, 1));
}

TEST(FewShotCache, ReadOnlyFolderWarnsAndContinues) {
  const fs::path root = test::scratch_dir("readonly");
  replicas::eurosat(root);
  const DatasetSplits full = read_dataset("eurosat", root);
  test::put_text(root / "eurosat" / "split_fewshot", "a file where the folder should be");
  std::vector<std::string> warnings;
  const auto few = apply_fewshot(full, 2, 1, {true, [&](const std::string& m) { warnings.push_back(m); }});
  EXPECT_EQ(few.train.size(), 20u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("split_fewshot"), std::string::npos);
}

TEST(FewShot, ImageNetSamplesTrainOnlyAndVariantsAreUntouched) {
  const fs::path root = test::scratch_dir("imagenet_fewshot");
  replicas::imagenet(root);
  replicas::imagenetv2(root);
  const DatasetSplits full = read_dataset("imagenet", root);
  const auto few = apply_fewshot(full, 2, 1);
  EXPECT_EQ(few.train.size(), 40u);
  EXPECT_EQ(few.val.size(), full.test.size());  // val stays the test set
  const auto cached = test::read_json_file(fewshot_cache_path(full, 2, 1));
  EXPECT_FALSE(cached.contains("val"));
  const DatasetSplits v2 = read_dataset("imagenetv2", root);
  EXPECT_EQ(apply_fewshot(v2, 16, 1).test.size(), v2.test.size());
  EXPECT_FALSE(fs::exists(root / "imagenetv2" / "split_fewshot"));
}

// ---- base / new ----

TEST(Subsample, FiveClassesGiveThreeBaseTwoNewRelabelled) {
  const fs::path root = test::scratch_dir("b2n");
  replicas::five_class_split(root);
  const DatasetSplits full = read_dataset("split_json", root);
  const auto base = subsample_classes(full, Subsample::Base);
  const auto novel = subsample_classes(full, Subsample::New);
  EXPECT_EQ(class_names(base.train), (std::vector<std::string>{"red_circle", "green square", "blue_triangle"}));
  EXPECT_EQ(class_names(novel.train), (std::vector<std::string>{"cyan star", "magenta_ring"}));
  EXPECT_EQ(class_names(novel.test), (std::vector<std::string>{"cyan star", "magenta_ring"}));
  EXPECT_EQ(per_class(novel.test), (std::map<int64_t, int>{{0, 3}, {1, 3}}));
  EXPECT_EQ(base.val.size(), 12u);
  EXPECT_EQ(base.train.size(), 3u + 5u + 7u);
  EXPECT_EQ(novel.train.size(), 9u + 11u);
  EXPECT_EQ(subsample_classes(full, Subsample::All).train.size(), full.train.size());
  EXPECT_EQ(subsample_labels(full.train, Subsample::New), (std::vector<int64_t>{3, 4}));
}

TEST(Subsample, LabelsComeFromTrainAndApplyToEverySplit) {
  // Labels need not be contiguous in train (e.g. after filtering): the sorted distinct ones are split.
  DatasetSplits d;
  d.name = "toy";
  for (int64_t l : {7, 2, 9, 4}) d.train.push_back({"t" + std::to_string(l), l, "c" + std::to_string(l), 0});
  for (int64_t l : {2, 4, 7, 9, 11}) d.test.push_back({"s" + std::to_string(l), l, "c" + std::to_string(l), 0});
  const auto base = subsample_classes(d, Subsample::Base);  // base = {2, 4}
  ASSERT_EQ(base.test.size(), 2u);
  EXPECT_EQ(base.test[0].classname, "c2");
  EXPECT_EQ(base.test[0].label, 0);
  EXPECT_EQ(base.test[1].label, 1);
  const auto novel = subsample_classes(d, Subsample::New);  // new = {7, 9}; 11 is in neither
  ASSERT_EQ(novel.test.size(), 2u);
  EXPECT_EQ(novel.test[1].classname, "c9");
  EXPECT_EQ(novel.test[1].label, 1);
  EXPECT_ERROR_CONTAINS(parse_subsample("novel"), "novel");
}

TEST(Subsample, AfterFewShotAsCoOpOrders) {
  const fs::path root = test::scratch_dir("fewshot_then_b2n");
  replicas::eurosat(root);  // 10 classes → base 5, new 5
  const auto few = apply_fewshot(read_dataset("eurosat", root), 2, 1, {false, {}});
  const auto base = subsample_classes(few, Subsample::Base);
  EXPECT_EQ(base.train.size(), 10u);
  EXPECT_EQ(num_classes(base.train), 5);
  EXPECT_EQ(class_names(base.test)[4], "Industrial Buildings");
  EXPECT_EQ(class_names(subsample_classes(few, Subsample::New).test)[0], "Pasture Land");
}

}  // namespace
}  // namespace clipt::data
