#pragma once
// Chi-square tests on contingency tables of counts: independence in an r x c
// table as R's chisq.test(table) (Yates' continuity correction for 2 x 2, as
// R's default correct = TRUE), and the test for trend in proportions across
// ordered groups as R's prop.trend.test. Pure functions, thread-safe.

#include <vector>

#include <Eigen/Dense>

#include "stats/tidy.h"

namespace cohortdb::stats {

struct ChiSquareResult {
  double statistic = kNaN;  // X-squared
  double df = kNaN;
  double p_value = kNaN;
  bool yates = false;       // continuity correction applied
  Eigen::MatrixXd expected; // expected counts under independence (empty for trend)
  // Some expected count is below 5, where R's chisq.test warns "Chi-squared
  // approximation may be incorrect" (independence only).
  bool small_expected = false;
};

// counts: r x c table of non-negative counts, r, c >= 2. correct: apply Yates'
// correction to 2 x 2 tables (R: min(0.5, |O - E|) subtracted from |O - E|).
// Throws NumericalError for a table smaller than 2 x 2, a negative or NaN
// count, or a row or column summing to zero (named by index, 1-based).
ChiSquareResult ChiSquareIndependence(const Eigen::MatrixXd& counts, bool correct = true);

// Chi-square test for trend (1 df): events[i] out of totals[i] in group i with
// score scores[i] (R: prop.trend.test(events, totals, scores); default scores
// 1..k when scores is empty). Throws NumericalError on length mismatch, fewer
// than 2 groups, a total <= 0, events outside [0, total], or an overall
// proportion of 0 or 1.
ChiSquareResult ChiSquareTrend(const std::vector<double>& events, const std::vector<double>& totals,
                               std::vector<double> scores = {});

}  // namespace cohortdb::stats
