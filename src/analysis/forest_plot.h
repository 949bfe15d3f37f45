#pragma once
// A forest plot as a standalone SVG document, laid out as a table: a header
// row naming the columns, then one row per term, level, stratum or study --
// the label on the left (wrapped onto two lines, then cut with an ellipsis,
// never over the numbers), the estimate with its CI as a square and whiskers
// (an arrow where the CI leaves the axis), the estimate and CI as one text
// ("0.80 (0.75 to 0.86)"), extra columns (n, events, weight) and the p-value.
// Heading rows (a variable, a subgroup) are bold, reference rows say
// "Reference", summary rows are diamonds, an optional prediction interval is
// drawn under the last summary row. Under the axis (log scale for ratios,
// with a dashed reference line at 1 or 0): its title, optional "favours"
// labels either side of the reference line and notes (heterogeneity, n).
// Text is XML-escaped and kept valid UTF-8. Pure functions.

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
  double p_value = std::numeric_limits<double>::quiet_NaN();  // NaN: blank p cell
  double weight = std::numeric_limits<double>::quiet_NaN();   // square size (relative); NaN: fixed size
  std::vector<std::string> cells;  // the extra columns' texts, in ForestPlot::columns order
  bool summary = false;            // drawn as a diamond
  bool header = false;             // a heading (label only, bold; cells and p may be set)
  bool reference = false;          // a reference level: "Reference", no marker
  int indent = 0;                  // levels under a heading: 1
  std::string note;                // shown instead of numbers when the row is not estimable
};

struct ForestPlot {
  std::string title;
  std::string x_label;          // "Odds ratio (95% CI)"; ", log scale" is appended for a log axis
  std::string label_header;     // heading of the label column ("Term", "Study")
  std::string estimate_header;  // heading of the estimate column ("OR (95% CI)")
  std::vector<std::string> columns;  // headings of extra columns ("n", "Events", "Weight")
  bool show_p = true;                // a p column
  bool log_scale = false;
  double reference = 0;
  int digits = 2;  // decimals of the estimate column
  std::vector<ForestRow> rows;
  std::optional<std::pair<double, double>> prediction;  // drawn under the last row
  std::optional<std::pair<std::string, std::string>> favours;  // under the axis: left, right of the reference
  std::vector<std::string> notes;                              // lines under the axis
};

// The SVG text. Rows with NaN estimates are listed with their note ("not
// estimable" when none).
std::string RenderForestPlotSvg(const ForestPlot& plot);

// An estimate and its CI as the plots print them, in the tables' CI style
// (FormatEstimateCi): "0.80 (0.75 to 0.86)";
// "0.80" without a CI; "NA" for NaN. Values of 10^5 and more in scientific
// notation ("1.23e+06"); ratios of 100 and more without decimals, ratios that
// would round to 0 with two significant digits ("0.0012"); never "-0.00".
std::string PlotEstimateCi(double estimate, double low, double high, int digits, bool ratio);

// Escapes &, <, >, " for XML text and attributes; replaces control
// characters by spaces and invalid UTF-8 by U+FFFD, so the document stays
// well-formed whatever a label holds.
std::string XmlEscape(const std::string& text);

// "text" in at most "max_lines" lines of at most "width" characters (UTF-8
// code points), broken at spaces; a word longer than a line, or text left
// over, is cut and ends with an ellipsis.
std::vector<std::string> WrapText(const std::string& text, std::size_t width, std::size_t max_lines);

}  // namespace cohortdb::analysis
