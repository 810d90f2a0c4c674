// The report's tables, computed from the run records (run_records.h) rather than read from the
// protocols' table files, so that every cell carries its spread over seeds.
//  - Base-to-new (CoCoOp's protocol): per dataset the mean ± std over seeds of base and new accuracy; the
//    row's HM is the harmonic mean of the mean base and mean new (as the protocol's own table), its ± the
//    spread of the per-seed HMs; the average row is the HM of the base and new averaged over datasets
//    (the papers' rule, see DESIGN.md "Protocol").
//  - Domain generalisation: per target domain mean ± std over seeds; the average is over targets.
//  - Cross-dataset / domain shift: per dataset mean ± std over seeds; averages per target group.
// std is the population standard deviation (numpy's np.std, which the peers' parse_test_res.py prints).
#pragma once
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "methods/report/run_records.h"

namespace clipt::report {

struct MeanStd {
  double mean = NAN, std = NAN;
  int64_t n = 0;
};
MeanStd mean_std(const std::vector<double>& values);

struct B2nSummaryRow {
  std::string dataset;
  std::vector<int64_t> seeds;
  MeanStd base, novel, seed_hm;  // seed_hm: over the per-seed HMs
  double hm = 0;                 // HM of base.mean and novel.mean
};

struct B2nSummary {
  std::string label;  // the method, with DPC's stage-1 or the sweep folder added where needed to tell apart
  std::string method;
  std::filesystem::path sweep;
  bool is_baseline = false;
  std::vector<B2nSummaryRow> rows;  // in dataset order of first appearance
  double average_base = 0, average_novel = 0, average_hm = 0;
};

struct DgSummaryRow {
  std::string target;
  std::vector<int64_t> seeds;
  MeanStd accuracy;
};

struct DgSummary {
  std::string label, method, dataset;
  std::filesystem::path sweep;
  int64_t shots = 0;
  std::vector<DgSummaryRow> rows;  // one per target domain
  double average = 0;              // mean of the rows' means
};

struct XdSummaryColumn {
  std::string dataset;
  bool domain_shift = false;
  std::vector<int64_t> seeds;
  MeanStd accuracy;
};

struct XdSummary {
  std::string label, method;
  std::filesystem::path sweep;
  XdSummaryColumn source;
  std::vector<XdSummaryColumn> targets;
  MeanStd domain_shift_average, cross_dataset_average;  // .n = number of targets in the group (0: none)
};

// Methods in the order the tables list them: zero-shot CLIP first, then the registry's order, then others.
int method_rank(const std::string& method);

std::vector<B2nSummary> summarise_b2n(const std::vector<B2nRecord>& records);
std::vector<DgSummary> summarise_dg(const std::vector<DgRecord>& records);
std::vector<XdSummary> summarise_xd(const std::vector<XdRecord>& records);

}  // namespace clipt::report
