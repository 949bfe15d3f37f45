#include "analysis/forest_plot.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace cohortdb::analysis {
namespace {

constexpr double kWidth = 960;
constexpr double kRowHeight = 28;
constexpr double kTop = 70;
constexpr double kLabelWidth = 300;
constexpr double kPlotWidth = 400;
constexpr double kTextColumn = kLabelWidth + kPlotWidth + 30;

std::string Number(double v) {
  if (std::isnan(v)) return "NA";
  return fmt::format("{:.2f}", v);
}

// "nice" tick positions covering [lo, hi].
std::vector<double> Ticks(double lo, double hi, bool log_scale) {
  std::vector<double> ticks;
  if (log_scale) {
    static const double kCandidates[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25,
                                         0.5,   0.75,  1,     1.25, 1.5,  2,    3,   4,   5,
                                         10,    20,    50,    100,  200,  500,  1000};
    for (double c : kCandidates) {
      if (c >= lo * 0.999 && c <= hi * 1.001) ticks.push_back(c);
    }
    return ticks;
  }
  const double span = hi - lo;
  const double raw = span / 6;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * magnitude;
    if (span / step <= 7) break;
  }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string TickLabel(double v) {
  std::string s = fmt::format("{:.3f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void AddStratumHeading(ForestPlot& plot, std::optional<std::string>& current, const std::string& stratum) {
  if (current == stratum) return;
  ForestRow heading;
  heading.label = stratum.empty() ? "Overall" : stratum;
  heading.header = true;
  plot.rows.push_back(std::move(heading));
  current = stratum;
}

std::string RenderForestPlotSvg(const ForestPlot& plot) {
  // axis range from the finite estimates and limits, always including the reference
  double lo = plot.reference, hi = plot.reference;
  auto widen = [&](double v) {
    if (!std::isfinite(v) || (plot.log_scale && v <= 0)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  };
  for (const ForestRow& r : plot.rows) {
    widen(r.estimate);
    widen(r.low);
    widen(r.high);
  }
  if (plot.prediction) {
    widen(plot.prediction->first);
    widen(plot.prediction->second);
  }
  auto transform = [&](double v) { return plot.log_scale ? std::log(v) : v; };
  double tlo = transform(lo), thi = transform(hi);
  if (thi - tlo < 1e-9) {
    tlo -= 1;
    thi += 1;
  }
  const double pad = (thi - tlo) * 0.06;
  tlo -= pad;
  thi += pad;
  auto x_of = [&](double v) {
    const double t = std::clamp(transform(v), tlo, thi);
    return kLabelWidth + (t - tlo) / (thi - tlo) * kPlotWidth;
  };
  const std::size_t n_rows = plot.rows.size() + (plot.prediction ? 1 : 0);
  const double plot_bottom = kTop + static_cast<double>(n_rows) * kRowHeight + 10;
  const double height = plot_bottom + 90 + (plot.footnote.empty() ? 0 : 20);
  double max_weight = 0;
  for (const ForestRow& r : plot.rows) {
    if (std::isfinite(r.weight)) max_weight = std::max(max_weight, r.weight);
  }

  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"14\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"20\" y=\"32\" font-size=\"18\" font-weight=\"bold\">{2}</text>\n"
      "<text x=\"20\" y=\"{3}\" font-weight=\"bold\">{4}</text>\n"
      "<text x=\"{5}\" y=\"{3}\" font-weight=\"bold\">Estimate [95% CI]</text>\n",
      kWidth, height, XmlEscape(plot.title), kTop - 12, XmlEscape(plot.label_header), kTextColumn);
  // reference line
  const double ref_x = x_of(plot.reference);
  svg += fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#888\" "
      "stroke-dasharray=\"4,4\"/>\n",
      ref_x, kTop - 4, plot_bottom);
  double y = kTop;
  const bool indent =
      std::any_of(plot.rows.begin(), plot.rows.end(), [](const ForestRow& r) { return r.header; });
  for (const ForestRow& r : plot.rows) {
    const double cy = y + kRowHeight / 2;
    if (r.header) {
      svg += fmt::format("<text x=\"20\" y=\"{:.1f}\" font-weight=\"bold\">{}</text>\n", cy + 5,
                         XmlEscape(r.label));
      y += kRowHeight;
      continue;
    }
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\"{}>{}</text>\n", indent ? 36 : 20, cy + 5,
                       r.summary ? " font-weight=\"bold\"" : "", XmlEscape(r.label));
    if (!std::isfinite(r.estimate)) {
      svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"#666\">{}</text>\n", kTextColumn, cy + 5,
                         XmlEscape(r.note.empty() ? "not estimable" : r.note));
      y += kRowHeight;
      continue;
    }
    if (r.summary) {
      svg += fmt::format(
          "<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"#1f4e79\"/>\n",
          x_of(r.low), cy, x_of(r.estimate), cy - 8, x_of(r.high), cy, x_of(r.estimate), cy + 8);
    } else {
      svg += fmt::format(
          "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\" "
          "stroke-width=\"1.5\"/>\n",
          x_of(r.low), cy, x_of(r.high), cy);
      double size = 8;
      if (max_weight > 0 && std::isfinite(r.weight)) size = 4 + 10 * std::sqrt(r.weight / max_weight);
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#1f4e79\"/>\n",
          x_of(r.estimate) - size / 2, cy - size / 2, size, size);
    }
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\"{}>{} [{}, {}]</text>\n", kTextColumn, cy + 5,
                       r.summary ? " font-weight=\"bold\"" : "", Number(r.estimate), Number(r.low),
                       Number(r.high));
    y += kRowHeight;
  }
  if (plot.prediction) {
    const double cy = y + kRowHeight / 2;
    svg += fmt::format("<text x=\"20\" y=\"{:.1f}\" fill=\"#555\">Prediction interval</text>\n", cy + 5);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#b22222\" "
        "stroke-width=\"3\"/>\n",
        x_of(plot.prediction->first), cy, x_of(plot.prediction->second), cy);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"#555\">[{}, {}]</text>\n", kTextColumn, cy + 5,
                       Number(plot.prediction->first), Number(plot.prediction->second));
  }
  // axis
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", kLabelWidth,
                     plot_bottom, kLabelWidth + kPlotWidth, plot_bottom);
  const double tick_lo = plot.log_scale ? std::exp(tlo) : tlo;
  const double tick_hi = plot.log_scale ? std::exp(thi) : thi;
  double last_x = -1e9;
  std::vector<double> ticks = Ticks(tick_lo, tick_hi, plot.log_scale);
  std::vector<double> shown;
  for (double t : ticks) {  // keep ticks at least 45 px apart, always the reference
    if (t == plot.reference || x_of(t) - last_x >= 45) {
      if (!shown.empty() && x_of(t) - last_x < 45) shown.pop_back();
      shown.push_back(t);
      last_x = x_of(t);
    }
  }
  for (double t : shown) {
    const double tx = x_of(t);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"black\"/>\n", tx,
                       plot_bottom, plot_bottom + 6);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n", tx,
                       plot_bottom + 22, TickLabel(t));
  }
  svg +=
      fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kLabelWidth + kPlotWidth / 2,
                  plot_bottom + 48, XmlEscape(plot.x_label + (plot.log_scale ? " (log scale)" : "")));
  if (!plot.footnote.empty()) {
    svg += fmt::format("<text x=\"20\" y=\"{}\" font-size=\"12\" fill=\"#555\">{}</text>\n", plot_bottom + 75,
                       XmlEscape(plot.footnote));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace cohortdb::analysis
