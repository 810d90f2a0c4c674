#include "engine/data/fewshot.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/data/sample_rng.h"
#include "engine/io/atomic_file.h"

namespace clipt::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "clipt-fewshot";
constexpr int kVersion = 1;

void default_warn(const std::string& message) { fmt::print(stderr, "warning: {}\n", message); }

std::string relative_path(const std::string& path, const fs::path& image_dir) {
  const fs::path rel = fs::path(path).lexically_relative(image_dir);
  if (rel.empty() || *rel.begin() == "..") return path;  // not under the image folder: keep as given
  return rel.generic_string();
}

json to_json(const std::vector<Sample>& samples, const fs::path& image_dir) {
  json list = json::array();
  for (const auto& s : samples) list.push_back(json::array({relative_path(s.path, image_dir), s.label, s.classname}));
  return list;
}

std::vector<Sample> from_json(const json& list, const char* split, const fs::path& file, const fs::path& image_dir) {
  CLIPT_CHECK(list.is_array(), "few-shot cache {} is corrupt: \"{}\" is not a list (delete the file to resample)",
              file.string(), split);
  std::vector<Sample> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& item = list[i];
    CLIPT_CHECK(item.is_array() && item.size() == 3 && item[0].is_string() && item[1].is_number_integer() &&
                    item[2].is_string(),
                "few-shot cache {} is corrupt: {}[{}] is not [path, label, classname] (delete the file to resample)",
                file.string(), split, i);
    Sample s;
    s.path = (image_dir / item[0].get<std::string>()).string();
    s.label = item[1].get<int64_t>();
    s.classname = item[2].get<std::string>();
    out.push_back(std::move(s));
  }
  return out;
}

// Every cached sample must still be in the split it was drawn from (same path, label and class name).
void check_membership(const std::vector<Sample>& cached, const std::vector<Sample>& split, const char* name,
                      const fs::path& file) {
  std::set<std::tuple<std::string, int64_t, std::string>> present;
  for (const auto& s : split) present.emplace(s.path, s.label, s.classname);
  for (const auto& s : cached)
    CLIPT_CHECK(present.count({s.path, s.label, s.classname}) == 1,
                "few-shot cache {} does not match the dataset's current {} split ({} with label {} is not in it); "
                "delete the file to resample",
                file.string(), name, s.path, s.label);
}

struct CachedSelection {
  std::vector<Sample> train, val;
};

CachedSelection read_cache_checked(const fs::path& file, const DatasetSplits& splits, int shots, uint64_t seed,
                                   bool with_val);

// Any JSON type error inside the cache (a string where a number belongs...) is reported as corruption.
CachedSelection read_cache(const fs::path& file, const DatasetSplits& splits, int shots, uint64_t seed,
                           bool with_val) {
  try {
    return read_cache_checked(file, splits, shots, seed, with_val);
  } catch (const json::exception& e) {
    fail("few-shot cache {} is corrupt ({}); delete it to resample", file.string(), e.what());
  }
}

CachedSelection read_cache_checked(const fs::path& file, const DatasetSplits& splits, int shots, uint64_t seed,
                                   bool with_val) {
  std::ifstream in(file, std::ios::binary);
  CLIPT_CHECK(bool(in), "cannot open few-shot cache {}", file.string());
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    fail("few-shot cache {} is corrupt (not valid JSON: {}); delete it to resample", file.string(), e.what());
  }
  CLIPT_CHECK(root.is_object() && root.value("format", "") == kFormat,
              "few-shot cache {} is corrupt (no \"format\": \"{}\" header); delete it to resample", file.string(),
              kFormat);
  CLIPT_CHECK(root.value("version", 0) == kVersion, "few-shot cache {} has version {}, expected {}; delete it to resample",
              file.string(), root.value("version", 0), kVersion);
  const json shots_field = root.value("shots", json());
  const json seed_field = root.value("seed", json());
  CLIPT_CHECK(shots_field.is_number_integer() && seed_field.is_number_unsigned(),
              "few-shot cache {} is corrupt (missing \"shots\"/\"seed\"); delete it to resample", file.string());
  CLIPT_CHECK(shots_field.get<int64_t>() == shots && seed_field.get<uint64_t>() == seed,
              "few-shot cache {} holds shots={} seed={} but shots={} seed={} were requested; it was not made for "
              "this run (delete it to resample)",
              file.string(), shots_field.get<int64_t>(), seed_field.get<uint64_t>(), shots, seed);
  CLIPT_CHECK(root.value("dataset", "") == splits.name,
              "few-shot cache {} was made for dataset \"{}\", not \"{}\"; delete it to resample", file.string(),
              root.value("dataset", ""), splits.name);
  CLIPT_CHECK(root.contains("train"), "few-shot cache {} is corrupt (no \"train\" list); delete it to resample",
              file.string());
  CachedSelection sel;
  sel.train = from_json(root["train"], "train", file, splits.image_dir);
  check_membership(sel.train, splits.train, "train", file);
  if (with_val) {
    CLIPT_CHECK(root.contains("val"), "few-shot cache {} is corrupt (no \"val\" list); delete it to resample",
                file.string());
    sel.val = from_json(root["val"], "val", file, splits.image_dir);
    check_membership(sel.val, splits.val, "val", file);
  }
  return sel;
}

