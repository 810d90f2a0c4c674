#include "methods/dpc/hard_negatives.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"

namespace clipt::methods::dpc {

std::vector<int64_t> hard_negative_candidates(const std::vector<int64_t>& topk_classes, int64_t label) {
  std::vector<int64_t> out;
  for (int64_t c : topk_classes)
    if (c != label) out.push_back(c);
  return out;
}

FallbackDraw generator_draw(Generator& gen, int64_t n_base) {
  // random.randint(1, n_base − 2), inclusive on both ends.
  return [&gen, n_base] { return gen.randint(1, n_base - 1); };
}

NegativeSelection select_hard_negatives(const std::vector<std::vector<int64_t>>& candidates,
                                        const std::vector<int64_t>& labels, int64_t n_base, const FallbackDraw& draw) {
  CLIPT_CHECK(candidates.size() == labels.size(), "DPC mining: {} candidate lists for {} samples", candidates.size(),
              labels.size());
  NegativeSelection s;
  std::vector<int64_t> used = labels;  // duplicates kept, as the released code's list
  auto is_used = [&](int64_t c) { return std::find(used.begin(), used.end(), c) != used.end(); };
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<int64_t> neg;
    for (int64_t c : candidates[i])
      if (!is_used(c)) {
        neg.push_back(c);
        used.push_back(c);
      }
    for (int64_t tries = 0; int64_t(neg.size()) < 2 && tries < n_base - 2; ++tries) {
      const int64_t c = draw();
      ++s.fallback_draws;
      if (!is_used(c)) {
        neg.push_back(c);
        used.push_back(c);
        ++s.fallback_kept;
      }
    }
    if (neg.size() < 2) ++s.short_samples;
    s.negatives.push_back(std::move(neg));
  }
  return s;
}

NegativePool NegativePool::from_samples(const std::vector<data::Sample>& samples, int64_t n_base) {
  NegativePool p;
  p.by_class_.resize(size_t(n_base));
  for (size_t i = 0; i < samples.size(); ++i) {
    const int64_t y = samples[i].label;
    CLIPT_CHECK(y >= 0 && y < n_base, "DPC negatives: training image {} has label {} outside the {} base classes",
                samples[i].path, y, n_base);
    p.by_class_[size_t(y)].push_back(int64_t(i));
  }
  for (int64_t c = 0; c < n_base; ++c)
    CLIPT_CHECK(!p.by_class_[size_t(c)].empty(), "DPC negatives: base class {} has no training image", c);
  return p;
}

namespace {

std::string normalised_name(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

std::filesystem::path rebuild_path(const std::string& relative, const std::string& anchor) {
  const std::filesystem::path rel(relative);
  if (rel.is_absolute()) return rel;
  std::filesystem::path base(anchor);
  for (auto it = rel.begin(); it != rel.end(); ++it) base = base.parent_path();
  return base / rel;
}

}  // namespace

NegativePool NegativePool::from_library(const std::filesystem::path& file, const std::vector<std::string>& classnames,
                                        const std::string& anchor_path) {
  std::ifstream in(file);
  CLIPT_CHECK(in.good(), "SPLE.PIC_LIB: cannot open the DPC image database {}", file.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("SPLE.PIC_LIB: {} is not valid JSON ({})", file.string(), e.what());
  }
  CLIPT_CHECK(j.is_object() && j.contains("train"),
              "SPLE.PIC_LIB: {} has no \"train\" part (expected {{\"train\": [{{classname: [label, [paths]]}}], ...}})",
              file.string());
  // classname → relative paths, from a list of one-class (or many-class) objects, or one object.
  std::map<std::string, std::vector<std::string>> lists;
  auto take = [&](const nlohmann::json& obj) {
    CLIPT_CHECK(obj.is_object(), "SPLE.PIC_LIB: {}: an entry of \"train\" is not an object", file.string());
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const auto& v = it.value();
      CLIPT_CHECK(v.is_array() && v.size() == 2 && v[1].is_array(),
                  "SPLE.PIC_LIB: {}: class '{}' is not [label, [paths]]", file.string(), it.key());
      auto& dst = lists[normalised_name(it.key())];
      for (const auto& p : v[1]) {
        CLIPT_CHECK(p.is_string(), "SPLE.PIC_LIB: {}: class '{}' has a path that is not a string", file.string(),
                    it.key());
        dst.push_back(p.get<std::string>());
      }
    }
  };
  const auto& train = j["train"];
  if (train.is_array())
    for (const auto& obj : train) take(obj);
  else
    take(train);

  NegativePool p;
  p.by_class_.resize(classnames.size());
  for (size_t c = 0; c < classnames.size(); ++c) {
    auto it = lists.find(normalised_name(classnames[c]));
    CLIPT_CHECK(it != lists.end() && !it->second.empty(), "SPLE.PIC_LIB: {} has no training images for base class '{}'",
                file.string(), classnames[c]);
    for (const auto& rel : it->second) {
      p.by_class_[c].push_back(int64_t(p.samples_.size()));
      p.samples_.push_back({rebuild_path(rel, anchor_path).string(), int64_t(c), classnames[c], 0});
    }
  }
  return p;
}

int64_t NegativePool::pick(int64_t label, Generator& gen) const {
  CLIPT_CHECK(label >= 0 && label < num_classes(), "DPC negatives: class {} outside the pool's {} classes", label,
              num_classes());
  const auto& list = by_class_[size_t(label)];
  return list[size_t(gen.randint(0, int64_t(list.size())))];
}

}  // namespace clipt::methods::dpc
