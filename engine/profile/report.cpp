#include "engine/profile/report.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

namespace clipt::profile {

namespace {

std::string module_key(const std::string& path, int depth) {
  if (path.empty()) return "(top level)";
  if (depth <= 0) return path;
  size_t pos = 0;
  for (int d = 0; d < depth; ++d) {
    pos = path.find('.', pos);
    if (pos == std::string::npos) return path;
    ++pos;
  }
  return path.substr(0, pos - 1);
}

// Groups records by a key; also remembers, per group, the op kind with most time and its dtype.
struct Grouper {
  struct Acc {
    OpStats stats;
    std::map<std::string, double> op_time;
  };
  std::map<std::string, Acc> groups;
  void add(const std::string& key, const OpRecord& r) {
    Acc& a = groups[key];
    a.stats.key = key;
    a.stats.calls += 1;
    a.stats.time_us += r.time_us();
    a.stats.flops += r.flops;
    a.stats.bytes += r.bytes;
    double& t = a.op_time[r.op];
    t += r.time_us();
    if (a.stats.op.empty() || t > a.op_time[a.stats.op]) {
      a.stats.op = r.op;
      a.stats.dtype = r.dtype;
    }
  }
  std::vector<OpStats> rows(double per_step, const Peaks& peaks) const {
    std::vector<OpStats> out;
    for (const auto& [k, a] : groups) {
      OpStats s = a.stats;
      s.calls /= per_step;
      s.time_us /= per_step;
      s.flops /= per_step;
      s.bytes /= per_step;
      const double seconds = s.time_us * 1e-6;
      s.flops_per_s = seconds > 0 ? s.flops / seconds : 0;
      s.bytes_per_s = seconds > 0 ? s.bytes / seconds : 0;
      s.intensity = s.bytes > 0 ? s.flops / s.bytes : 0;
      const double compute = peaks.flops_for(s.op, s.dtype);
      s.memory_bound = s.bytes > 0 && s.intensity * peaks.bandwidth < compute;
      s.roof_flops_per_s = s.memory_bound ? s.intensity * peaks.bandwidth : compute;
      if (s.memory_bound)
        s.percent_of_peak = peaks.bandwidth > 0 ? 100.0 * s.bytes_per_s / peaks.bandwidth : 0;
      else
        s.percent_of_peak = compute > 0 ? 100.0 * s.flops_per_s / compute : 0;
      out.push_back(s);
    }
    std::sort(out.begin(), out.end(), [](const OpStats& a, const OpStats& b) { return a.time_us > b.time_us; });
    return out;
  }
};

}  // namespace

Summary summarize(const Profile& p, const Peaks& peaks, const std::string& title, int module_depth) {
  Summary s;
  s.title = title;
  s.device = p.device;
  s.peaks = peaks;
  const bool stepped = !p.steps.empty();
  s.steps = stepped ? int64_t(p.steps.size()) : 1;
  const double n = double(s.steps);
  if (stepped) {
    for (const StepTimes& st : p.steps) {
      s.step_us += st.wall_us() / n;
      for (int ph = 0; ph < kPhaseCount; ++ph) s.phases[size_t(ph)].wall_us += st.phase_us[size_t(ph)] / n;
    }
  } else {
    s.step_us = p.duration_us;
    for (const PhaseSpan& sp : p.phase_spans) s.phases[size_t(sp.phase)].wall_us += sp.end_us - sp.begin_us;
  }
  Grouper kinds, modules, shapes;
  for (const OpRecord& r : p.ops) {
    if (stepped && r.step < 0) continue;
    s.op_us += r.time_us() / n;
    s.flops += r.flops / n;
    s.bytes += r.bytes / n;
    s.ops += 1 / n;
    PhaseStats& ph = s.phases[size_t(r.phase)];
    ph.op_us += r.time_us() / n;
    ph.ops += 1 / n;
    kinds.add(r.op, r);
    modules.add(module_key(p.module_paths[size_t(r.module)], module_depth), r);
    shapes.add(std::string(r.op) + " " + r.shape_str(), r);
  }
  s.by_kind = kinds.rows(n, peaks);
  s.by_module = modules.rows(n, peaks);
  s.by_shape = shapes.rows(n, peaks);
  return s;
}

namespace {

std::string si(double v, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (std::abs(v) >= 1000 && i < 5) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.3g} {}{}", v, prefixes[i], unit);
}

std::string pct(double part, double whole) { return whole > 0 ? fmt::format("{:.1f}", 100.0 * part / whole) : "-"; }

void table(std::string& out, const std::vector<OpStats>& rows, size_t top, const char* first, double step_us,
           bool show_op) {
  out += fmt::format("| {} |{} calls | ms | % step | GFLOP | MB | TFLOP/s | GB/s | % peak | bound |\n", first,
                     show_op ? " main op |" : "");
  out += fmt::format("|---|{}---:|---:|---:|---:|---:|---:|---:|---:|---|\n", show_op ? "---|" : "");
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    const OpStats& r = rows[i];
    out += fmt::format("| {} |{} {:.0f} | {:.3f} | {} | {:.3f} | {:.1f} | {:.3f} | {:.1f} | {:.1f} | {} |\n", r.key,
                       show_op ? fmt::format(" {} |", r.op) : "", r.calls, r.time_us / 1e3, pct(r.time_us, step_us),
                       r.flops / 1e9, r.bytes / 1e6, r.flops_per_s / 1e12, r.bytes_per_s / 1e9, r.percent_of_peak,
                       r.memory_bound ? "memory" : "compute");
  }
  if (rows.size() > top) out += fmt::format("| ({} more) |\n", rows.size() - top);
}

}  // namespace

