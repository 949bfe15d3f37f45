#pragma once
// Wilcoxon rank-sum (Mann-Whitney) test of two independent samples by the
// normal approximation with continuity and tie correction, two-sided, as R's
// wilcox.test(x, y, exact = FALSE, correct = TRUE). NaN values are dropped.
// Pure function, thread-safe.

#include <cstddef>
#include <vector>

#include "stats/tidy.h"

namespace cohortdb::stats {

struct RankSumResult {
  std::size_t n_x = 0;
  std::size_t n_y = 0;
  double statistic = kNaN;  // W = rank sum of x - n_x (n_x + 1) / 2
  double z = kNaN;          // continuity-corrected normal deviate
  double p_value = kNaN;
};

// Throws NumericalError when x or y has no non-missing value, or when all
// values are tied (the normal approximation has zero variance; R returns NaN).
RankSumResult WilcoxonRankSumTest(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace cohortdb::stats
