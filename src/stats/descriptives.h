#pragma once
// Descriptive statistics for one variable, as a paper's "Table 1" reports them
// and as R computes them: mean, sample SD, median and quartiles by R's quantile
// type 7, counts and percentages of categories, and the standardised mean
// difference between two groups as tableone::CreateTableOne reports it.
// Missing values are NaN (numeric) or std::nullopt (categorical); they are
// counted, never used. Pure functions, thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "stats/tidy.h"

namespace cohortdb::stats {

// Numeric summary. With n == 0 every statistic is NaN; with n == 1 the SD is
// NaN (as R's sd()); the rest is defined.
struct NumericSummary {
  std::size_t n = 0;        // non-missing values used
  std::size_t missing = 0;  // NaN values skipped
  double mean = kNaN;
  double sd = kNaN;  // sample SD, denominator n - 1
  double min = kNaN;
  double q1 = kNaN;      // 25th percentile, type 7
  double median = kNaN;  // 50th percentile, type 7
  double q3 = kNaN;      // 75th percentile, type 7
  double max = kNaN;
};

// Summarises x, skipping NaN. Never throws on data (an all-missing column gives
// n = 0 and NaN statistics).
NumericSummary Describe(const std::vector<double>& x);

// The p-th quantile of x by R's default rule (quantile(x, p, type = 7,
// na.rm = TRUE)): h = (n - 1) p, linear interpolation between the order
// statistics floor(h) and floor(h) + 1. NaN values are skipped.
// Throws NumericalError if p is outside [0, 1] or x has no non-missing value.
double Quantile(std::vector<double> x, double p);

// Same as Quantile for data already sorted ascending and free of NaN (the
// caller's promise; not checked). Throws NumericalError on empty input or p
// outside [0, 1].
double QuantileSorted(const std::vector<double>& sorted, double p);

// One category with its count and its percentage of the non-missing values.
struct LevelCount {
  std::string level;
  std::size_t count = 0;
  double percent = kNaN;  // 100 * count / n; NaN when n == 0
};

struct CategoricalSummary {
  std::size_t n = 0;        // non-missing values
  std::size_t missing = 0;  // std::nullopt values
  std::vector<LevelCount> levels;
};

// Counts categories. Levels are reported in level_order when given (levels
// with zero count included; a value not in level_order throws NumericalError
// naming it), else in ascending byte order as R's factor() sorts them.
CategoricalSummary CountLevels(const std::vector<std::optional<std::string>>& x,
                               const std::vector<std::string>& level_order = {});

// Standardised mean difference of a continuous variable between two groups as
// tableone computes it: (mean1 - mean2) / sqrt((sd1^2 + sd2^2) / 2). NaN are
// skipped. Signed; tableone prints the absolute value. Throws NumericalError
// when a group has fewer than two values; returns NaN when both SDs are zero.
double StandardisedMeanDifference(const std::vector<double>& group1,
                                  const std::vector<double>& group2);

// Standardised difference of two proportions (binary variable) as tableone:
// (p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2). Signed. Throws
// NumericalError if a proportion is outside [0, 1]; NaN when both are 0 or 1.
double StandardisedProportionDifference(double p1, double p2);

// Standardised difference of a categorical variable between two groups as
// tableone computes it (Yang and Dalton 2012): with p1, p2 the proportions of
// every level (same order, each summing to 1), T the differences without the
// first level and S the mean of the two multinomial covariance matrices,
// sqrt(T' S^+ T), S^+ the Moore-Penrose inverse (MASS::ginv's tolerance), so
// levels empty in both groups do no harm. Non-negative; for two levels it is
// |StandardisedProportionDifference|. Throws NumericalError if the lengths
// differ, fewer than two levels are given or a proportion is outside [0, 1].
double StandardisedCategoricalDifference(const std::vector<double>& p1, const std::vector<double>& p2);

}  // namespace cohortdb::stats
