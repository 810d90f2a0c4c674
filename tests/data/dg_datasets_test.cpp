// The multi-domain readers on generated replicas of Dassl's PACS, VLCS, Office-Home and DomainNet layouts
// and on a small world_dg written by the world generator: domains, per-domain counts of each role, labels,
// class names, domain indices; both the Dassl and the MetaPrompt (*FS) names; and the errors.
#include <set>

#include "data/dataset.h"
#include "data/world/benchmark.h"
#include "tests/data/dg_replicas.h"

namespace clipt::data {
namespace {

namespace fs = std::filesystem;
namespace dgr = test::dg_replicas;

size_t count_domain(const std::vector<Sample>& samples, int64_t domain) {
  size_t n = 0;
  for (const auto& s : samples) n += s.domain == domain;
  return n;
}

// Everything a multi-domain reader must get right, against what the replica wrote.
void expect_domains(const DatasetSplits& d, const dgr::ExpectedDomains& e) {
  ASSERT_EQ(d.domains, e.domains) << d.name;
  for (size_t k = 0; k < e.domains.size(); ++k) {
    EXPECT_EQ(count_domain(d.train, int64_t(k)), e.counts[k].train) << d.name << " " << e.domains[k];
    EXPECT_EQ(count_domain(d.val, int64_t(k)), e.counts[k].val) << d.name << " " << e.domains[k];
    EXPECT_EQ(count_domain(d.test, int64_t(k)), e.counts[k].test) << d.name << " " << e.domains[k];
  }
  size_t train = 0, val = 0, test = 0;
  for (const auto& c : e.counts) {
    train += c.train;
    val += c.val;
    test += c.test;
  }
  EXPECT_EQ(d.train.size(), train);
  EXPECT_EQ(d.val.size(), val);
  EXPECT_EQ(d.test.size(), test);
  EXPECT_EQ(class_names(d.test), e.classnames) << d.name;
  for (const auto* split : {&d.train, &d.val, &d.test})
    for (const auto& s : *split) {
      ASSERT_TRUE(fs::is_regular_file(s.path)) << d.name << ": " << s.path;
      const auto it = e.label_of_path.find(s.path);
      ASSERT_NE(it, e.label_of_path.end()) << d.name << ": unexpected image " << s.path;
      ASSERT_EQ(s.label, it->second) << s.path;
      ASSERT_EQ(s.classname, e.classnames[size_t(s.label)]) << s.path;
      // The image lies in its domain's folder (PACS/DomainNet: <domain>/; VLCS: <DOMAIN>/).
      std::string lower = s.path;
      for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
      ASSERT_NE(lower.find("/" + e.domains[size_t(s.domain)] + "/"), std::string::npos) << s.path;
    }
}

TEST(DgDatasets, Pacs) {
  const fs::path root = test::scratch_dir("dg_pacs");
  const auto e = dgr::pacs(root);
  const DatasetSplits d = read_dataset("pacs", root);
  EXPECT_EQ(d.name, "pacs");
  EXPECT_EQ(d.dataset_dir, root / "pacs");
  expect_domains(d, e);
  // Test ("all") is train followed by crossval, domain by domain.
  std::vector<std::string> expected_test, test_paths;
  for (int64_t k = 0; k < 4; ++k) {
    for (const auto& s : d.train)
      if (s.domain == k) expected_test.push_back(s.path);
    for (const auto& s : d.val)
      if (s.domain == k) expected_test.push_back(s.path);
  }
  for (const auto& s : d.test) test_paths.push_back(s.path);
  EXPECT_EQ(test_paths, expected_test);
  for (const auto& s : d.train) EXPECT_EQ(s.path.find("n02103406_4068-1"), std::string::npos);  // Dassl's bad image
  // PACS' Dassl name and MetaPrompt's PACSFS read the same folder.
  EXPECT_EQ(read_dataset("PACS", root).train.size(), d.train.size());
  const DatasetSplits fs_variant = read_dataset("PACSFS", root);
  EXPECT_EQ(fs_variant.name, "pacs_fs");
  expect_domains(fs_variant, e);
}

TEST(DgDatasets, VlcsBothSpellings) {
  const fs::path dassl_root = test::scratch_dir("dg_vlcs_dassl");
  const auto e = dgr::vlcs(dassl_root, "VLCS");
  expect_domains(read_dataset("VLCS", dassl_root), e);
  expect_domains(read_dataset("VLCSFS", dassl_root), e);  // MetaPrompt's "vlcs" falls back to "VLCS"
  const fs::path fs_root = test::scratch_dir("dg_vlcs_fs");
  const auto e2 = dgr::vlcs(fs_root, "vlcs");
  expect_domains(read_dataset("vlcs_fs", fs_root), e2);
  expect_domains(read_dataset("vlcs", fs_root), e2);
}

TEST(DgDatasets, OfficeHome) {
  const fs::path root = test::scratch_dir("dg_office_home");
  const auto e = dgr::office_home(root, "office_home_dg");
  const DatasetSplits d = read_dataset("OfficeHomeDG", root);
  EXPECT_EQ(d.name, "office_home");
  expect_domains(d, e);
  EXPECT_EQ(class_names(d.train)[0], "alarm_clock");
  // MetaPrompt's OfficeHomeFS reads <root>/office_home (and falls back to Dassl's folder name).
  const fs::path fs_root = test::scratch_dir("dg_office_home_fs");
  const auto e_fs = dgr::office_home(fs_root, "office_home");
  expect_domains(read_dataset("OfficeHomeFS", fs_root), e_fs);
  expect_domains(read_dataset("office_home_fs", root), e);
}

TEST(DgDatasets, DomainNet) {
  const fs::path root = test::scratch_dir("dg_domainnet");
  const auto e = dgr::domainnet(root);
  const DatasetSplits d = read_dataset("DomainNetDG", root);
  EXPECT_EQ(d.name, "domainnet");
  expect_domains(d, e);
  // Sources validate on their test split.
  ASSERT_EQ(d.val.size(), d.test.size());
  for (size_t i = 0; i < d.val.size(); ++i) EXPECT_EQ(d.val[i].path, d.test[i].path);
  // Painting's train lacks the last class (like t-shirt in the real painting_train.txt).
  std::set<int64_t> painting_train_labels;
  for (const auto& s : d.train)
    if (s.domain == 2) painting_train_labels.insert(s.label);
  EXPECT_EQ(painting_train_labels, (std::set<int64_t>{0, 1, 2}));
  EXPECT_EQ(read_dataset("DomainNetFS", root).name, "domainnet_fs");
}

TEST(DgDatasets, WorldDgFromTheGenerator) {
  const fs::path root = test::scratch_dir("dg_world");
  world::DgBenchmarkSpec spec;
  spec.classes = {{world::Colour::Red, world::Colour::Blue}, {world::Shape::Circle, world::Shape::Square}};
  spec.domains = {world::Style::Photo, world::Style::Sketch, world::Style::Noisy};
  spec.train_per_class = 3;
  spec.crossval_per_class = 2;
  spec.image_size = 16;
  const auto written = world::write_dg_benchmark(root, spec);
  const DatasetSplits d = read_dataset("world_dg", root);
  EXPECT_EQ(d.domains, (std::vector<std::string>{"photo", "sketch", "noisy"}));
  EXPECT_EQ(d.train.size(), 3u * 4u * 3u);
  EXPECT_EQ(d.val.size(), 3u * 4u * 2u);
  EXPECT_EQ(d.test.size(), 3u * 4u * 5u);
  std::vector<std::string> expected_names;
  for (const auto& c : written.classes) expected_names.push_back(c.folder);  // "red_circle": '_' → ' ' in prompts
  EXPECT_EQ(class_names(d.train), expected_names);
  for (const auto& s : d.test) {
    ASSERT_TRUE(fs::is_regular_file(s.path)) << s.path;
    EXPECT_NE(s.path.find("/" + d.domains[size_t(s.domain)] + "/"), std::string::npos) << s.path;
  }
}

TEST(DgDatasets, Errors) {
  const fs::path root = test::scratch_dir("dg_errors");
  EXPECT_ERROR_CONTAINS(read_dataset("pacs", root), (root / "pacs").string());
  EXPECT_ERROR_CONTAINS(read_dataset("vlcs", root), "or");  // names both spellings
  dgr::pacs(root);
  // A PACS label of 0 is invalid (the files are 1-based).
  test::put_text(root / "pacs/splits/photo_train_kfold.txt", "photo/dog/pic_0_000.jpg 0\n");
  EXPECT_ERROR_CONTAINS(read_dataset("pacs", root), "photo_train_kfold.txt line 1");
  test::put_text(root / "pacs/splits/photo_train_kfold.txt", "photo/dog/pic_0_000.jpg\n");
  EXPECT_ERROR_CONTAINS(read_dataset("pacs", root), "expected \"<relative image path> <label>\"");
  test::put_text(root / "pacs/splits/photo_train_kfold.txt", "photo/dog/pic_0_000.jpg one\n");
  EXPECT_ERROR_CONTAINS(read_dataset("pacs", root), "not an integer");
  fs::remove(root / "pacs/splits/photo_train_kfold.txt");
  EXPECT_ERROR_CONTAINS(read_dataset("pacs", root), "photo_train_kfold.txt");
  // VLCS needs its five classes.
  const fs::path vroot = test::scratch_dir("dg_errors_vlcs");
  dgr::vlcs(vroot);
  fs::remove_all(vroot / "VLCS/SUN/test/4");
  EXPECT_ERROR_CONTAINS(read_dataset("vlcs", vroot), "has 4 class folders");
  // world_dg without its marker.
  const fs::path wroot = test::scratch_dir("dg_errors_world");
  fs::create_directories(wroot / "world_dg");
  EXPECT_ERROR_CONTAINS(read_dataset("world_dg", wroot), "world_spec.json");
}

}  // namespace
}  // namespace clipt::data
