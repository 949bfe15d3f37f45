#pragma once
// A forest plot as a standalone SVG document: one row per term, stratum or
// study (label on the left, estimate with its CI as a square and whiskers,
// the numbers on the right), summary rows as diamonds, an optional
// prediction interval, an x axis with ticks (log scale for odds ratios) and a
// dashed reference line (1 for ratios, 0 otherwise). Pure function.

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cohortdb::analysis {

struct ForestRow {
  std::string label;
  double estimate = std::numeric_limits<double>::quiet_NaN();
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
  double weight = std::numeric_limits<double>::quiet_NaN();  // square size (relative); NaN: fixed size
  bool summary = false;                                      // drawn as a diamond
  bool header = false;                                       // a group heading (label only, bold)
  std::string note;  // shown instead of numbers when the row is not estimable
};

struct ForestPlot {
  std::string title;
  std::string x_label;
  std::string label_header;  // heading of the label column ("Term", "Study")
  bool log_scale = false;
  double reference = 0;
  std::vector<ForestRow> rows;
  std::optional<std::pair<double, double>> prediction;  // drawn under the last summary row
  std::string footnote;
};

// For the rows of a --by analysis: adds a heading row for "stratum"
// ("Overall" for the overall one) when it differs from "current", the
// stratum of the rows added before, and makes it current.
void AddStratumHeading(ForestPlot& plot, std::optional<std::string>& current, const std::string& stratum);

// The SVG text. Rows with NaN estimates are listed with their note.
std::string RenderForestPlotSvg(const ForestPlot& plot);

// Escapes &, <, >, " for XML text and attributes.
std::string XmlEscape(const std::string& text);

}  // namespace cohortdb::analysis
