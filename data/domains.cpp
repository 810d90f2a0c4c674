#include "data/domains.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "data/fewshot_cache.h"
#include "data/sample_rng.h"
#include "engine/core/error.h"

namespace clipt::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "clipt-fewshot-domain";
constexpr int kVersion = 1;

int64_t domain_index(const std::vector<std::string>& domains, const std::string& name, const std::string& dataset) {
  const auto it = std::find(domains.begin(), domains.end(), name);
  // Dassl: "Input domain must belong to [...], but got [x]".
  CLIPT_CHECK(it != domains.end(), "domain \"{}\" is not a domain of {}: it has {}", name, dataset,
              fmt::join(domains, ", "));
  return int64_t(it - domains.begin());
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct DomainSelectionCache {
  std::vector<Sample> train, val;
};

DomainSelectionCache read_cache(const fs::path& file, const DatasetSplits& splits, const std::string& domain,
                                int64_t domain_pos, int shots, uint64_t seed, const std::vector<Sample>& train,
                                const std::vector<Sample>& val, bool with_val) {
  std::ifstream in(file, std::ios::binary);
  CLIPT_CHECK(bool(in), "cannot open few-shot cache {}", file.string());
  try {
    const json root = json::parse(in);
    CLIPT_CHECK(root.is_object() && root.value("format", "") == kFormat && root.value("version", 0) == kVersion,
                "few-shot cache {} is not a \"{}\" version {} file; delete it to resample", file.string(), kFormat,
                kVersion);
    CLIPT_CHECK(root.at("domain").get<std::string>() == domain && root.at("shots").get<int64_t>() == shots &&
                    root.at("seed").get<uint64_t>() == seed,
                "few-shot cache {} holds domain {} shots={} seed={} but domain {} shots={} seed={} were requested; "
                "delete it to resample",
                file.string(), root.at("domain").dump(), root.at("shots").dump(), root.at("seed").dump(), domain, shots,
                seed);
    DomainSelectionCache c;
    c.train = fewshot_cache::samples_from_json(root.at("train"), "train", file, splits.image_dir, train, domain_pos);
    if (with_val)
      c.val = fewshot_cache::samples_from_json(root.at("val"), "val", file, splits.image_dir, val, domain_pos);
    return c;
  } catch (const json::exception& e) {
    fail("few-shot cache {} is corrupt ({}); delete it to resample", file.string(), e.what());
  }
}

void write_cache(const fs::path& file, const DatasetSplits& splits, const std::string& domain, int shots, uint64_t seed,
                 const DomainSelectionCache& c, bool with_val, const fewshot_cache::Warn& warn) {
  json root = {{"format", kFormat}, {"version", kVersion}, {"dataset", splits.name},
               {"domain", domain},  {"shots", shots},      {"seed", seed}};
  root["train"] = fewshot_cache::samples_to_json(c.train, splits.image_dir);
  if (with_val) root["val"] = fewshot_cache::samples_to_json(c.val, splits.image_dir);
  fewshot_cache::write(file, root, warn);
}

std::vector<Sample> of_domain(const std::vector<Sample>& samples, int64_t domain) {
  std::vector<Sample> out;
  for (const auto& s : samples)
    if (s.domain == domain) out.push_back(s);
  return out;
}

}  // namespace

DomainSelection leave_one_domain_out(const std::vector<std::string>& domains, int64_t target_index) {
  CLIPT_CHECK(domains.size() >= 2, "leave-one-domain-out needs at least 2 domains, got {}", domains.size());
  CLIPT_CHECK(target_index >= 0 && target_index < int64_t(domains.size()),
              "target domain index {} is out of range: the dataset has {} domains ({})", target_index, domains.size(),
              fmt::join(domains, ", "));
  DomainSelection s;
  for (int64_t i = 0; i < int64_t(domains.size()); ++i)
    (i == target_index ? s.targets : s.sources).push_back(domains[size_t(i)]);
  return s;
}

DomainSelection leave_one_domain_out(const std::vector<std::string>& domains, const std::string& target) {
  const auto it = std::find(domains.begin(), domains.end(), target);
  CLIPT_CHECK(it != domains.end(), "target domain \"{}\" is not one of {}", target, fmt::join(domains, ", "));
  return leave_one_domain_out(domains, int64_t(it - domains.begin()));
}

bool selects_target_by_id(std::string_view dataset) {
  static const std::set<std::string, std::less<>> by_id = {"pacs_fs", "vlcs_fs", "office_home_fs", "domainnet_fs",
                                                           "PACSFS",  "VLCSFS",  "OfficeHomeFS",   "DomainNetFS"};
  return by_id.count(dataset) == 1;
}

