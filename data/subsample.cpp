#include "data/subsample.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "engine/core/error.h"

namespace clipt::data {

Subsample parse_subsample(std::string_view name) {
  if (name == "all") return Subsample::All;
  if (name == "base") return Subsample::Base;
  if (name == "new") return Subsample::New;
  fail("unknown class subsample \"{}\" (DATASET.SUBSAMPLE_CLASSES): expected \"all\", \"base\" or \"new\"", name);
}

const char* subsample_name(Subsample subsample) {
  switch (subsample) {
    case Subsample::All: return "all";
    case Subsample::Base: return "base";
    case Subsample::New: return "new";
  }
  return "?";
}

std::vector<int64_t> subsample_labels(const std::vector<Sample>& train, Subsample subsample) {
  std::set<int64_t> distinct;
  for (const auto& s : train) distinct.insert(s.label);
  const std::vector<int64_t> labels(distinct.begin(), distinct.end());  // sorted
  if (subsample == Subsample::All) return labels;
  const size_t m = (labels.size() + 1) / 2;  // math.ceil(n / 2)
  if (subsample == Subsample::Base) return std::vector<int64_t>(labels.begin(), labels.begin() + ptrdiff_t(m));
  return std::vector<int64_t>(labels.begin() + ptrdiff_t(m), labels.end());
}

std::vector<Sample> relabel(const std::vector<Sample>& samples, const std::vector<int64_t>& labels) {
  std::unordered_map<int64_t, int64_t> new_label;
  for (size_t i = 0; i < labels.size(); ++i) new_label.emplace(labels[i], int64_t(i));
  std::vector<Sample> out;
  for (const auto& s : samples) {
    const auto it = new_label.find(s.label);
    if (it == new_label.end()) continue;
    Sample copy = s;
    copy.label = it->second;
    out.push_back(std::move(copy));
  }
  return out;
}

DatasetSplits subsample_classes(DatasetSplits splits, Subsample subsample) {
  if (subsample == Subsample::All) return splits;
  CLIPT_CHECK(!splits.train.empty(), "subsample {}: dataset \"{}\" has no training samples to take the classes from",
              subsample_name(subsample), splits.name);
  const auto labels = subsample_labels(splits.train, subsample);
  CLIPT_CHECK(!labels.empty(), "subsample {}: dataset \"{}\" has a single class, so there are no new classes",
              subsample_name(subsample), splits.name);
  splits.train = relabel(splits.train, labels);
  splits.val = relabel(splits.val, labels);
  splits.test = relabel(splits.test, labels);
  return splits;
}

}  // namespace clipt::data
