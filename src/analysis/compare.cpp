// compare: a continuous variable between the two levels of a group, by
// Student's t, Welch's t and the Wilcoxon rank-sum test, as R's t.test(x, y,
// var.equal = TRUE), t.test(x, y) and wilcox.test(x, y, exact = FALSE). The
// difference is first level minus second level. Rows need the group (and
// --by); each variable uses the rows that hold it.
#include <cmath>

#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/t_test.h"
#include "stats/wilcoxon.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

AnalysisResultSet RunCompare(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  Frame frame = LoadFrame(store, options);
  const auto vars = options.List("vars");
  const std::string group = options.RequiredString("group");
  std::vector<std::string> tests = options.List("test");
  if (tests.empty()) tests = {"t", "welch", "wilcoxon"};  // values checked by ValidateRequest
  const std::string by = ByOption(options);
  const auto min_cell = MinCellOption(options);
  for (const auto& v : vars) frame.Require(v, "vars");
  std::vector<std::string> needed = {group};
  AppendUnique(needed, {by});
  frame.Require(group, "group");
  // Rows need the group (and --by); each variable then uses the rows that
  // hold it, as t.test(x ~ g) does for one variable at a time.
  Sample sample = CompleteCases(frame, needed);
  AnalysisResultSet result = NewResultSet(request);
  std::vector<std::vector<std::string>> per_test;
  for (const auto& v : vars) per_test.push_back({v});
  RecordTestwiseSample(result, sample, per_test);
  std::int64_t suppressed = 0;
  for (Stratum& s : Strata(sample.frame, by)) {
    const Column& g = s.frame.AsCategorical(group, "group");
    if (g.levels.size() != 2) {
      throw InputError(fmt::format("--group: '{}' must have exactly two levels to compare, found {}", group,
                                   g.levels.size()));
    }
    for (const auto& var : vars) {
      const auto values = NumericValues(s.frame, var, "vars");
      const Column& gc = s.frame.Get(group);
      std::vector<double> a, b;
      std::int64_t missing = 0;
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (std::isnan(values[i])) {
          ++missing;
          continue;
        }
        (gc.codes[i] == 0 ? a : b).push_back(values[i]);
      }
      for (const auto& t : tests) {
        ResultRow row;
        row.section = "tests";
        row.stratum = s.label;
        row.term = var;
        row.n = static_cast<std::int64_t>(a.size() + b.size());
        row.extra["test"] = t == "t" ? "Student t" : t == "welch" ? "Welch t" : "Wilcoxon rank-sum";
        row.extra["group1"] = gc.levels[0];
        row.extra["group2"] = gc.levels[1];
        row.extra["n1"] = a.size();
        row.extra["n2"] = b.size();
        row.extra["missing"] = missing;
        try {
          if (t == "wilcoxon") {
            const auto w = stats::WilcoxonRankSumTest(a, b);
            row.statistic = w.statistic;
            row.p_value = w.p_value;
            row.extra["z"] = w.z;
          } else {
            const auto r = t == "t" ? stats::StudentTTest(a, b) : stats::WelchTTest(a, b);
            row.estimate = r.estimate;
            row.std_error = r.std_error;
            row.statistic = r.statistic;
            row.p_value = r.p_value;
            row.conf_low = r.conf_low;
            row.conf_high = r.conf_high;
            row.extra["mean1"] = r.mean_x;
            row.extra["mean2"] = r.mean_y;
            row.extra["df"] = r.df;
          }
        } catch (const NumericalError& e) {
          row.extra["note"] = e.what();
        }
        if (min_cell && (static_cast<std::int64_t>(a.size()) < *min_cell ||
                         static_cast<std::int64_t>(b.size()) < *min_cell)) {
          // The smaller group that has rows (an empty group discloses no one);
          // the missing count goes too, as n would follow from it, and the
          // group means (the mean of one person is that person's value).
          double ignored = 0;
          const auto n1 = static_cast<std::int64_t>(a.size()), n2 = static_cast<std::int64_t>(b.size());
          const std::int64_t small = n1 == 0 ? n2 : n2 == 0 ? n1 : std::min(n1, n2);
          if (SuppressSmallCount(small, min_cell, row.extra, row.n, ignored, {"n1", "n2", "missing", "mean1", "mean2"})) ++suppressed;
        }
        result.rows.push_back(std::move(row));
      }
    }
  }
  result.summary["nobs"] = result.rows_used;
  result.summary["group"] = group;
  {
    const Column& g = sample.frame.AsCategorical(group, "group");
    if (g.levels.size() == 2) {
      // t.test(y ~ g) subtracts the second level from the first.
      result.summary["difference"] = fmt::format("{} minus {}", g.levels[0], g.levels[1]);
    }
  }
  if (min_cell) result.diagnostics["suppressed_cells"] = suppressed;
  return result;
}

}  // namespace

AnalysisSpec CompareAnalysis() {
  return {"compare",
          "Two groups compared: Student t, Welch t and Wilcoxon rank-sum",
          "cohortdb compare demo-output/demo.cohortdb --study trial --vars pain_change --group arm "
          "--derive \"pain_change=change(pain_nrs, baseline, week12)\"",
          {{"vars", OptionType::kStringList, "Continuous variables to compare", true},
           {"group", OptionType::kString, "Variable with exactly two levels", true},
           {"test", OptionType::kStringList, "t | welch | wilcoxon (default: all three)", false,
            {"t", "welch", "wilcoxon"}}},
          RunCompare};
}

}  // namespace cohortdb::analysis
