#pragma once
// Two-sample t-tests of the difference in means, x minus y, two-sided, as R's
// t.test(x, y, var.equal = TRUE) (Student) and t.test(x, y) (Welch). NaN values
// are dropped from each sample. Pure functions, thread-safe.

#include <cstddef>
#include <vector>

#include "stats/tidy.h"

namespace cohortdb::stats {

struct TTestResult {
  std::size_t n_x = 0;
  std::size_t n_y = 0;
  double mean_x = kNaN;
  double mean_y = kNaN;
  double estimate = kNaN;   // mean_x - mean_y
  double std_error = kNaN;  // of the difference
  double statistic = kNaN;  // t
  double df = kNaN;         // n_x + n_y - 2 (Student) or Welch-Satterthwaite
  double p_value = kNaN;
  double conf_low = kNaN;   // CI of the difference at conf_level
  double conf_high = kNaN;
};

// Student's t with pooled variance. Throws NumericalError when a sample has no
// value or both together have fewer than 3, when the data are essentially
// constant (R's rule: SE < 10 eps max(|mean_x|, |mean_y|)), or conf_level is
// not in (0, 1).
TTestResult StudentTTest(const std::vector<double>& x, const std::vector<double>& y,
                         double conf_level = 0.95);

// Welch's t with Satterthwaite df. Throws NumericalError when a sample has
// fewer than 2 values, plus the cases of StudentTTest.
TTestResult WelchTTest(const std::vector<double>& x, const std::vector<double>& y,
                       double conf_level = 0.95);

}  // namespace cohortdb::stats
