#pragma once
// Pearson and Spearman correlation with their tests, as R's cor.test
// (two-sided). Pairs where either value is NaN are dropped; the number of
// complete pairs used is reported. Pure functions, thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "stats/tidy.h"

namespace cohortdb::stats {

struct CorrelationResult {
  std::size_t n = 0;       // complete pairs used
  double estimate = kNaN;  // r or rho
  double statistic = kNaN; // Pearson: t; Spearman: S = (n^3 - n)(1 - rho) / 6
  double df = kNaN;        // n - 2
  double p_value = kNaN;   // two-sided
  double conf_low = kNaN;  // Pearson only (Fisher z, needs n > 3); NaN otherwise
  double conf_high = kNaN;
  // Empty when the estimate is defined; otherwise why it is NaN, e.g.
  // "x is constant (standard deviation zero)", as R warns and returns NA.
  std::string note;
};

// Pearson's r; t = r sqrt(n - 2) / sqrt(1 - r^2) on n - 2 df; CI by Fisher's
// z with level conf_level (R: cor.test(x, y, conf.level = conf_level)).
// Throws NumericalError naming x_name and y_name when x and y differ in length
// or fewer than 3 complete pairs remain, and when conf_level is not in (0, 1).
// A constant column gives NaN estimate/statistic/p with a note.
CorrelationResult PearsonCorrelation(const std::vector<double>& x, const std::vector<double>& y,
                                     std::string_view x_name, std::string_view y_name,
                                     double conf_level = 0.95);

// Spearman's rho: Pearson's r of average ranks (ties allowed). The p-value is
// R's cor.test(method = "spearman", exact = FALSE): the asymptotic t
// approximation t = rho / sqrt((1 - rho^2) / (n - 2)) on n - 2 df, two-sided.
// No CI (R gives none). Errors and the constant-column case as
// PearsonCorrelation.
CorrelationResult SpearmanCorrelation(const std::vector<double>& x, const std::vector<double>& y,
                                      std::string_view x_name, std::string_view y_name);

}  // namespace cohortdb::stats
