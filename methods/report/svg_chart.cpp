#include "methods/report/svg_chart.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace clipt::report {

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr double kLeft = 56, kRight = 14, kTop = 30, kBottom = 42;

// Tick values covering [lo, hi] at a 1-2-5 step, about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(count, 1);
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::string tick_label(double v) {
  if (std::abs(v) < 1e-12) return "0";
  return fmt::format("{:.3g}", v);  // 0.0015, 2.5, 40, 1e-05: short and distinct at a 1-2-5 step
}

std::string svg_open(double w, double h) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} "
      "{1:.0f}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "fill=\"white\"/>\n",
      w, h);
}

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

// The plot of one line chart, drawn with its top-left corner at (ox, oy).
std::string line_chart_body(const LineChart& c, double ox, double oy) {
  auto transform_y = [&](double v) { return c.log_y ? (v > 0 ? std::log10(v) : NAN) : v; };
  Range xr, yr;
  for (const Series& s : c.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(transform_y(s.y[i]))) xr.add(s.x[i]), yr.add(transform_y(s.y[i]));
  const double pw = c.width - kLeft - kRight, ph = c.height - kTop - kBottom;
  std::string out = fmt::format("<g transform=\"translate({:.1f},{:.1f})\">\n", ox, oy);
  out += fmt::format("<text x=\"{:.1f}\" y=\"18\" font-size=\"13\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2,
                     xml_escape(c.title));
  if (!xr.valid()) {
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#888\">not recorded</text>\n",
                       kLeft + pw / 2, kTop + ph / 2);
    return out + "</g>\n";
  }
  if (xr.hi == xr.lo) xr.lo -= 0.5, xr.hi += 0.5;
  if (yr.hi == yr.lo)
    yr.lo -= c.log_y ? 0.5 : std::max(std::abs(yr.lo) * 0.1, 0.5),
        yr.hi += c.log_y ? 0.5 : std::max(std::abs(yr.hi) * 0.1, 0.5);
  const double pad = (yr.hi - yr.lo) * 0.05;
  yr.lo -= pad, yr.hi += pad;
  auto X = [&](double v) { return kLeft + (v - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto Y = [&](double v) { return kTop + (yr.hi - v) / (yr.hi - yr.lo) * ph; };
  for (double t : nice_ticks(xr.lo, xr.hi, 5)) {
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#eee\"/>\n", X(t),
                       kTop, kTop + ph);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", X(t), kTop + ph + 14,
                       tick_label(t));
  }
  const auto yticks = c.log_y
                          ? nice_ticks(std::floor(yr.lo), std::ceil(yr.hi), int(std::ceil(yr.hi) - std::floor(yr.lo)))
                          : nice_ticks(yr.lo, yr.hi, 5);
  for (double t : yticks) {
    if (t < yr.lo || t > yr.hi) continue;
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#eee\"/>\n", kLeft,
                       Y(t), kLeft + pw);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 4, Y(t) + 4,
                       c.log_y ? tick_label(std::pow(10, t)) : tick_label(t));
  }
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#444\"/>\n",
                     kLeft, kTop, pw, ph);
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2, c.height - 8,
                     xml_escape(c.x_label));
  out += fmt::format("<text transform=\"translate(12,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     kTop + ph / 2, xml_escape(c.y_label));
  // Faint series first, so the others draw over them.
  for (int pass = 0; pass < 2; ++pass)
    for (size_t k = 0; k < c.series.size(); ++k) {
      const Series& s = c.series[k];
      if (s.faint != (pass == 0)) continue;
      const char* colour = palette_colour(s.colour >= 0 ? s.colour : int(k));
      std::string path;
      bool pen_down = false;
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        const double v = transform_y(s.y[i]);
        if (!std::isfinite(v) || !std::isfinite(s.x[i])) {
          pen_down = false;
          continue;
        }
        path += fmt::format("{}{:.1f},{:.1f} ", pen_down ? "L" : "M", X(s.x[i]), Y(v));
        pen_down = true;
        if (s.markers)
          out += fmt::format(
              "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"><title>{} {}: {}</title></circle>\n",
              X(s.x[i]), Y(v), colour, xml_escape(s.name), tick_label(s.x[i]), tick_label(s.y[i]));
      }
      if (!path.empty())
        out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n", path, colour,
                           s.faint ? "1" : "1.6", s.faint ? " stroke-opacity=\"0.35\"" : "");
    }
  return out + "</g>\n";
}

}  // namespace

const char* palette_colour(int i) { return kPalette[((i % 10) + 10) % 10]; }

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string line_chart_svg(const LineChart& chart) {
  return svg_open(chart.width, chart.height) + line_chart_body(chart, 0, 0) + "</svg>\n";
}

