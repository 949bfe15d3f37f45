// prevalence: a binary outcome by the levels of a category: n, cases and
// percent per level, the chi-square test of independence (R: chisq.test of
// the 2 x k table, Yates for 2 x 2) and, for more than two ordered levels, the
// chi-square test for trend with scores 1..k, the levels' places in their
// order (R: prop.trend.test).
#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/chi_square.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

AnalysisResultSet RunPrevalence(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  Frame frame = LoadFrame(store, options);
  const std::string outcome = options.RequiredString("outcome");
  const std::string category = options.RequiredString("category");
  const std::string by = ByOption(options);
  const auto min_cell = MinCellOption(options);
  std::vector<std::string> needed = {outcome};
  AppendUnique(needed, {category, by});
  for (const auto& v : needed) frame.Require(v, v == outcome ? "outcome" : "category");
  Sample sample = CompleteCases(frame, needed);
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  std::int64_t suppressed = 0;
  std::string event;
  BinaryOutcome(sample.frame, outcome, &event);
  for (Stratum& s : Strata(sample.frame, by)) {
    const Eigen::VectorXd y = BinaryOutcome(s.frame, outcome);
    const Column& c = s.frame.AsCategorical(category, "category");
    std::vector<double> cases(c.levels.size(), 0), totals(c.levels.size(), 0);
    for (std::size_t i = 0; i < c.codes.size(); ++i) {
      const auto l = c.codes[i];
      totals[static_cast<std::size_t>(l)] += 1;
      cases[static_cast<std::size_t>(l)] += y(static_cast<Eigen::Index>(i));
    }
    // Levels without rows leave the tests, but the trend keeps every level's
    // place in the order as its score (prop.trend.test on the table shown).
    std::vector<double> kept_cases, kept_totals, kept_scores;
    for (std::size_t l = 0; l < c.levels.size(); ++l) {
      ResultRow row;
      row.section = "prevalence";
      row.stratum = s.label;
      row.term = category + "=" + c.levels[l];
      row.n = static_cast<std::int64_t>(totals[l]);
      row.estimate = totals[l] > 0 ? 100.0 * cases[l] / totals[l] : std::nan("");
      row.extra["level"] = c.levels[l];
      row.extra["n"] = static_cast<std::int64_t>(totals[l]);
      row.extra["cases"] = static_cast<std::int64_t>(cases[l]);
      row.extra["percent"] = row.estimate;
      const auto small_cases = static_cast<std::int64_t>(cases[l]);
      const auto small_rest = static_cast<std::int64_t>(totals[l] - cases[l]);
      const auto smallest =
          (small_cases > 0 && (small_rest <= 0 || small_cases < small_rest)) ? small_cases : small_rest;
      if (SuppressSmallCount(smallest, min_cell, row.extra, row.n, row.estimate, {"cases", "percent", "n"})) {
        ++suppressed;
      }
      result.rows.push_back(std::move(row));
      if (totals[l] > 0) {
        kept_cases.push_back(cases[l]);
        kept_totals.push_back(totals[l]);
        kept_scores.push_back(static_cast<double>(l + 1));
      }
    }
    ResultRow chi;
    chi.section = "tests";
    chi.stratum = s.label;
    chi.term = fmt::format("{} by {}", outcome, category);
    chi.n = static_cast<std::int64_t>(s.frame.rows());
    try {
      Eigen::MatrixXd table(2, static_cast<Eigen::Index>(kept_cases.size()));
      for (std::size_t l = 0; l < kept_cases.size(); ++l) {
        table(0, static_cast<Eigen::Index>(l)) = kept_cases[l];
        table(1, static_cast<Eigen::Index>(l)) = kept_totals[l] - kept_cases[l];
      }
      const auto r = stats::ChiSquareIndependence(table, true);
      chi.statistic = r.statistic;
      chi.p_value = r.p_value;
      chi.extra["test"] = r.yates ? "chi-square (Yates)" : "chi-square";
      chi.extra["df"] = r.df;
      if (r.small_expected) chi.extra["note"] = kSmallExpectedNote;
    } catch (const NumericalError& e) {
      chi.extra["test"] = "chi-square";
      chi.extra["note"] = e.what();
    }
    result.rows.push_back(std::move(chi));
    if (kept_cases.size() > 2) {
      ResultRow trend;
      trend.section = "tests";
      trend.stratum = s.label;
      trend.term = fmt::format("{} trend over {}", outcome, category);
      trend.n = static_cast<std::int64_t>(s.frame.rows());
      trend.extra["test"] = "chi-square for trend";
      try {
        const auto r = stats::ChiSquareTrend(kept_cases, kept_totals, kept_scores);
        trend.statistic = r.statistic;
        trend.p_value = r.p_value;
        trend.extra["df"] = r.df;
        if (kept_scores.size() < c.levels.size()) trend.extra["scores"] = kept_scores;
      } catch (const NumericalError& e) {
        trend.extra["note"] = e.what();
      }
      result.rows.push_back(std::move(trend));
    }
  }
  if (min_cell && !by.empty()) {
    // A level's cases (and non-cases) add up over the by-strata to the
    // overall row.
    const auto lines = LinesByKey(result.rows, [](const ResultRow& r) {
      return r.section == "prevalence" ? r.extra["level"].get<std::string>() : std::string();
    });
    suppressed += SuppressComplements(
        result.rows, lines, [](const ResultRow& r) { return r.extra["n"].get<std::int64_t>(); },
        {"cases", "percent", "n"});
  }
  result.summary["nobs"] = sample.used;
  result.summary["outcome"] = outcome;
  result.summary["event"] = event;
  if (min_cell) result.diagnostics["suppressed_cells"] = suppressed;
  return result;
}

}  // namespace

AnalysisSpec PrevalenceAnalysis() {
  return {"prevalence",
          "Prevalence of a binary outcome by category, chi-square and trend tests",
          "cohortdb prevalence demo-output/demo.cohortdb --study cohort --outcome cbp --cut met_min_week=500,5000 "
          "--category met_min_week_cat",
          {{"outcome", OptionType::kString,
            "Binary outcome (0/1 or two levels; a threshold like pain_nrs>=4)", true},
           {"category", OptionType::kString, "Categories (rows), in level order for the trend test", true}},
          RunPrevalence};
}

}  // namespace cohortdb::analysis