void write_cache(const fs::path& file, const DatasetSplits& splits, int shots, uint64_t seed,
                 const CachedSelection& sel, bool with_val, const std::function<void(const std::string&)>& warn) {
  json root;
  root["format"] = kFormat;
  root["version"] = kVersion;
  root["dataset"] = splits.name;
  root["shots"] = shots;
  root["seed"] = seed;
  root["train"] = to_json(sel.train, splits.image_dir);
  if (with_val) root["val"] = to_json(sel.val, splits.image_dir);
  try {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    CLIPT_CHECK(!ec, "cannot create {}: {}", file.parent_path().string(), ec.message());
    io::write_file_atomic(file, root.dump() + "\n");
  } catch (const Error& e) {
    // A read-only dataset folder must not stop a run: the selection is deterministic anyway.
    warn(fmt::format("could not cache the few-shot split in {} ({}); continuing without the cache", file.string(),
                     e.what()));
  }
}

}  // namespace

std::vector<Sample> sample_per_class(const std::vector<Sample>& samples, int shots, Generator& gen) {
  CLIPT_CHECK(shots >= 1, "few-shot sampling needs at least one shot, got {}", shots);
  std::vector<int64_t> order;  // labels in order of first appearance (Python dict order)
  std::unordered_map<int64_t, std::vector<size_t>> by_label;
  for (size_t i = 0; i < samples.size(); ++i) {
    auto [it, inserted] = by_label.try_emplace(samples[i].label);
    if (inserted) order.push_back(samples[i].label);
    it->second.push_back(i);
  }
  std::vector<Sample> out;
  out.reserve(order.size() * size_t(shots));
  for (int64_t label : order) {
    std::vector<size_t>& items = by_label[label];
    const int64_t n = int64_t(items.size());
    if (n >= shots) {  // random.sample: partial Fisher–Yates, without replacement
      for (int64_t i = 0; i < shots; ++i) {
        const int64_t j = gen.randint(i, n);
        std::swap(items[size_t(i)], items[size_t(j)]);
        out.push_back(samples[items[size_t(i)]]);
      }
    } else {  // random.choices: with replacement
      for (int64_t i = 0; i < shots; ++i) out.push_back(samples[items[size_t(gen.randint(0, n))]]);
    }
  }
  return out;
}

fs::path fewshot_cache_path(const DatasetSplits& splits, int shots, uint64_t seed) {
  return splits.dataset_dir / "split_fewshot" / fmt::format("shot_{}-seed_{}.json", shots, seed);
}

DatasetSplits apply_fewshot(DatasetSplits splits, int shots, uint64_t seed, const FewShotOptions& options) {
  if (shots < 1 || splits.test_only) return splits;
  const auto warn = options.warn ? options.warn : default_warn;
  const bool with_val = !splits.val_is_test;
  const fs::path file = fewshot_cache_path(splits, shots, seed);
  std::error_code ec;
  CachedSelection sel;
  if (options.use_cache && fs::exists(file, ec)) {
    sel = read_cache(file, splits, shots, seed, with_val);
  } else {
    // Separate keys for train and val, so sampling val never changes the train selection.
    Generator train_gen = stream_generator(seed, 0, uint64_t(RngStream::FewShot));
    sel.train = sample_per_class(splits.train, shots, train_gen);
    if (with_val && !splits.val.empty()) {
      Generator val_gen = stream_generator(seed, 1, uint64_t(RngStream::FewShot));
      sel.val = sample_per_class(splits.val, std::min(shots, 4), val_gen);
    }
    if (options.use_cache) write_cache(file, splits, shots, seed, sel, with_val, warn);
  }
  splits.train = std::move(sel.train);
  if (with_val) splits.val = std::move(sel.val);
  return splits;
}

}  // namespace clipt::data
