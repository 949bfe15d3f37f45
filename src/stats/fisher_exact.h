#pragma once
// Fisher's exact test for a 2 x 2 table, as R's fisher.test(matrix(c(a, c, b,
// d), 2)) with the default two-sided alternative: the p-value sums the
// hypergeometric probabilities not larger than the observed one (relative
// tolerance 1e-7, as R), and the odds ratio is the conditional maximum
// likelihood estimate with its conditional CI. Pure function, thread-safe.
//
// Table layout:      outcome+  outcome-
//        exposed+       a         b
//        exposed-       c         d

#include "stats/tidy.h"

namespace cohortdb::stats {

struct FisherExactResult {
  double p_value = kNaN;
  // Conditional MLE of the odds ratio (0 or +Inf at the edge of the support).
  // R's fisher.test finds it with uniroot's default tolerance (about 1e-4);
  // this solves to full double precision, so it agrees with R to about 1e-4.
  double odds_ratio = kNaN;
  double conf_low = kNaN;   // conditional CI of the odds ratio at conf_level
  double conf_high = kNaN;
  double sample_odds_ratio = kNaN;  // a d / (b c), +Inf or NaN with zero cells
};

// Counts must be finite non-negative integers. Throws NumericalError naming
// the cell otherwise, and when conf_level is not in (0, 1).
FisherExactResult FisherExactTest(double a, double b, double c, double d, double conf_level = 0.95);

}  // namespace cohortdb::stats
