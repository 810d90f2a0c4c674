// `clipt report DIR... [--out DIR]`: collects every run under the folders (train, b2n, dg, xd, eval) and
// writes report.md, a self-contained report.html and the pictures (report-files/*.svg) — see
// methods/report/report_builder.h.
#include <fmt/core.h>

#include "apps/args.h"
#include "apps/commands.h"
#include "engine/core/error.h"
#include "methods/report/report_builder.h"

namespace clipt::apps {

int cmd_report(const CommandArgs& argv) {
  Args args(argv);
  args.check_known({"out"});
  std::vector<std::filesystem::path> roots;
  for (const auto& p : args.positionals()) roots.emplace_back(p);
  CLIPT_CHECK(!roots.empty(), "report: name the folders of runs to report on (e.g. clipt report clipt-demo)");
  const std::filesystem::path out = args.get_or("out", roots.size() == 1 ? roots.front().string() : "clipt-report");
  const report::ReportFiles files = report::report_runs(roots, out);
  for (const auto& w : files.warnings) fmt::print(stderr, "report: warning: {}\n", w);
  fmt::print("report: {} ({} picture{}) and {}\n", files.html.string(), files.pictures.size(),
             files.pictures.size() == 1 ? "" : "s", files.markdown.string());
  return 0;
}

}  // namespace clipt::apps
