#include "analysis/forest_plot.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "analysis/report.h"

namespace cohortdb::analysis {
namespace {

constexpr double kMargin = 20;
constexpr double kPlotWidth = 360;
constexpr double kGap = 18;
constexpr double kLineHeight = 17;  // a wrapped label's second line
constexpr double kRowHeight = 26;
constexpr double kTextWidth = 7.4;     // average advance of 14 px Helvetica text
constexpr double kNumberWidth = 8.0;   // digits, parentheses, commas
constexpr double kMinLabelWidth = 150;
constexpr double kMaxLabelWidth = 300;
constexpr double kMinTickSpacing = 42;

// The length of a UTF-8 byte sequence starting with "lead", 0 if invalid.
std::size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return lead >= 0xC2 ? 2 : 0;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return lead <= 0xF4 ? 4 : 0;
  return 0;
}

// The UTF-8 code points of "text"; an invalid byte becomes U+FFFD.
std::vector<std::string> CodePoints(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = SequenceLength(static_cast<unsigned char>(text[i]));
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      out.emplace_back("\xEF\xBF\xBD");
      ++i;
      continue;
    }
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::size_t Length(const std::string& text) { return CodePoints(text).size(); }

std::string Join(const std::vector<std::string>& points, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t i = from; i < to && i < points.size(); ++i) s += points[i];
  return s;
}

// A number of a plot's text: "digits" decimals, three significant digits
// for large values and two for ratios that would round to 0; never "-0.00".
std::string PlotNumber(double v, int digits, bool ratio) {
  if (std::isnan(v)) return "NA";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  const double a = std::fabs(v);
  if (a >= 1e5) return fmt::format("{:.2e}", v);
  if (ratio && a >= 100) return FormatNumber(v, 0);
  if (ratio && a > 0 && a < std::pow(10.0, -digits)) return fmt::format("{:.2g}", v);
  return FormatNumber(v, digits);
}

// A tick's label: "0.5", "1", "20"; powers of ten from 10^4 (10^-4) on with
// a superscript exponent.
std::string TickLabel(double v, double step) {
  if (v > 0) {
    const double e = std::log10(v);
    if (std::fabs(e - std::round(e)) < 1e-9 && std::fabs(e) >= 3.5) {
      return fmt::format("10<tspan dy=\"-6\" font-size=\"9\">{}</tspan>", static_cast<int>(std::round(e)));
    }
  }
  if (step < 0) {  // a log axis: the value as it reads, "0.25", "1.5", "200"
    const std::string g = fmt::format("{:.4g}", v);
    if (g.find('e') == std::string::npos) return g;
  }
  int decimals = 0;  // as many as the step has: 0.25 -> 2, so -0.75 never reads -0.8
  while (decimals < 6) {
    const double scaled = step * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
    ++decimals;
  }
  std::string s = FormatNumber(v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

struct Tick {
  double value;
  std::string label;
};

// Tick positions covering [lo, hi]: 1-2-5 steps on a linear axis; on a log
// axis 1, 2, 5 per decade over up to two decades, powers of ten over more
// (every second, third ... when there are too many).
std::vector<Tick> Ticks(double lo, double hi, bool log_scale) {
  std::vector<Tick> ticks;
  if (log_scale) {
    const double decades = std::log10(hi / lo);
    std::vector<double> mantissas = {1};
    if (decades <= 0.7) mantissas = {1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8};
    else if (decades <= 2.5) mantissas = {1, 2, 5};
    else if (decades <= 4) mantissas = {1, 3};
    const int first = static_cast<int>(std::floor(std::log10(lo))) - 1;
    const int last = static_cast<int>(std::ceil(std::log10(hi))) + 1;
    const int every = decades <= 7 ? 1 : static_cast<int>(std::ceil(decades / 7));
    for (int e = first; e <= last; ++e) {
      if (every > 1 && e % every != 0) continue;
      for (double m : mantissas) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back({v, TickLabel(v, -1)});
      }
    }
    return ticks;
  }
  const double span = hi - lo;
  const double magnitude = std::pow(10, std::floor(std::log10(span / 6)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * magnitude;
    if (span / step <= 7) break;
  }
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    const double v = std::fabs(t) < step * 1e-9 ? 0.0 : t;
    ticks.push_back({v, TickLabel(v, step)});
  }
  return ticks;
}

std::string PText(double p) { return std::isnan(p) ? std::string() : FormatPValue(p); }

// The text of a row's estimate column.
std::string EstimateText(const ForestRow& r, int digits, bool ratio) {
  if (r.header) return {};
  if (r.reference) return "Reference";
  if (!std::isfinite(r.estimate)) return r.note.empty() ? "not estimable" : r.note;
  return PlotEstimateCi(r.estimate, r.low, r.high, digits, ratio);
}

}  // namespace

