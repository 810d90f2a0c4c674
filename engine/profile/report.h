// What a Profile says, per step: time, FLOPs and bytes by op kind, by module and by (op, shapes); the
// achieved FLOP/s and bandwidth of each against the device's roof, and whether it is compute- or
// memory-bound; wall time by phase. Rendered as text tables, JSON, a Chrome/Perfetto trace and a
// roofline picture (SVG).
#pragma once
#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/profile/peaks.h"
#include "engine/profile/profiler.h"

namespace clipt::profile {

struct OpStats {
  std::string key;  // op kind, module path or "op shapes"
  std::string op;   // the op kind (for module rows: the op that took most of its time)
  DType dtype = DType::F32;
  double calls = 0;                          // per step
  double time_us = 0, flops = 0, bytes = 0;  // per step
  // Derived against the peaks:
  double flops_per_s = 0, bytes_per_s = 0, intensity = 0;  // FLOP/byte
  double roof_flops_per_s = 0;                             // the attainable FLOP/s at this intensity
  double percent_of_peak = 0;                              // of the peak that bounds it (bandwidth or FLOP/s)
  bool memory_bound = true;
};

struct PhaseStats {
  double wall_us = 0, op_us = 0, ops = 0;  // per step
};

struct Summary {
  std::string title;
  Device device;
  Peaks peaks;
  int64_t steps = 0;
  double step_us = 0;                               // mean wall time of a step
  double op_us = 0, flops = 0, bytes = 0, ops = 0;  // per step, summed over ops
  std::array<PhaseStats, kPhaseCount> phases;
  std::vector<OpStats> by_kind, by_module, by_shape;  // sorted by time, descending
};

// `module_depth` > 0 groups modules by the first that many components of their path.
Summary summarize(const Profile& profile, const Peaks& peaks, const std::string& title, int module_depth = 0);
// Text tables: header, phases, op kinds, the top `top` modules and (op, shape) groups.
std::string format_report(const Summary& s, int top = 15);
nlohmann::json summary_json(const Summary& s, int top = 0);  // top 0: every row
// Chrome trace-event JSON ("X" events; one per recorded op on the host track, one per op on the device
// track when times came from device events, and the phases on their own track). Opens in Perfetto or
// chrome://tracing.
nlohmann::json chrome_trace(const Profile& profile);
// Log-log roofline: the roofs of the peaks and one disc per (op, shapes) group that does arithmetic
// (copies have no FLOPs to place), area ∝ its time.
std::string roofline_svg(const Summary& s);

}  // namespace clipt::profile
