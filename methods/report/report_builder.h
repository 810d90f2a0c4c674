// `clipt report`'s content: from the runs found under some folders, the base-to-new tables (one per method
// and a comparison of the averages, with bar charts), the domain-generalisation and cross-dataset tables,
// the sharpness reports, a list of every run, and the training curves (loss, training accuracy and learning
// rate per epoch) of every trained run.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "methods/report/report_document.h"
#include "methods/report/run_records.h"
#include "methods/report/summary.h"

namespace clipt::report {

// "51.04 ± 1.20" (the spread left out for a single seed).
std::string format_mean_std(const MeanStd& m);

Document build_report(const RunCollection& runs, const std::vector<std::filesystem::path>& roots);

struct ReportFiles {
  std::filesystem::path markdown, html;
  std::vector<std::filesystem::path> pictures;
  std::vector<std::string> warnings;  // what was skipped (also on the page), for the console
};

// Writes <out>/report.md, <out>/report.html (each atomically) and the pictures as the folder
// <out>/report-files/, replaced as a whole: a second report into `out` overwrites the first one entirely.
ReportFiles write_report(const Document& doc, const std::filesystem::path& out);

// Collects the runs under `roots` and writes their report into `out` (an Error when there is none, or when
// a file of a run is broken: see collect_runs).
ReportFiles report_runs(const std::vector<std::filesystem::path>& roots, const std::filesystem::path& out);

}  // namespace clipt::report
