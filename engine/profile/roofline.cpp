// The roofline picture as a self-contained SVG: log-log axes of arithmetic intensity (FLOP/byte) and
// achieved FLOP/s, the bandwidth roof and one compute roof per peak, and one disc per (op, shapes) group
// whose area is proportional to its share of the step; the largest groups are labelled.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "engine/profile/report.h"

namespace clipt::profile {

namespace {

constexpr double kW = 900, kH = 560, kLeft = 80, kRight = 220, kTop = 40, kBottom = 60;

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

const char* family_colour(const std::string& op) {
  if (op == "gemm") return "#1f77b4";
  if (op.rfind("unary.", 0) == 0 || op.rfind("binary.", 0) == 0 || op == "where") return "#ff7f0e";
  if (op.find("softmax") != std::string::npos) return "#2ca02c";
  if (op.find("layer_norm") != std::string::npos) return "#d62728";
  if (op.find("update") != std::string::npos) return "#9467bd";
  if (op.find("copy") != std::string::npos || op == "fill") return "#8c564b";
  return "#7f7f7f";
}

}  // namespace

std::string roofline_svg(const Summary& s) {
  const Peaks& pk = s.peaks;
  const double top_flops = std::max({pk.gemm_f32, pk.gemm_f16, pk.vector_f32, 1.0});
  // Axis ranges in decades, wide enough for every point and the ridge.
  double x_lo = -2, x_hi = 3, y_hi = std::ceil(std::log10(top_flops) + 0.3), y_lo = y_hi - 6;
  for (const OpStats& r : s.by_shape) {
    if (r.intensity <= 0 || r.flops_per_s <= 0) continue;
    x_lo = std::min(x_lo, std::floor(std::log10(r.intensity)));
    x_hi = std::max(x_hi, std::ceil(std::log10(r.intensity)));
    y_lo = std::min(y_lo, std::floor(std::log10(r.flops_per_s)));
  }
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto X = [&](double ai) { return kLeft + (std::log10(ai) - x_lo) / (x_hi - x_lo) * pw; };
  auto Y = [&](double f) { return kTop + (y_hi - std::log10(f)) / (y_hi - y_lo) * ph; };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kW, kH, kW, kH);
  svg += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"14\">{}</text>\n", kLeft, escape(s.title));
  // Grid and decade labels.
  for (double d = x_lo; d <= x_hi; d += 1) {
    const double x = X(std::pow(10, d));
    svg +=
        fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#eee\"/>\n", x, kTop, x, kTop + ph);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">1e{:.0f}</text>\n", x, kTop + ph + 16, d);
  }
  for (double d = y_lo; d <= y_hi; d += 1) {
    const double y = Y(std::pow(10, d));
    svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#eee\"/>\n", kLeft, y,
                       kLeft + pw, y);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">1e{:.0f}</text>\n", kLeft - 6, y + 4, d);
  }
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", kLeft,
                     kTop, pw, ph);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">arithmetic intensity (FLOP/byte)</text>\n",
                     kLeft + pw / 2, kH - 18);
  svg += fmt::format("<text transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\">achieved FLOP/s</text>\n",
                     kTop + ph / 2);
  // Roofs: min(peak, intensity · bandwidth) for each distinct compute peak.
  std::vector<std::pair<double, std::string>> roofs = {{pk.gemm_f32, "GEMM f32"}};
  if (pk.gemm_f16 != pk.gemm_f32) roofs.push_back({pk.gemm_f16, "GEMM f16/bf16"});
  if (pk.vector_f32 != pk.gemm_f32) roofs.push_back({pk.vector_f32, "other f32"});
  for (const auto& [peak, label] : roofs) {
    if (peak <= 0 || pk.bandwidth <= 0) continue;
    const double ridge = peak / pk.bandwidth, a0 = std::pow(10, x_lo), a1 = std::pow(10, x_hi);
    const double y0 = std::max(a0 * pk.bandwidth, std::pow(10, y_lo));
    const double x0 = y0 / pk.bandwidth;
    svg += fmt::format(
        "<polyline points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"none\" stroke=\"#222\" "
        "stroke-width=\"1.5\"/>\n",
        X(x0), Y(y0), X(ridge), Y(peak), X(a1), Y(peak));
    // Left of the ridge, above the diagonal: clear of the discs, which crowd the flat part.
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{} {:.3g} TFLOP/s</text>\n", X(ridge) - 6,
                       Y(peak) + 4, label, peak / 1e12);
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" transform=\"rotate(0)\">memory {:.3g} GB/s</text>\n",
                     X(std::pow(10, x_lo)) + 6, Y(std::max(std::pow(10, x_lo) * pk.bandwidth, std::pow(10, y_lo))) - 6,
                     pk.bandwidth / 1e9);
  // Discs, largest first so small ones stay visible on top.
  std::vector<const OpStats*> pts;
  for (const OpStats& r : s.by_shape)
    if (r.intensity > 0 && r.flops_per_s > 0) pts.push_back(&r);
  double total = 0;
  for (const OpStats* r : pts) total += r->time_us;
  for (const OpStats* r : pts) {
    const double radius = 2.0 + 28.0 * std::sqrt(total > 0 ? r->time_us / total : 0);
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{:.1f}\" fill=\"{}\" fill-opacity=\"0.45\" stroke=\"{}\">"
        "<title>{}: {:.3f} ms/step, {:.3g} TFLOP/s, {:.3g} GB/s</title></circle>\n",
        X(r->intensity), Y(r->flops_per_s), radius, family_colour(r->op), family_colour(r->op), escape(r->key),
        r->time_us / 1e3, r->flops_per_s / 1e12, r->bytes_per_s / 1e9);
  }
  // Labels for the five largest groups, in the right margin with a leader line.
  for (size_t i = 0; i < pts.size() && i < 5; ++i) {
    const OpStats& r = *pts[i];
    const double ly = kTop + 20 + double(i) * 34;
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#999\"/>\n", X(r.intensity),
                       Y(r.flops_per_s), kLeft + pw + 6, ly);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\">{}</text>\n", kLeft + pw + 8, ly,
                       escape(r.key.size() > 34 ? r.key.substr(0, 33) + "…" : r.key));
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"#555\">{:.1f}% of step, {:.0f}% of peak</text>\n",
                       kLeft + pw + 8, ly + 13, s.step_us > 0 ? 100 * r.time_us / s.step_us : 0, r.percent_of_peak);
  }
  // Legend of colours.
  const std::pair<const char*, const char*> legend[] = {{"gemm", "GEMM"},
                                                        {"binary.add", "element-wise"},
                                                        {"softmax", "softmax"},
                                                        {"layer_norm", "layer norm"},
                                                        {"sgd_update", "optimizer"},
                                                        {"copy", "copy / fill"},
                                                        {"index_select", "other"}};
  for (size_t i = 0; i < std::size(legend); ++i) {
    const double ly = kTop + ph - double(std::size(legend) - i) * 16;
    svg += fmt::format("<circle cx=\"{}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" fill-opacity=\"0.6\"/>\n", kLeft + pw + 14,
                       ly - 4, family_colour(legend[i].first));
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\">{}</text>\n", kLeft + pw + 24, ly, legend[i].second);
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace clipt::profile