std::string format_report(const Summary& s, int top) {
  std::string out;
  out += fmt::format("# {}\n\n", s.title);
  out += fmt::format("device {}; peaks ({}): GEMM f32 {}, GEMM f16/bf16 {}, other {}, memory {}\n", s.peaks.device_name,
                     s.peaks.source, si(s.peaks.gemm_f32, "FLOP/s"), si(s.peaks.gemm_f16, "FLOP/s"),
                     si(s.peaks.vector_f32, "FLOP/s"), si(s.peaks.bandwidth, "B/s"));
  out += fmt::format(
      "step {:.3f} ms (mean of {}); {:.0f} ops, {:.3f} ms in ops ({}% of the step); {} per step, {}, {} achieved\n\n",
      s.step_us / 1e3, s.steps, s.ops, s.op_us / 1e3, pct(s.op_us, s.step_us), si(s.flops, "FLOP"), si(s.bytes, "B"),
      si(s.op_us > 0 ? s.flops / (s.op_us * 1e-6) : 0, "FLOP/s"));
  out += "## Phases\n\n| phase | wall ms | % step | ms in ops | ops |\n|---|---:|---:|---:|---:|\n";
  for (int ph = 0; ph < kPhaseCount; ++ph) {
    const PhaseStats& p = s.phases[size_t(ph)];
    out += fmt::format("| {} | {:.3f} | {} | {:.3f} | {:.0f} |\n", phase_name(Phase(ph)), p.wall_us / 1e3,
                       pct(p.wall_us, s.step_us), p.op_us / 1e3, p.ops);
  }
  out += "\n## By op kind\n\n";
  table(out, s.by_kind, size_t(-1), "op", s.step_us, false);
  out += fmt::format("\n## Top {} modules\n\n", top);
  table(out, s.by_module, size_t(top), "module", s.step_us, true);
  out += fmt::format("\n## Top {} ops by shape\n\n", top);
  table(out, s.by_shape, size_t(top), "op and shapes", s.step_us, false);
  return out;
}

namespace {

nlohmann::json rows_json(const std::vector<OpStats>& rows, int top) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < rows.size() && (top <= 0 || i < size_t(top)); ++i) {
    const OpStats& r = rows[i];
    out.push_back({{"key", r.key},
                   {"op", r.op},
                   {"dtype", std::string(dtype_name(r.dtype))},
                   {"calls", r.calls},
                   {"ms", r.time_us / 1e3},
                   {"flops", r.flops},
                   {"bytes", r.bytes},
                   {"tflops_per_s", r.flops_per_s / 1e12},
                   {"gb_per_s", r.bytes_per_s / 1e9},
                   {"intensity", r.intensity},
                   {"percent_of_peak", r.percent_of_peak},
                   {"bound", r.memory_bound ? "memory" : "compute"}});
  }
  return out;
}

}  // namespace

nlohmann::json summary_json(const Summary& s, int top) {
  nlohmann::json phases = nlohmann::json::object();
  for (int ph = 0; ph < kPhaseCount; ++ph) {
    const PhaseStats& p = s.phases[size_t(ph)];
    phases[phase_name(Phase(ph))] = {{"wall_ms", p.wall_us / 1e3}, {"op_ms", p.op_us / 1e3}, {"ops", p.ops}};
  }
  return {{"title", s.title},
          {"device", s.device.str()},
          {"peaks",
           {{"device", s.peaks.device_name},
            {"source", s.peaks.source},
            {"gemm_f32_flops_per_s", s.peaks.gemm_f32},
            {"gemm_f16_flops_per_s", s.peaks.gemm_f16},
            {"vector_f32_flops_per_s", s.peaks.vector_f32},
            {"bandwidth_bytes_per_s", s.peaks.bandwidth}}},
          {"steps", s.steps},
          {"step_ms", s.step_us / 1e3},
          {"op_ms", s.op_us / 1e3},
          {"ops", s.ops},
          {"flops", s.flops},
          {"bytes", s.bytes},
          {"phases", phases},
          {"by_kind", rows_json(s.by_kind, 0)},
          {"by_module", rows_json(s.by_module, top)},
          {"by_shape", rows_json(s.by_shape, top)}};
}

}  // namespace clipt::profile