std::string panel_row_svg(const std::string& title, const std::vector<LineChart>& panels) {
  double w = 0, h = 0;
  for (const LineChart& p : panels) w += p.width, h = std::max(h, p.height);
  // The legend: the first panel's solid series, as many per line as fit.
  std::vector<const Series*> named;
  if (!panels.empty())
    for (const Series& s : panels.front().series)
      if (!s.faint) named.push_back(&s);
  const double item_w = 170, top = title.empty() ? 0 : 24;
  const int per_line = std::max(1, int(w / item_w));
  const double legend_h = named.empty() ? 0 : 18.0 * double((named.size() + per_line - 1) / per_line) + 8;
  std::string out = svg_open(w, top + h + legend_h);
  if (!title.empty()) out += fmt::format("<text x=\"8\" y=\"17\" font-size=\"14\">{}</text>\n", xml_escape(title));
  double x = 0;
  for (const LineChart& p : panels) {
    out += line_chart_body(p, x, top);
    x += p.width;
  }
  for (size_t i = 0; i < named.size(); ++i) {
    const double lx = 10 + item_w * double(i % per_line), ly = top + h + 12 + 18.0 * double(i / per_line);
    const char* colour = palette_colour(named[i]->colour >= 0 ? named[i]->colour : int(i));
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"4\" fill=\"{}\"/>\n", lx, ly - 4, colour);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", lx + 19, ly + 1, xml_escape(named[i]->name));
  }
  return out + "</svg>\n";
}

std::string bar_chart_svg(const BarChart& c) {
  const size_t groups = c.groups.size(), series = c.series.size();
  const double bar_w = 16, group_gap = 18, left = 50, right = 12, top = 30, bottom = 70, legend_h = 22;
  const double group_w = double(series) * bar_w + group_gap;
  const double width = c.width > 0 ? c.width : std::max(320.0, left + right + group_w * double(groups));
  const double pw = width - left - right, ph = c.height - top - bottom - legend_h;
  double hi = 0;
  for (size_t g = 0; g < groups; ++g)
    for (size_t s = 0; s < series; ++s) {
      const double v = g < c.values.size() && s < c.values[g].size() ? c.values[g][s] : NAN;
      const double e = g < c.errors.size() && s < c.errors[g].size() ? c.errors[g][s] : 0;
      if (std::isfinite(v)) hi = std::max(hi, v + (std::isfinite(e) ? e : 0));
    }
  hi = hi > 0 ? hi * 1.12 : 1;
  auto Y = [&](double v) { return top + (hi - v) / hi * ph; };
  std::string out = svg_open(width, c.height);
  out += fmt::format("<text x=\"{:.1f}\" y=\"18\" font-size=\"13\" text-anchor=\"middle\">{}</text>\n", left + pw / 2,
                     xml_escape(c.title));
  for (double t : nice_ticks(0, hi, 5)) {
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#eee\"/>\n", left,
                       Y(t), left + pw);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 4, Y(t) + 4,
                       tick_label(t));
  }
  out += fmt::format("<text transform=\"translate(12,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     top + ph / 2, xml_escape(c.y_label));
  const double slot = pw / double(std::max<size_t>(groups, 1));
  for (size_t g = 0; g < groups; ++g) {
    const double gx = left + slot * double(g) + (slot - double(series) * bar_w) / 2;
    for (size_t s = 0; s < series; ++s) {
      const double v = g < c.values.size() && s < c.values[g].size() ? c.values[g][s] : NAN;
      if (!std::isfinite(v)) continue;
      const double x = gx + bar_w * double(s);
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{} {}: "
          "{:.2f}</title></rect>\n",
          x, Y(std::max(v, 0.0)), bar_w - 2, std::abs(Y(0) - Y(std::max(v, 0.0))), palette_colour(int(s)),
          xml_escape(c.groups[g]), xml_escape(c.series[s]), v);
      const double e = g < c.errors.size() && s < c.errors[g].size() ? c.errors[g][s] : 0;
      if (std::isfinite(e) && e > 0)
        out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#222\"/>\n",
                           x + (bar_w - 2) / 2, Y(v + e), Y(std::max(v - e, 0.0)));
    }
    // Group names slanted, so long method names fit under narrow clusters.
    const double cx = left + slot * (double(g) + 0.5);
    out += fmt::format("<text transform=\"translate({:.1f},{:.1f}) rotate(-30)\" text-anchor=\"end\">{}</text>\n",
                       cx + 4, top + ph + 14, xml_escape(c.groups[g]));
  }
  out += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#444\"/>\n", left, Y(0),
                     left + pw);
  for (size_t s = 0; s < series; ++s) {
    const double lx = left + 110 * double(s), ly = c.height - 10;
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", lx, ly - 10,
                       palette_colour(int(s)));
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", lx + 16, ly, xml_escape(c.series[s]));
  }
  return out + "</svg>\n";
}

}  // namespace clipt::report
