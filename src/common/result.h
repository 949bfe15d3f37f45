#pragma once
// The output of one analysis: tidy rows as R's broom prints them, a model
// summary and diagnostics. Produced by src/analysis, persisted by src/store
// (tables analysis_run and analysis_result), printed by src/cli.

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cohortdb {

// One row of a result. "section" groups rows of one kind ("coefficients",
// "odds_ratios", "table1", "prevalence", "studies", "pooled", "tests", ...);
// "stratum" is empty for the overall analysis and "var=level" under --by.
// Doubles are NaN when not applicable; "extra" holds analysis-specific
// columns as a JSON object (e.g. {"odds_ratio": 1.22, "df": 40}).
//
// Labels (as broom.helpers' tidy_plus_plus names them; filled from the
// catalog by the analyses): "label" is what a person reads for the term -- the
// level's label for a level of a categorical variable ("Male"), the
// variable's label otherwise ("Age (years)"), both parts joined by " * " for
// an interaction; empty means "use term". Model rows also carry, in extra,
// "variable" (the variable's code), "var_label" (its label), "var_type"
// ("intercept", "continuous", "dichotomous", "categorical", "interaction")
// and, for a categorical variable's reference level, a row of its own with
// "reference_row": true and NaN numbers.
struct ResultRow {
  std::string section;
  std::string stratum;
  std::string term;
  std::string label;
  double estimate = std::numeric_limits<double>::quiet_NaN();
  double std_error = std::numeric_limits<double>::quiet_NaN();
  double statistic = std::numeric_limits<double>::quiet_NaN();
  double p_value = std::numeric_limits<double>::quiet_NaN();
  double conf_low = std::numeric_limits<double>::quiet_NaN();
  double conf_high = std::numeric_limits<double>::quiet_NaN();
  std::optional<std::int64_t> n;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

struct AnalysisResultSet {
  std::string command;                  // "regress", "logistic", ...
  nlohmann::ordered_json parameters;    // the request, normalised (object)
  std::vector<ResultRow> rows;
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();      // nobs, loglik, AIC, R2, ...
  nlohmann::ordered_json diagnostics = nlohmann::ordered_json::object();  // convergence, separation, exclusions
  std::int64_t rows_used = 0;
  std::int64_t rows_excluded = 0;
  std::optional<std::int64_t> min_cell;  // disclosure control applied, if any
  std::string plot_svg;                  // a forest plot when one was asked for
  // Draws plot_svg from the finished result: analysis::RunAnalysis calls it
  // once the rows carry their labels (and again on a copy without labels
  // under --codes). Empty when the analysis draws no model plot.
  std::function<std::string(const AnalysisResultSet&)> plot_renderer;
};

}  // namespace cohortdb
