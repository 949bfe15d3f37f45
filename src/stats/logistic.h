#pragma once
// Logistic regression fitted by iteratively reweighted least squares, as R's
// glm(y ~ ..., family = binomial) does: same starting values, same iteration,
// same convergence test (|dev - dev_old| / (|dev| + 0.1) < epsilon), standard
// errors from the last weighted least-squares step, Wald intervals as
// confint.default(). Estimates agree with R to about 1e-10 relative.
//
// Beyond glm it reports, as data and in words:
//  - aliased terms (a linear combination of earlier columns): estimate NaN,
//    named in `aliased` and `messages`, the rest of the model fitted (R: NA);
//  - complete or quasi-complete separation: after glm's iterations stop, Newton
//    steps continue; if the estimates keep moving in one direction while the
//    deviance stops falling, the maximum likelihood estimate does not exist and
//    the terms along that direction are named. Their odds ratios are NaN with a
//    note, never a silent huge number.
//
// Pure function of its arguments; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "stats/odds_ratio.h"
#include "stats/tidy.h"

namespace cohortdb::stats {

struct LogisticOptions {
  int max_iterations = 25;   // glm.control(maxit)
  double epsilon = 1e-8;     // glm.control(epsilon)
  double confidence = 0.95;  // Wald interval level
};

struct ConvergenceInfo {
  int iterations = 0;
  bool converged = false;
  double relative_change = kNaN;  // last |dev - dev_old| / (|dev| + 0.1)
  double max_abs_score = kNaN;    // largest |d loglik / d beta| (scaled design) at the estimate
  std::string message;            // empty when converged normally
};

struct SeparationInfo {
  bool detected = false;
  bool complete = false;           // every observation perfectly predicted
  std::vector<std::string> terms;  // terms whose estimates diverge
  std::string message;             // empty when not detected
};

struct LogisticFit {
  std::vector<TermEstimate> terms;   // one row per column of X, in order (z statistics)
  Eigen::MatrixXd covariance;        // of the estimates, user's scale; NaN rows/cols for aliased terms
  std::vector<std::string> aliased;  // names of aliased terms
  Eigen::Index n = 0;
  Eigen::Index rank = 0;
  Eigen::Index df_residual = 0;
  Eigen::Index df_null = 0;
  double log_likelihood = kNaN;
  double deviance = kNaN;
  double null_deviance = kNaN;
  double aic = kNaN;
  bool fitted_probabilities_extreme = false;  // R: "fitted probabilities numerically 0 or 1 occurred"
  ConvergenceInfo convergence;
  SeparationInfo separation;
  std::vector<std::string> messages;  // every warning above, in words

  // The row for `term`; throws InputError listing the terms when absent.
  const TermEstimate& Term(std::string_view term) const;
};

// Fits P(y = 1) = 1 / (1 + exp(-X beta)). `x` holds the columns named by
// `names`; include an intercept column of ones if wanted. `y` must be 0 or 1.
// Throws InputError on mismatched sizes, NumericalError for fewer than two rows,
// a y value other than 0/1 or non-finite x (naming the row), an outcome with a
// single value, or when every column is aliased.
LogisticFit FitLogistic(const Eigen::MatrixXd& x, const std::vector<std::string>& names,
                        const Eigen::VectorXd& y, const LogisticOptions& options = {});

// exp(estimate) per term; aliased or separated terms are NaN with a note.
std::vector<OddsRatio> OddsRatios(const LogisticFit& fit);

// Odds ratio per `k` standard deviations of the predictor `term` (column of `x`
// with that name, the data the model was fitted on): exp(beta * k * sd(x)),
// interval exp((beta -/+ z se) * k * sd(x)). k = 2 gives the papers' "per
// 2-unit z-score" when x is a z-score. Throws InputError for an unknown term.
OddsRatio OddsRatioPerSd(const LogisticFit& fit, const Eigen::MatrixXd& x, std::string_view term,
                         double k = 2.0);

}  // namespace cohortdb::stats