DomainSelection domain_selection_from(const Config& cfg, const DatasetSplits& splits) {
  CLIPT_CHECK(!splits.domains.empty(), "{} is not a multi-domain dataset", splits.name);
  if (selects_target_by_id(splits.name)) {
    const int64_t id = cfg.get_int("DATASET.ID");
    CLIPT_CHECK(id >= 0 && id < int64_t(splits.domains.size()),
                "DATASET.ID {} is out of range for {}: it picks the target among {} domains ({}), so 0..{}", id,
                splits.name, splits.domains.size(), fmt::join(splits.domains, ", "), splits.domains.size() - 1);
    return leave_one_domain_out(splits.domains, id);
  }
  DomainSelection s{cfg.get_list_string("DATASET.SOURCE_DOMAINS"), cfg.get_list_string("DATASET.TARGET_DOMAINS")};
  CLIPT_CHECK(!s.sources.empty() && !s.targets.empty(),
              "{} is a multi-domain dataset: set DATASET.SOURCE_DOMAINS and DATASET.TARGET_DOMAINS (or "
              "--source-domains / --target-domains) to some of {}",
              splits.name, fmt::join(splits.domains, ", "));
  return s;
}

DatasetSplits select_domains(const DatasetSplits& all, const DomainSelection& selection) {
  CLIPT_CHECK(!all.domains.empty(), "{} is not a multi-domain dataset (no domains to select)", all.name);
  CLIPT_CHECK(!selection.sources.empty(), "{}: no source domain given", all.name);
  CLIPT_CHECK(!selection.targets.empty(), "{}: no target domain given", all.name);
  DatasetSplits out = all;
  out.train.clear();
  out.val.clear();
  out.test.clear();
  // Dassl reads domain by domain in the order given, numbering them as it goes.
  auto take = [&](const std::vector<Sample>& from, const std::vector<std::string>& names, std::vector<Sample>& to) {
    for (size_t pos = 0; pos < names.size(); ++pos) {
      const int64_t d = domain_index(all.domains, names[pos], all.name);
      for (const auto& s : from)
        if (s.domain == d) {
          to.push_back(s);
          to.back().domain = int64_t(pos);
        }
    }
  };
  take(all.train, selection.sources, out.train);
  take(all.val, selection.sources, out.val);
  take(all.test, selection.targets, out.test);
  out.domains = selection.sources;
  out.val_is_test = false;
  return out;
}

fs::path domain_fewshot_cache_path(const DatasetSplits& splits, const std::string& domain, int shots, uint64_t seed) {
  return splits.dataset_dir / "split_fewshot" / fmt::format("{}_shot_{}-seed_{}.json", domain, shots, seed);
}

DatasetSplits apply_fewshot_per_domain(DatasetSplits splits, int shots, uint64_t seed, const FewShotOptions& options) {
  if (shots < 1) return splits;
  CLIPT_CHECK(!splits.domains.empty(), "{}: per-domain few-shot sampling needs a domain list", splits.name);
  const auto warn = options.warn ? options.warn : fewshot_cache::print_warning;
  std::vector<Sample> train, val;
  for (size_t pos = 0; pos < splits.domains.size(); ++pos) {
    const std::string& domain = splits.domains[pos];
    const std::vector<Sample> domain_train = of_domain(splits.train, int64_t(pos));
    const std::vector<Sample> domain_val = of_domain(splits.val, int64_t(pos));
    CLIPT_CHECK(!domain_train.empty(), "{}: source domain {} has no training images", splits.name, domain);
    const bool with_val = !domain_val.empty();
    const fs::path file = domain_fewshot_cache_path(splits, domain, shots, seed);
    std::error_code ec;
    DomainSelectionCache c;
    if (options.use_cache && fs::exists(file, ec)) {
      c = read_cache(file, splits, domain, int64_t(pos), shots, seed, domain_train, domain_val, with_val);
    } else {
      const uint64_t key = fnv1a(domain);
      Generator train_gen = stream_generator(seed, key, uint64_t(RngStream::FewShot));
      c.train = sample_per_class(domain_train, shots, train_gen);
      if (with_val) {
        Generator val_gen = stream_generator(seed, key + 1, uint64_t(RngStream::FewShot));
        c.val = sample_per_class(domain_val, std::min(shots, 4), val_gen);
      }
      if (options.use_cache) write_cache(file, splits, domain, shots, seed, c, with_val, warn);
    }
    train.insert(train.end(), c.train.begin(), c.train.end());
    val.insert(val.end(), c.val.begin(), c.val.end());
  }
  splits.train = std::move(train);
  splits.val = std::move(val);
  return splits;
}

DatasetSplits prepare_domains(const DatasetSplits& all, const DomainSelection& selection, int shots, uint64_t seed,
                              const FewShotOptions& options) {
  return apply_fewshot_per_domain(select_domains(all, selection), shots, seed, options);
}

}  // namespace clipt::data
