#pragma once
// Per-study effect sizes and their sampling variances for meta-analysis, as
// metafor::escalc with its defaults (vtype = "LS", add = 1/2, to = "only0").
// Pure functions, thread-safe.

#include "stats/tidy.h"

namespace cohortdb::stats {

struct EffectSize {
  double yi = kNaN;  // effect size
  double vi = kNaN;  // sampling variance
  bool continuity_corrected = false;  // 0.5 added to every cell (log odds ratio)
};

// Standardised mean difference with the exact small-sample correction
// (Hedges' g; escalc measure "SMD"): d = (m1 - m2) / s_pooled,
// g = c(m) d with m = n1 + n2 - 2 and c(m) = Gamma(m/2) / (sqrt(m/2)
// Gamma((m-1)/2)); vi = 1/n1 + 1/n2 + g^2 / (2 (n1 + n2)).
// Throws NumericalError when n1 + n2 < 4, a group has n < 1, an SD is negative,
// the pooled SD is zero, or an argument is NaN (argument named).
EffectSize HedgesG(double m1, double sd1, double n1, double m2, double sd2, double n2);

// Raw mean difference (escalc "MD"): yi = m1 - m2, vi = sd1^2/n1 + sd2^2/n2.
// Throws NumericalError for n < 1, a negative SD or a NaN argument.
EffectSize MeanDifference(double m1, double sd1, double n1, double m2, double sd2, double n2);

// Log odds ratio of a 2 x 2 table (escalc "OR"): a events and b non-events in
// group 1, c events and d non-events in group 2. When any cell is 0, 0.5 is
// added to all four cells of that study (to = "only0"). yi = log(a d / (b c)),
// vi = 1/a + 1/b + 1/c + 1/d. Throws NumericalError for a negative or NaN cell.
EffectSize LogOddsRatio(double a, double b, double c, double d);

}  // namespace cohortdb::stats
