// Chrome trace-event format (the JSON object form): "M" events name the tracks, "X" (complete) events
// carry ts and dur in microseconds. Track layout: process 1 is the host (thread 1: ops as the host saw
// them, thread 2: phases), process 2 the device's stream (ops timed by events) when there was one.
#include "engine/profile/report.h"

namespace clipt::profile {

namespace {

nlohmann::json name_event(int pid, int tid, const std::string& name) {
  if (tid == 0) return {{"name", "process_name"}, {"ph", "M"}, {"pid", pid}, {"args", {{"name", name}}}};
  return {{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}};
}

}  // namespace

nlohmann::json chrome_trace(const Profile& p) {
  nlohmann::json events = nlohmann::json::array();
  const bool device_track = std::any_of(p.ops.begin(), p.ops.end(), [](const OpRecord& r) { return r.device_us >= 0; });
  events.push_back(name_event(1, 0, "host"));
  events.push_back(name_event(1, 1, "ops (host)"));
  events.push_back(name_event(1, 2, "phases"));
  if (device_track) {
    events.push_back(name_event(2, 0, p.device.str()));
    events.push_back(name_event(2, 1, "stream (device time)"));
  }
  for (const OpRecord& r : p.ops) {
    nlohmann::json args = {{"module", p.module_paths[size_t(r.module)]},
                           {"phase", phase_name(r.phase)},
                           {"step", r.step},
                           {"shapes", r.shape_str()},
                           {"dtype", std::string(dtype_name(r.dtype))},
                           {"flops", r.flops},
                           {"bytes", r.bytes}};
    events.push_back({{"name", r.op},
                      {"cat", "op"},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", 1},
                      {"ts", r.host_begin_us},
                      {"dur", r.host_end_us - r.host_begin_us},
                      {"args", args}});
    if (r.device_us >= 0)
      events.push_back({{"name", r.op},
                        {"cat", "device_op"},
                        {"ph", "X"},
                        {"pid", 2},
                        {"tid", 1},
                        {"ts", r.device_begin_us},
                        {"dur", r.device_us},
                        {"args", args}});
  }
  for (const PhaseSpan& s : p.phase_spans)
    events.push_back({{"name", phase_name(s.phase)},
                      {"cat", "phase"},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", 2},
                      {"ts", s.begin_us},
                      {"dur", s.end_us - s.begin_us},
                      {"args", {{"step", s.step}}}});
  return {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

}  // namespace clipt::profile
