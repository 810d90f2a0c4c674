// The report's pictures as small self-contained SVG documents (no scripts, no fonts or images fetched):
// line charts (training curves) and grouped bar charts (base / new / HM per method). Written by hand —
// SVG is a few elements — so the report needs no plotting library.
#pragma once
#include <string>
#include <vector>

namespace clipt::report {

struct Series {
  std::string name;
  std::vector<double> x, y;  // NaN y values break the line
  bool markers = true;       // a dot at each point (epoch means) or a thin line only (logged steps)
  bool faint = false;        // drawn light, behind the others
  int colour = -1;           // index into the palette; -1: the series' position
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = false;  // for learning rates spanning decades (non-positive values are dropped)
  double width = 360, height = 260;
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> groups;          // one cluster of bars each (methods, or target domains)
  std::vector<std::string> series;          // one bar per cluster each (base, new, HM; or methods)
  std::vector<std::vector<double>> values;  // [group][series]; NaN: no bar
  std::vector<std::vector<double>> errors;  // same shape, ± whiskers; empty: none
  double width = 0;                         // 0: wide enough for the groups
  double height = 320;
};

// The i-th colour of the palette (matplotlib's tab10), "#rrggbb".
const char* palette_colour(int i);

std::string line_chart_svg(const LineChart& chart);
std::string bar_chart_svg(const BarChart& chart);
// Several line charts side by side in one SVG, with one legend below them naming the series of the first
// chart (the panels plot the same runs).
std::string panel_row_svg(const std::string& title, const std::vector<LineChart>& panels);

// Text escaped for XML character data and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace clipt::report