std::string PlotEstimateCi(double estimate, double low, double high, int digits, bool ratio) {
  if (std::isnan(estimate)) return "NA";
  if (std::isnan(low) && std::isnan(high)) return PlotNumber(estimate, digits, ratio);
  return fmt::format("{} ({} to {})", PlotNumber(estimate, digits, ratio), PlotNumber(low, digits, ratio),
                     PlotNumber(high, digits, ratio));
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (const std::string& point : CodePoints(text)) {
    if (point.size() > 1) {
      out += point;
      continue;
    }
    const char c = point[0];
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
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? ' ' : c;
    }
  }
  return out;
}

std::vector<std::string> WrapText(const std::string& text, std::size_t width, std::size_t max_lines) {
  width = std::max<std::size_t>(width, 2);
  max_lines = std::max<std::size_t>(max_lines, 1);
  std::vector<std::string> lines;
  std::string current;
  std::string word;
  auto place = [&] {
    if (word.empty()) return;
    const std::string candidate = current.empty() ? word : current + " " + word;
    if (Length(candidate) <= width) {
      current = candidate;
    } else {
      if (!current.empty()) lines.push_back(current);
      auto points = CodePoints(word);
      while (points.size() > width) {  // a word longer than a line is cut across lines
        lines.push_back(Join(points, 0, width));
        points.erase(points.begin(), points.begin() + static_cast<std::ptrdiff_t>(width));
      }
      current = Join(points, 0, points.size());
    }
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      place();
    } else {
      word += c;
    }
  }
  place();
  if (!current.empty()) lines.push_back(current);
  if (lines.empty()) lines.emplace_back();
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    auto points = CodePoints(lines.back());
    if (points.size() + 1 > width) points.resize(width - 1);
    lines.back() = Join(points, 0, points.size()) + "\u2026";
  }
  return lines;
}

