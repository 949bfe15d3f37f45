#pragma once
// Ordinary least squares linear regression as R's lm() + summary.lm(): the
// design matrix is given explicitly (include a column of ones for an
// intercept). Rows with a NaN in y or any column of X are dropped
// (na.omit). A column that is (numerically) a linear combination of the
// columns before it is aliased, as R marks it with an NA coefficient: its row
// stays in the output with NaN numbers and aliased = true; the model is fitted
// without it by column-pivoting Householder QR (Eigen). Pure functions,
// thread-safe.

#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "stats/tidy.h"

namespace cohortdb::stats {

struct OlsFit {
  // One row per column of X, in input order; aliased rows are all NaN.
  std::vector<TermEstimate> terms;
  std::vector<bool> aliased;
  std::vector<std::string> aliased_terms;  // names of aliased columns, in order
  // beta * sd(x) / sd(y) per column (sample SDs over the rows used); NaN for
  // the intercept and aliased columns.
  std::vector<double> standardised_beta;
  std::size_t n = 0;             // rows used
  std::size_t dropped_rows = 0;  // rows dropped for NaN
  std::size_t rank = 0;          // estimable coefficients
  bool has_intercept = false;    // some column is all ones
  double df_residual = kNaN;     // n - rank
  double rss = kNaN;             // residual sum of squares
  double sigma = kNaN;           // residual standard error sqrt(rss / df_residual)
  double r_squared = kNaN;       // centred if has_intercept, else uncentred (as R)
  double adj_r_squared = kNaN;
  double f_statistic = kNaN;     // overall F against the intercept-only (or empty) model
  double f_df1 = kNaN;
  double f_df2 = kNaN;
  double f_p_value = kNaN;
  // R's summary.lm warning "essentially perfect fit: summary may be
  // unreliable": the residual variance is below 1e-30 times (mean(fitted)^2 +
  // var(fitted)), as for a constant outcome or an exact linear one. The SEs,
  // tests and CIs are then noise.
  bool essentially_perfect_fit = false;
};

// Fits y ~ X. names names the columns of X (same count). conf_level is for the
// t-based CIs of the coefficients. Throws NumericalError when sizes differ,
// when fewer than 2 complete rows remain, when every column is aliased, or when
// conf_level is not in (0, 1). With n == rank (no residual df) the
// coefficients are returned and the SEs, tests and sigma are NaN (as R).
// Aliasing tolerance: R's 1e-7 on the remaining norm of a column relative to
// its own norm.
OlsFit FitOls(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const std::vector<std::string>& names,
              double conf_level = 0.95);

// F test of a smaller model nested in a larger one fitted to the same rows, as
// R's anova(small, large): F = ((RSS_small - RSS_large) / df) / (RSS_large /
// df_residual_large), df = df_residual_small - df_residual_large.
struct NestedFTest {
  double df = kNaN;
  double rss_small = kNaN;
  double rss_large = kNaN;
  double sum_of_squares = kNaN;  // RSS_small - RSS_large
  double statistic = kNaN;       // F
  double df_residual = kNaN;     // of the large model
  double p_value = kNaN;
};

// Throws NumericalError when the models used different numbers of rows or the
// large model does not have fewer residual df than the small one.
NestedFTest CompareNestedOls(const OlsFit& small, const OlsFit& large);

}  // namespace cohortdb::stats
