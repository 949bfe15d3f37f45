// correlate: every x by every y, Pearson (r, t test, Fisher-z CI) or Spearman
// (rho, asymptotic t p-value), as R's cor.test; p-values adjusted over the
// whole x-by-y grid of a stratum with Holm or Benjamini-Hochberg (p.adjust).
// Each pair uses the rows that hold both values (pairwise, as cor.test on
// that pair); rows without --by are left out.
#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/correlation.h"
#include "stats/p_adjust.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

AnalysisResultSet RunCorrelate(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  Frame frame = LoadFrame(store, options);
  const auto xs = options.List("x");
  const auto ys = options.List("y");
  const std::string method = options.StringOr("method", "pearson");  // values checked by ValidateRequest
  const std::string adjust = options.StringOr("adjust", "none");
  const std::string by = ByOption(options);
  for (const auto& v : xs) frame.Require(v, "x");
  for (const auto& v : ys) frame.Require(v, "y");
  // Rows need --by; each pair then uses the rows that hold both values, as
  // cor.test(x, y) does for one pair at a time.
  std::vector<std::string> needed;
  AppendUnique(needed, {by});
  Sample sample = CompleteCases(frame, needed);
  AnalysisResultSet result = NewResultSet(request);
  std::vector<std::vector<std::string>> per_test;
  for (const auto& x : xs) {
    for (const auto& y : ys) per_test.push_back({x, y});
  }
  RecordTestwiseSample(result, sample, per_test);
  for (Stratum& s : Strata(sample.frame, by)) {
    const std::size_t first = result.rows.size();
    std::vector<double> p;
    for (const auto& x : xs) {
      for (const auto& y : ys) {
        const auto xv = NumericValues(s.frame, x, "x");
        const auto yv = NumericValues(s.frame, y, "y");
        ResultRow row;
        row.section = "correlations";
        row.stratum = s.label;
        row.term = x + " ~ " + y;
        row.extra["x"] = x;
        row.extra["y"] = y;
        row.extra["method"] = method;
        try {
          const auto c = method == "pearson" ? stats::PearsonCorrelation(xv, yv, x, y)
                                             : stats::SpearmanCorrelation(xv, yv, x, y);
          row.estimate = c.estimate;
          row.statistic = c.statistic;
          row.p_value = c.p_value;
          row.conf_low = c.conf_low;
          row.conf_high = c.conf_high;
          row.n = static_cast<std::int64_t>(c.n);
          row.extra["df"] = c.df;
          if (!c.note.empty()) row.extra["note"] = c.note;
        } catch (const NumericalError& e) {
          row.extra["note"] = e.what();
        }
        p.push_back(row.p_value);
        result.rows.push_back(std::move(row));
      }
    }
    if (adjust != "none") {
      const auto adjusted = adjust == "holm" ? stats::AdjustHolm(p) : stats::AdjustBenjaminiHochberg(p);
      for (std::size_t i = 0; i < adjusted.size(); ++i)
        result.rows[first + i].extra["p_adjusted"] = adjusted[i];
    }
  }
  result.summary["nobs"] = result.rows_used;
  result.summary["method"] = method;
  result.summary["adjust"] = adjust;
  return result;
}

}  // namespace

AnalysisSpec CorrelateAnalysis() {
  return {
      "correlate",
      "Correlations of every x with every y (Pearson or Spearman) with adjusted p-values",
      "cohortdb correlate demo-output/demo.cohortdb --study trial --derive \"il6_change=change(il6, baseline, week12)\" "
      "--derive \"pain_change=change(pain_nrs, baseline, week12)\" --x il6_change --y pain_change",
      {{"x", OptionType::kStringList, "Variables of the rows", true},
       {"y", OptionType::kStringList, "Variables of the columns", true},
       {"method", OptionType::kString, "pearson (default) | spearman", false, {"pearson", "spearman"}},
       {"adjust", OptionType::kString, "p-value adjustment over the grid: none (default) | holm | BH", false,
        {"holm", "BH", "none"}}},
      RunCorrelate};
}

}  // namespace cohortdb::analysis
