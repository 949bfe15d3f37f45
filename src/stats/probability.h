#pragma once
// Distribution functions used by the closed-form statistics of src/stats, as
// thin wrappers over Boost.Math that behave like R's p*/q* functions on the
// edges: a NaN argument gives NaN (Boost would throw), +-Inf statistics give
// the limiting probability. Pure functions, thread-safe.

namespace cohortdb::stats::prob {

// P(T > t) for Student's t with df degrees of freedom (R: pt(t, df, lower.tail = FALSE)).
double StudentTUpper(double t, double df);
// Two-sided p-value 2 * P(T > |t|) (R: 2 * pt(-abs(t), df)).
double StudentTTwoSided(double t, double df);
// Quantile of Student's t (R: qt(p, df)); p in (0, 1).
double StudentTQuantile(double p, double df);

// P(Z > z) for the standard normal (R: pnorm(z, lower.tail = FALSE)).
double NormalUpper(double z);
// P(Z <= z) (R: pnorm(z)).
double NormalLower(double z);
// Two-sided p-value 2 * P(Z > |z|).
double NormalTwoSided(double z);
// Quantile of the standard normal (R: qnorm(p)).
double NormalQuantile(double p);

// P(X > x) for chi-squared with df degrees of freedom (R: pchisq(x, df, lower.tail = FALSE)).
double ChiSquaredUpper(double x, double df);

// P(F > f) for Fisher's F(df1, df2) (R: pf(f, df1, df2, lower.tail = FALSE)).
double FisherFUpper(double f, double df1, double df2);

}  // namespace cohortdb::stats::prob
