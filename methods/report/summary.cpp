#include "methods/report/summary.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "methods/method.h"
#include "methods/trainer/b2n.h"
#include "methods/trainer/xd.h"

namespace clipt::report {

namespace fs = std::filesystem;

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m;
  m.n = int64_t(values.size());
  if (values.empty()) return m;
  double sum = 0;
  for (double v : values) sum += v;
  m.mean = sum / double(values.size());
  double sq = 0;
  for (double v : values) sq += (v - m.mean) * (v - m.mean);
  m.std = std::sqrt(sq / double(values.size()));
  return m;
}

int method_rank(const std::string& method) {
  if (method == "ZeroshotCLIP" || method == "ZeroshotCLIP2") return 0;
  const auto names = methods::method_names();
  const auto it = std::find(names.begin(), names.end(), method);
  return it == names.end() ? int(names.size()) + 1 : int(it - names.begin()) + 1;
}

namespace {

// Where a group of records sits in the tables: by method rank, then label, then folder.
template <typename Summary> void order_and_label(std::vector<Summary>& groups) {
  std::map<std::string, int> uses;
  for (const auto& g : groups) ++uses[g.label];
  for (auto& g : groups)
    if (uses[g.label] > 1) g.label += fmt::format(" ({})", g.sweep.string());
  std::stable_sort(groups.begin(), groups.end(), [](const Summary& a, const Summary& b) {
    const int ra = method_rank(a.method), rb = method_rank(b.method);
    if (ra != rb) return ra < rb;
    return a.label < b.label;
  });
}

// Index of the element of `v` with key(e) == k, appended when absent (first-appearance order).
template <typename T, typename Key, typename Make> T& find_or_add(std::vector<T>& v, const Key& k, Make make) {
  for (auto& e : v)
    if (e.first == k) return e;
  v.push_back(make());
  return v.back();
}

}  // namespace

std::vector<B2nSummary> summarise_b2n(const std::vector<B2nRecord>& records) {
  struct Group {
    const B2nRecord* first;
    std::vector<std::pair<std::string, std::vector<const B2nRecord*>>> datasets;
  };
  std::vector<std::pair<std::string, Group>> groups;  // key: sweep | method | baseline
  for (const B2nRecord& r : records) {
    const std::string key = fmt::format("{}|{}|{}", r.sweep.string(), r.method, r.is_baseline);
    auto& g = find_or_add(groups, key, [&] { return std::make_pair(key, Group{&r, {}}); }).second;
    find_or_add(g.datasets, r.dataset, [&] {
      return std::make_pair(r.dataset, std::vector<const B2nRecord*>{});
    }).second.push_back(&r);
  }
  std::vector<B2nSummary> out;
  for (const auto& [key, g] : groups) {
    B2nSummary s;
    s.method = g.first->method;
    s.sweep = g.first->sweep;
    s.is_baseline = g.first->is_baseline;
    // A baseline is measured inside another method's runs (DPC over its stage-1 CoOp).
    s.label = s.is_baseline ? fmt::format("{} (stage 1 of {})", s.method, s.sweep.filename().string()) : s.method;
    for (const auto& [dataset, runs] : g.datasets) {
      B2nSummaryRow row;
      row.dataset = dataset;
      std::vector<double> base, novel, hm;
      for (const B2nRecord* r : runs) {
        row.seeds.push_back(r->seed);
        base.push_back(r->base);
        novel.push_back(r->novel);
        hm.push_back(trainer::harmonic_mean(r->base, r->novel));
      }
      row.base = mean_std(base);
      row.novel = mean_std(novel);
      row.seed_hm = mean_std(hm);
      row.hm = trainer::harmonic_mean(row.base.mean, row.novel.mean);
      s.average_base += row.base.mean / double(g.datasets.size());
      s.average_novel += row.novel.mean / double(g.datasets.size());
      s.rows.push_back(std::move(row));
    }
    s.average_hm = trainer::harmonic_mean(s.average_base, s.average_novel);
    out.push_back(std::move(s));
  }
  order_and_label(out);
  return out;
}

std::vector<DgSummary> summarise_dg(const std::vector<DgRecord>& records) {
  std::vector<std::pair<std::string, DgSummary>> groups;
  std::map<std::string, std::map<std::string, std::vector<double>>> per_seed;  // group → target → accuracies
  for (const DgRecord& r : records) {
    const std::string key = fmt::format("{}|{}|{}|{}", r.sweep.string(), r.method, r.dataset, r.shots);
    DgSummary& s = find_or_add(groups, key, [&] {
                     DgSummary n;
                     n.label = n.method = r.method;
                     n.dataset = r.dataset;
                     n.sweep = r.sweep;
                     n.shots = r.shots;
                     return std::make_pair(key, n);
                   }).second;
    auto row = std::find_if(s.rows.begin(), s.rows.end(), [&](const DgSummaryRow& x) { return x.target == r.target; });
    if (row == s.rows.end()) row = s.rows.insert(s.rows.end(), DgSummaryRow{r.target, {}, {}});
    row->seeds.push_back(r.seed);
    per_seed[key][r.target].push_back(r.accuracy);
  }
  std::vector<DgSummary> out;
  for (auto& [key, s] : groups) {
    s.average = 0;
    for (auto& row : s.rows) {
      row.accuracy = mean_std(per_seed[key][row.target]);
      s.average += row.accuracy.mean / double(s.rows.size());
    }
    out.push_back(std::move(s));
  }
  order_and_label(out);
  return out;
}

std::vector<XdSummary> summarise_xd(const std::vector<XdRecord>& records) {
  std::vector<std::pair<std::string, XdSummary>> groups;
  std::map<std::string, std::map<std::string, std::vector<double>>> per_seed;  // group → dataset → accuracies
  for (const XdRecord& r : records) {
    const std::string key = fmt::format("{}|{}|{}", r.sweep.string(), r.method, r.source);
    XdSummary& s = find_or_add(groups, key, [&] {
                     XdSummary n;
                     n.label = n.method = r.method;
                     n.sweep = r.sweep;
                     n.source.dataset = r.source;
                     return std::make_pair(key, n);
                   }).second;
    XdSummaryColumn* col = &s.source;
    if (r.role != "source") {
      auto it = std::find_if(s.targets.begin(), s.targets.end(),
                             [&](const XdSummaryColumn& c) { return c.dataset == r.dataset; });
      if (it == s.targets.end())
        it = s.targets.insert(s.targets.end(),
                              XdSummaryColumn{r.dataset, trainer::is_domain_shift_target(r.source, r.dataset), {}, {}});
      col = &*it;
    }
    col->seeds.push_back(r.seed);
    per_seed[key][r.dataset].push_back(r.accuracy);
  }
  std::vector<XdSummary> out;
  for (auto& [key, s] : groups) {
    s.source.accuracy = mean_std(per_seed[key][s.source.dataset]);
    std::vector<double> shift, cross;
    for (auto& c : s.targets) {
      c.accuracy = mean_std(per_seed[key][c.dataset]);
      (c.domain_shift ? shift : cross).push_back(c.accuracy.mean);
    }
    s.domain_shift_average = mean_std(shift);
    s.cross_dataset_average = mean_std(cross);
    out.push_back(std::move(s));
  }
  order_and_label(out);
  return out;
}

}  // namespace clipt::report
