// The dataset registry: built-in readers listed explicitly, plus run-time additions.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <mutex>

#include "data/datasets/dg_readers.h"
#include "data/datasets/readers.h"
#include "engine/core/error.h"

namespace clipt::data {
namespace {

std::vector<DatasetInfo> builtin_datasets() {
  using namespace datasets;
  return {
      {"caltech101", "Caltech101", "caltech-101", read_caltech101},
      {"oxford_pets", "OxfordPets", "oxford_pets", read_oxford_pets},
      {"stanford_cars", "StanfordCars", "stanford_cars", read_stanford_cars},
      {"oxford_flowers", "OxfordFlowers", "oxford_flowers", read_oxford_flowers},
      {"food101", "Food101", "food-101", read_food101},
      {"fgvc_aircraft", "FGVCAircraft", "fgvc_aircraft", read_fgvc_aircraft},
      {"sun397", "SUN397", "sun397", read_sun397},
      {"dtd", "DescribableTextures", "dtd", read_dtd},
      {"eurosat", "EuroSAT", "eurosat", read_eurosat},
      {"ucf101", "UCF101", "ucf101", read_ucf101},
      {"imagenet", "ImageNet", "imagenet", read_imagenet},
      {"imagenetv2", "ImageNetV2", "imagenetv2", read_imagenetv2},
      {"imagenet_sketch", "ImageNetSketch", "imagenet-sketch", read_imagenet_sketch},
      {"imagenet_a", "ImageNetA", "imagenet-adversarial", read_imagenet_a},
      {"imagenet_r", "ImageNetR", "imagenet-rendition", read_imagenet_r},
      // Domain generalisation (dg_readers.h): Dassl's classes, then MetaPrompt's few-shot variants.
      {"pacs", "PACS", "pacs", read_pacs},
      {"vlcs", "VLCS", "VLCS", read_vlcs},
      {"office_home", "OfficeHomeDG", "office_home_dg", read_office_home_dg},
      {"domainnet", "DomainNetDG", "domainnet", read_domainnet},
      {"pacs_fs", "PACSFS", "pacs", read_pacs},
      {"vlcs_fs", "VLCSFS", "vlcs", read_vlcs_fs},
      {"office_home_fs", "OfficeHomeFS", "office_home", read_office_home_fs},
      {"domainnet_fs", "DomainNetFS", "domainnet", read_domainnet},
      {"world_dg", "WorldDG", "world_dg", read_world_dg},
      {"split_json", "SplitJson", "", read_split_json_dataset},
      {"image_folder", "ImageFolder", "", read_image_folder},
  };
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::vector<DatasetInfo>& mutable_registry() {
  static std::vector<DatasetInfo> registry = builtin_datasets();
  return registry;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<DatasetInfo> dataset_registry() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return mutable_registry();
}

void register_dataset(DatasetInfo info) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& registry = mutable_registry();
  CLIPT_CHECK(!info.name.empty() && info.read, "register_dataset: a dataset needs a name and a reader");
  for (const auto& existing : registry)
    CLIPT_CHECK(existing.name != info.name && existing.dassl_name != info.name &&
                    (info.dassl_name.empty() || existing.dassl_name != info.dassl_name),
                "register_dataset: \"{}\" ({}) is already registered", info.name, info.dassl_name);
  registry.push_back(std::move(info));
}

DatasetInfo find_dataset(const std::string& name) {
  const auto registry = dataset_registry();
  for (const auto& info : registry)
    if (info.name == name || info.dassl_name == name) return info;
  std::vector<std::string> names;
  const DatasetInfo* closest = nullptr;
  size_t best = SIZE_MAX;
  for (const auto& info : registry) {
    names.push_back(info.name);
    for (const auto* candidate : {&info.name, &info.dassl_name}) {
      const size_t d = edit_distance(name, *candidate);
      if (d < best) {
        best = d;
        closest = &info;
      }
    }
  }
  fail("unknown dataset \"{}\"{}; known datasets: {}", name,
       closest ? fmt::format(" (did you mean \"{}\"?)", closest->name) : std::string(), fmt::join(names, ", "));
}

DatasetSplits read_dataset(const std::string& name, const DatasetSource& source) {
  const DatasetInfo info = find_dataset(name);
  DatasetSplits splits = info.read(source);
  splits.name = info.name;
  return splits;
}

std::vector<std::string> class_names(const std::vector<Sample>& samples) {
  const int64_t n = num_classes(samples);
  // Labels 0..n−1 all present means n <= samples.size(): a larger label leaves a gap, named here without
  // allocating a table for it (a split file may hold any label, e.g. 10^12; found by split_json_fuzz).
  if (n > int64_t(samples.size())) {
    std::vector<bool> present(samples.size(), false);
    for (const auto& s : samples)
      if (s.label < int64_t(samples.size())) present[size_t(s.label)] = true;
    const int64_t gap = std::find(present.begin(), present.end(), false) - present.begin();
    fail("labels are not contiguous: no sample has label {} (max label {})", gap, n - 1);
  }
  std::vector<std::string> names(static_cast<size_t>(n));
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (const auto& s : samples) {
    auto& name = names[size_t(s.label)];
    if (!seen[size_t(s.label)]) {
      name = s.classname;
      seen[size_t(s.label)] = true;
    } else {
      CLIPT_CHECK(name == s.classname, "label {} has two class names: \"{}\" and \"{}\" ({})", s.label, name,
                  s.classname, s.path);
    }
  }
  for (int64_t l = 0; l < n; ++l)
    CLIPT_CHECK(seen[size_t(l)], "labels are not contiguous: no sample has label {} (max label {})", l, n - 1);
  return names;
}

int64_t num_classes(const std::vector<Sample>& samples) {
  int64_t max_label = -1;
  for (const auto& s : samples) {
    CLIPT_CHECK(s.label >= 0, "negative label {} for {}", s.label, s.path);
    CLIPT_CHECK(s.label < std::numeric_limits<int64_t>::max(), "label {} of {} is too large", s.label, s.path);
    max_label = std::max(max_label, s.label);
  }
  return max_label + 1;
}

}  // namespace clipt::data