std::string RenderForestPlotSvg(const ForestPlot& plot) {
  // --- the axis: finite estimates and limits, always the reference ---
  double lo = plot.reference, hi = plot.reference;
  double est_lo = plot.reference, est_hi = plot.reference;
  auto usable = [&](double v) { return std::isfinite(v) && (!plot.log_scale || v > 0); };
  for (const ForestRow& r : plot.rows) {
    if (r.header || r.reference || !usable(r.estimate)) continue;
    est_lo = std::min(est_lo, r.estimate);
    est_hi = std::max(est_hi, r.estimate);
  }
  auto widen = [&](double v) {
    if (!usable(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  };
  for (const ForestRow& r : plot.rows) {
    if (r.header || r.reference || !usable(r.estimate)) continue;
    widen(r.estimate);
    widen(r.low);
    widen(r.high);
  }
  if (plot.prediction) {
    widen(plot.prediction->first);
    widen(plot.prediction->second);
  }
  // A CI spanning many decades (a sparse cell) would squeeze every other
  // row to a point: the axis stops three decades beyond the estimates and
  // the whisker ends in an arrow.
  if (plot.log_scale) {
    lo = std::max(lo, est_lo / 1000);
    hi = std::min(hi, est_hi * 1000);
  } else {
    const double span = std::max(est_hi - est_lo, 1e-12);
    lo = std::max(lo, est_lo - 20 * span);
    hi = std::min(hi, est_hi + 20 * span);
  }
  auto transform = [&](double v) { return plot.log_scale ? std::log(v) : v; };
  double tlo = transform(lo), thi = transform(hi);
  if (thi - tlo < 1e-9) {
    tlo -= plot.log_scale ? std::log(2.0) : 1;
    thi += plot.log_scale ? std::log(2.0) : 1;
  }
  const double pad = (thi - tlo) * 0.05;
  tlo -= pad;
  thi += pad;

  // --- columns ---
  std::size_t longest = Length(plot.label_header);
  for (const ForestRow& r : plot.rows) longest = std::max(longest, Length(r.label) + (r.indent > 0 ? 2 : 0));
  if (plot.prediction) longest = std::max<std::size_t>(longest, 19);
  const double label_width = std::clamp(static_cast<double>(longest) * kTextWidth, kMinLabelWidth, kMaxLabelWidth);
  const double plot_x = kMargin + label_width + kGap;
  auto x_of = [&](double v) {
    const double t = std::clamp(transform(v), tlo, thi);
    return plot_x + (t - tlo) / (thi - tlo) * kPlotWidth;
  };
  const double estimate_x = plot_x + kPlotWidth + kGap;
  std::size_t estimate_chars = Length(plot.estimate_header);
  for (const ForestRow& r : plot.rows) estimate_chars = std::max(estimate_chars, Length(EstimateText(r, plot.digits, plot.log_scale)));
  std::string prediction_text;
  if (plot.prediction) {
    prediction_text = fmt::format("({} to {})", PlotNumber(plot.prediction->first, plot.digits, plot.log_scale),
                                  PlotNumber(plot.prediction->second, plot.digits, plot.log_scale));
    estimate_chars = std::max(estimate_chars, Length(prediction_text));
  }
  double x = estimate_x + static_cast<double>(estimate_chars) * kNumberWidth;
  std::vector<double> column_right;  // right-aligned columns
  for (std::size_t c = 0; c < plot.columns.size(); ++c) {
    std::size_t chars = Length(plot.columns[c]);
    for (const ForestRow& r : plot.rows) {
      if (c < r.cells.size()) chars = std::max(chars, Length(r.cells[c]));
    }
    x += kGap + static_cast<double>(chars) * kNumberWidth;
    column_right.push_back(x);
  }
  double p_right = 0;
  if (plot.show_p) {
    x += kGap + 6 * kNumberWidth;
    p_right = x;
  }
  const double width = std::ceil(x + kMargin);

  // --- rows: heights from the wrapped labels ---
  const auto label_chars = static_cast<std::size_t>(label_width / kTextWidth);
  std::vector<std::vector<std::string>> labels;
  double rows_height = 0;
  for (const ForestRow& r : plot.rows) {
    labels.push_back(WrapText(r.label, label_chars - (r.indent > 0 ? 2 : 0), 2));
    rows_height += kRowHeight + static_cast<double>(labels.back().size() - 1) * kLineHeight;
  }
  if (plot.prediction) rows_height += kRowHeight;
  const double title_chars = (width - 2 * kMargin) / (kTextWidth * 18 / 14);
  const std::vector<std::string> title = WrapText(plot.title, static_cast<std::size_t>(title_chars), 2);
  const double header_y = 36 + static_cast<double>(title.size()) * 22;
  const double rows_top = header_y + 10;
  const double plot_bottom = rows_top + rows_height + 6;
  const auto note_chars = static_cast<std::size_t>((width - 2 * kMargin) / 6.4);
  std::vector<std::string> notes;
  for (const std::string& n : plot.notes) {
    for (std::string& line : WrapText(n, note_chars, 3)) notes.push_back(std::move(line));
  }
  const double axis_title_y = plot_bottom + 42;
  const double favours_y = axis_title_y + (plot.favours ? 20 : 0);
  const double notes_y = favours_y + 26;
  const double height = std::ceil(notes_y + static_cast<double>(notes.size()) * 18 + 4);

  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"14\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  for (std::size_t i = 0; i < title.size(); ++i) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"18\" font-weight=\"bold\">{}</text>\n", kMargin,
                       32 + static_cast<double>(i) * 22, XmlEscape(title[i]));
  }
  // header row
  svg += fmt::format("<g font-weight=\"bold\">\n<text x=\"{}\" y=\"{}\">{}</text>\n", kMargin, header_y,
                     XmlEscape(plot.label_header));
  svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", estimate_x, header_y, XmlEscape(plot.estimate_header));
  for (std::size_t c = 0; c < plot.columns.size(); ++c) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", column_right[c], header_y,
                       XmlEscape(plot.columns[c]));
  }
  if (plot.show_p) svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">p</text>\n", p_right, header_y);
  svg += "</g>\n";
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\n", kMargin, rows_top - 2,
                     width - kMargin, rows_top - 2);
  // reference line
  const double ref_x = x_of(plot.reference);
  svg += fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#888\" stroke-dasharray=\"4,4\"/>\n", ref_x,
      rows_top, plot_bottom);
  double max_weight = 0;
  for (const ForestRow& r : plot.rows) {
    if (std::isfinite(r.weight)) max_weight = std::max(max_weight, r.weight);
  }
  double y = rows_top;
  for (std::size_t i = 0; i < plot.rows.size(); ++i) {
    const ForestRow& r = plot.rows[i];
    const double row_height = kRowHeight + static_cast<double>(labels[i].size() - 1) * kLineHeight;
    const double cy = y + kRowHeight / 2;  // the marker and numbers align with the first label line
    const double label_x = kMargin + (r.indent > 0 ? 16 : 0);
    const char* weight = r.header || r.summary ? " font-weight=\"bold\"" : "";
    for (std::size_t l = 0; l < labels[i].size(); ++l) {
      svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\"{}>{}</text>\n", label_x,
                         cy + 5 + static_cast<double>(l) * kLineHeight, weight, XmlEscape(labels[i][l]));
    }
    const std::string estimate = EstimateText(r, plot.digits, plot.log_scale);
    const bool plain = r.reference || !std::isfinite(r.estimate);
    if (!estimate.empty()) {
      svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\"{}>{}</text>\n", estimate_x, cy + 5,
                         plain ? " fill=\"#666\"" : weight, XmlEscape(estimate));
    }
    for (std::size_t c = 0; c < plot.columns.size() && c < r.cells.size(); ++c) {
      svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", column_right[c], cy + 5,
                         XmlEscape(r.cells[c]));
    }
    if (plot.show_p && !std::isnan(r.p_value)) {
      svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", p_right, cy + 5,
                         XmlEscape(PText(r.p_value)));
    }
    if (!r.header && !r.reference && usable(r.estimate)) {
      if (r.summary) {
        const double l = usable(r.low) ? x_of(r.low) : x_of(r.estimate) - 4;
        const double h = usable(r.high) ? x_of(r.high) : x_of(r.estimate) + 4;
        svg += fmt::format(
            "<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"#1f4e79\"/>\n", l, cy,
            x_of(r.estimate), cy - 8, h, cy, x_of(r.estimate), cy + 8);
      } else {
        const bool left_clipped = (std::isinf(r.low) && r.low < 0) || (usable(r.low) && transform(r.low) < tlo);
        const bool right_clipped = (std::isinf(r.high) && r.high > 0) || (usable(r.high) && transform(r.high) > thi);
        const double l = left_clipped ? plot_x : usable(r.low) ? x_of(r.low) : x_of(r.estimate);
        const double h = right_clipped ? plot_x + kPlotWidth : usable(r.high) ? x_of(r.high) : x_of(r.estimate);
        if (h > l) {
          svg += fmt::format(
              "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\" stroke-width=\"1.5\"/>\n",
              l, cy, h, cy);
        }
        if (left_clipped) {  // an arrow where the CI leaves the axis
          svg += fmt::format("<polygon points=\"{0:.1f},{1:.1f} {2:.1f},{3:.1f} {2:.1f},{4:.1f}\"/>\n", plot_x, cy,
                             plot_x + 7, cy - 4, cy + 4);
        }
        if (right_clipped) {
          svg += fmt::format("<polygon points=\"{0:.1f},{1:.1f} {2:.1f},{3:.1f} {2:.1f},{4:.1f}\"/>\n",
                             plot_x + kPlotWidth, cy, plot_x + kPlotWidth - 7, cy - 4, cy + 4);
        }
        double size = 8;
        if (max_weight > 0 && std::isfinite(r.weight)) size = 4 + 10 * std::sqrt(r.weight / max_weight);
        svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#1f4e79\"/>\n",
                           x_of(r.estimate) - size / 2, cy - size / 2, size, size);
      }
    }
    y += row_height;
  }
  if (plot.prediction) {
    const double cy = y + kRowHeight / 2;
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"#555\">Prediction interval</text>\n", kMargin, cy + 5);
    if (usable(plot.prediction->first) && usable(plot.prediction->second)) {
      svg += fmt::format(
          "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#b22222\" stroke-width=\"3\"/>\n",
          x_of(plot.prediction->first), cy, x_of(plot.prediction->second), cy);
    }
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"#555\">{}</text>\n", estimate_x, cy + 5,
                       XmlEscape(prediction_text));
  }
  // --- axis ---
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", plot_x, plot_bottom,
                     plot_x + kPlotWidth, plot_bottom);
  const double tick_lo = plot.log_scale ? std::exp(tlo) : tlo;
  const double tick_hi = plot.log_scale ? std::exp(thi) : thi;
  std::vector<Tick> shown;
  double last_x = -1e9;
  for (const Tick& t : Ticks(tick_lo, tick_hi, plot.log_scale)) {  // at least kMinTickSpacing apart, always the reference
    const double tx = x_of(t.value);
    if (tx - last_x >= kMinTickSpacing) {
      shown.push_back(t);
      last_x = tx;
    } else if (std::fabs(t.value - plot.reference) < 1e-12) {
      shown.back() = t;
      last_x = tx;
    }
  }
  for (const Tick& t : shown) {
    const double tx = x_of(t.value);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"black\"/>\n", tx,
                       plot_bottom, plot_bottom + 5);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n", tx,
                       plot_bottom + 20, t.label);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", plot_x + kPlotWidth / 2,
                     axis_title_y, XmlEscape(plot.x_label + (plot.log_scale ? ", log scale" : "")));
  if (plot.favours) {
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"end\" font-size=\"13\" fill=\"#333\">\u2190 {}</text>\n",
        ref_x - 8, favours_y, XmlEscape(plot.favours->first));
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"13\" fill=\"#333\">{} \u2192</text>\n", ref_x + 8,
                       favours_y, XmlEscape(plot.favours->second));
  }
  for (std::size_t i = 0; i < notes.size(); ++i) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#444\">{}</text>\n", kMargin,
                       notes_y + static_cast<double>(i) * 18, XmlEscape(notes[i]));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace cohortdb::analysis
