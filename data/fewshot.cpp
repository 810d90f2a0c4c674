#include "data/fewshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "data/fewshot_cache.h"
#include "data/sample_rng.h"
#include "engine/core/error.h"

namespace clipt::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "clipt-fewshot";
constexpr int kVersion = 1;

struct CachedSelection {
  std::vector<Sample> train, val;
};

CachedSelection read_cache_checked(const fs::path& file, const DatasetSplits& splits, int shots, uint64_t seed,
                                   bool with_val);

// Any JSON type error inside the cache (a string where a number belongs...) is reported as corruption.
CachedSelection read_cache(const fs::path& file, const DatasetSplits& splits, int shots, uint64_t seed, bool with_val) {
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
  CLIPT_CHECK(root.value("version", 0) == kVersion,
              "few-shot cache {} has version {}, expected {}; delete it to resample", file.string(),
              root.value("version", 0), kVersion);
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
  sel.train = fewshot_cache::samples_from_json(root["train"], "train", file, splits.image_dir, splits.train);
  if (with_val) {
    CLIPT_CHECK(root.contains("val"), "few-shot cache {} is corrupt (no \"val\" list); delete it to resample",
                file.string());
    sel.val = fewshot_cache::samples_from_json(root["val"], "val", file, splits.image_dir, splits.val);
  }
  return sel;
}

void write_cache(const fs::path& file, const DatasetSplits& splits, int shots, uint64_t seed,
                 const CachedSelection& sel, bool with_val, const fewshot_cache::Warn& warn) {
  json root;
  root["format"] = kFormat;
  root["version"] = kVersion;
  root["dataset"] = splits.name;
  root["shots"] = shots;
  root["seed"] = seed;
  root["train"] = fewshot_cache::samples_to_json(sel.train, splits.image_dir);
  if (with_val) root["val"] = fewshot_cache::samples_to_json(sel.val, splits.image_dir);
  fewshot_cache::write(file, root, warn);
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
  const auto warn = options.warn ? options.warn : fewshot_cache::print_warning;
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
