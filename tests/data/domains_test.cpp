// Leave-one-domain-out selection and the per-domain few-shot protocol (data/domains.h), on the
// PACS replica: which samples go where, how domains are renumbered, DATASET.ID vs the domain lists, the
// shot counts per class per source domain, determinism, caching and its checks.
#include "data/domains.h"

#include <map>
#include <set>

#include "data/loader.h"
#include "tests/data/dg_replicas.h"

namespace clipt::data {
namespace {

namespace fs = std::filesystem;
namespace dgr = test::dg_replicas;

Config dg_config(std::vector<std::string> sources, std::vector<std::string> targets, int64_t id = 0) {
  Config c;
  c.define("DATASET.SOURCE_DOMAINS", ConfigValue::list(std::vector<ConfigValue>{}), {ConfigValue::Kind::List});
  c.define("DATASET.TARGET_DOMAINS", ConfigValue::list(std::vector<ConfigValue>{}), {ConfigValue::Kind::List});
  c.define("DATASET.ID", 0);
  c.set("DATASET.SOURCE_DOMAINS", ConfigValue::list(sources));
  c.set("DATASET.TARGET_DOMAINS", ConfigValue::list(targets));
  c.set("DATASET.ID", id);
  return c;
}

std::set<std::string> paths_of(const std::vector<Sample>& samples) {
  std::set<std::string> out;
  for (const auto& s : samples) out.insert(s.path);
  return out;
}

TEST(Domains, LeaveOneDomainOut) {
  const std::vector<std::string> d = {"art_painting", "cartoon", "photo", "sketch"};
  const DomainSelection s = leave_one_domain_out(d, 2);
  EXPECT_EQ(s.sources, (std::vector<std::string>{"art_painting", "cartoon", "sketch"}));
  EXPECT_EQ(s.targets, (std::vector<std::string>{"photo"}));
  EXPECT_EQ(leave_one_domain_out(d, "art_painting").sources, (std::vector<std::string>{"cartoon", "photo", "sketch"}));
  EXPECT_ERROR_CONTAINS(leave_one_domain_out(d, 4), "out of range");
  EXPECT_ERROR_CONTAINS(leave_one_domain_out(d, "clipart"), "clipart");
  EXPECT_ERROR_CONTAINS(leave_one_domain_out({"only"}, 0), "at least 2");
}

TEST(Domains, SelectKeepsSourcesAndTargetAndRenumbers) {
  const fs::path root = test::scratch_dir("domains_select");
  const auto e = dgr::pacs(root);
  const DatasetSplits all = read_dataset("pacs", root);
  // Sources in a custom order: Dassl numbers domains by their position in SOURCE_DOMAINS.
  const DatasetSplits s = select_domains(all, {{"sketch", "art_painting"}, {"photo"}});
  EXPECT_EQ(s.domains, (std::vector<std::string>{"sketch", "art_painting"}));
  std::map<int64_t, size_t> train_per_domain, val_per_domain;
  for (const auto& x : s.train) train_per_domain[x.domain]++;
  for (const auto& x : s.val) val_per_domain[x.domain]++;
  EXPECT_EQ(train_per_domain, (std::map<int64_t, size_t>{{0, e.counts[3].train}, {1, e.counts[0].train}}));
  EXPECT_EQ(val_per_domain, (std::map<int64_t, size_t>{{0, e.counts[3].val}, {1, e.counts[0].val}}));
  ASSERT_EQ(s.test.size(), e.counts[2].test);
  for (const auto& x : s.test) {
    EXPECT_EQ(x.domain, 0);
    EXPECT_NE(x.path.find("/photo/"), std::string::npos);
  }
  for (const auto& x : s.train) EXPECT_EQ(x.path.find("/photo/"), std::string::npos);
  // Sketch samples come first (read domain by domain in the order given).
  EXPECT_NE(s.train.front().path.find("/sketch/"), std::string::npos);
  EXPECT_ERROR_CONTAINS(select_domains(all, {{"sketch"}, {"clipart"}}), "clipart");
  EXPECT_ERROR_CONTAINS(select_domains(all, {{}, {"photo"}}), "no source");
}

TEST(Domains, SelectionFromConfig) {
  const fs::path root = test::scratch_dir("domains_config");
  dgr::pacs(root);
  const DatasetSplits dassl = read_dataset("PACS", root);
  const DomainSelection a = domain_selection_from(dg_config({"photo", "cartoon"}, {"sketch"}, 3), dassl);
  EXPECT_EQ(a.sources, (std::vector<std::string>{"photo", "cartoon"}));  // lists win for Dassl's classes
  EXPECT_EQ(a.targets, (std::vector<std::string>{"sketch"}));
  EXPECT_ERROR_CONTAINS(domain_selection_from(dg_config({}, {}), dassl), "DATASET.SOURCE_DOMAINS");
  // MetaPrompt's PACSFS: DATASET.ID picks the target; the lists (inconsistent in its YAML) are ignored.
  const DatasetSplits fs_variant = read_dataset("PACSFS", root);
  const DomainSelection b =
      domain_selection_from(dg_config({"art_painting", "cartoon", "photo"}, {"sketch"}, 0), fs_variant);
  EXPECT_EQ(b.targets, (std::vector<std::string>{"art_painting"}));
  EXPECT_EQ(b.sources, (std::vector<std::string>{"cartoon", "photo", "sketch"}));
  EXPECT_ERROR_CONTAINS(domain_selection_from(dg_config({}, {}, 4), fs_variant), "DATASET.ID 4");
  EXPECT_TRUE(selects_target_by_id("DomainNetFS"));
  EXPECT_FALSE(selects_target_by_id("world_dg"));
}

TEST(Domains, FewShotPerClassPerSourceDomain) {
  const fs::path root = test::scratch_dir("domains_fewshot");
  const auto e = dgr::pacs(root);
  const DatasetSplits all = read_dataset("pacs", root);
  FewShotOptions no_cache;
  no_cache.use_cache = false;
  for (int shots : {1, 2, 5}) {
    const DatasetSplits s =
        prepare_domains(all, {{"art_painting", "cartoon", "photo"}, {"sketch"}}, shots, 1, no_cache);
    // Exactly `shots` per (domain, class) in train (with replacement when a class has fewer, as CoOp), and
    // min(shots, 4) in val.
    std::map<std::pair<int64_t, int64_t>, int> train_count, val_count;
    for (const auto& x : s.train) train_count[{x.domain, x.label}]++;
    for (const auto& x : s.val) val_count[{x.domain, x.label}]++;
    EXPECT_EQ(train_count.size(), 3u * e.classnames.size());
    EXPECT_EQ(val_count.size(), 3u * e.classnames.size());
    for (const auto& [key, n] : train_count) EXPECT_EQ(n, shots);
    for (const auto& [key, n] : val_count) EXPECT_EQ(n, std::min(shots, 4));
    // A domain keeps its own images; the target's test is untouched.
    for (const auto& x : s.train) EXPECT_NE(x.path.find("/" + s.domains[size_t(x.domain)] + "/"), std::string::npos);
    EXPECT_EQ(s.test.size(), e.counts[3].test);
    // Without replacement when the class has enough images.
    if (shots == 1) EXPECT_EQ(paths_of(s.train).size(), s.train.size());
  }
  // Deterministic per seed, different across seeds; a domain's draw does not depend on the other sources.
  const auto a = prepare_domains(all, {{"photo", "cartoon"}, {"sketch"}}, 2, 7, no_cache);
  const auto b = prepare_domains(all, {{"photo", "cartoon"}, {"sketch"}}, 2, 7, no_cache);
  const auto c = prepare_domains(all, {{"photo", "art_painting"}, {"sketch"}}, 2, 7, no_cache);
  EXPECT_EQ(paths_of(a.train), paths_of(b.train));
  std::set<std::string> photo_a, photo_c;
  for (const auto& x : a.train)
    if (x.domain == 0) photo_a.insert(x.path);
  for (const auto& x : c.train)
    if (x.domain == 0) photo_c.insert(x.path);
  EXPECT_EQ(photo_a, photo_c);
  bool any_different = false;
  for (uint64_t seed = 1; seed <= 5 && !any_different; ++seed)
    any_different = paths_of(prepare_domains(all, {{"photo", "cartoon"}, {"sketch"}}, 2, seed, no_cache).train) !=
                    paths_of(a.train);
  EXPECT_TRUE(any_different);
  // shots < 1: everything.
  EXPECT_EQ(prepare_domains(all, {{"photo"}, {"sketch"}}, -1, 1).train.size(), e.counts[2].train);
}

TEST(Domains, FewShotCache) {
  const fs::path root = test::scratch_dir("domains_cache");
  dgr::pacs(root);
  const DatasetSplits all = read_dataset("pacs", root);
  const DomainSelection sel{{"photo", "cartoon"}, {"sketch"}};
  const DatasetSplits first = prepare_domains(all, sel, 2, 3);
  const fs::path photo_cache = root / "pacs/split_fewshot/photo_shot_2-seed_3.json";
  ASSERT_TRUE(fs::exists(photo_cache));
  ASSERT_TRUE(fs::exists(root / "pacs/split_fewshot/cartoon_shot_2-seed_3.json"));
  // Read back: same samples, same domains (in this run's numbering).
  const DatasetSplits again = prepare_domains(all, {{"cartoon", "photo"}, {"sketch"}}, 2, 3);
  std::set<std::pair<std::string, std::string>> a, b;
  for (const auto& x : first.train) a.insert({x.path, first.domains[size_t(x.domain)]});
  for (const auto& x : again.train) b.insert({x.path, again.domains[size_t(x.domain)]});
  EXPECT_EQ(a, b);
  // A cache that lists an image the split does not hold is an error naming the file.
  auto j = test::read_json_file(photo_cache);
  j["train"][0][0] = "photo/dog/not_there.jpg";
  test::put_text(photo_cache, j.dump());
  EXPECT_ERROR_CONTAINS(prepare_domains(all, sel, 2, 3), "photo_shot_2-seed_3.json");
  test::put_text(photo_cache, "{not json");
  EXPECT_ERROR_CONTAINS(prepare_domains(all, sel, 2, 3), "corrupt");
}

// The domain labels travel with the samples through the loader (Batch::domains), shuffled or not.
TEST(Domains, LoaderCarriesDomainLabels) {
  const fs::path root = test::scratch_dir("domains_loader");
  dgr::pacs(root);
  const DatasetSplits s = prepare_domains(read_dataset("pacs", root), {{"sketch", "photo"}, {"cartoon"}}, 2, 1);
  TransformConfig tc;
  tc.height = tc.width = 8;
  LoaderOptions o;
  o.batch_size = 5;
  o.shuffle = true;
  o.num_workers = 2;
  o.seed = 3;
  DataLoader loader(s.train, ImageTransform::train(tc), o);
  loader.start_epoch(0);
  Batch b;
  std::map<int64_t, size_t> per_domain;
  while (loader.next(b)) {
    const auto domains = b.domains.to_vector<int64_t>();
    ASSERT_EQ(domains.size(), b.indices.size());
    for (size_t i = 0; i < domains.size(); ++i) {
      EXPECT_EQ(domains[i], s.train[size_t(b.indices[i])].domain);
      per_domain[domains[i]]++;
    }
  }
  EXPECT_EQ(per_domain, (std::map<int64_t, size_t>{{0, 2 * 7}, {1, 2 * 7}}));
}

}  // namespace
}  // namespace clipt::data
