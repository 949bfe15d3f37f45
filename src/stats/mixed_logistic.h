#pragma once
// Mixed logistic regression with one random intercept for a grouping factor
// (study site): logit P(y = 1 | site g) = X beta + b_g, b_g ~ N(0, sd^2).
//
// The marginal likelihood is approximated as lme4::glmer does: the Laplace
// approximation (quadrature_points = 1, glmer nAGQ = 1) or adaptive
// Gauss-Hermite quadrature with N points (glmer nAGQ = N). With a single random
// intercept the conditional modes are independent scalars per site, so the
// approximation is a sum of one-dimensional problems, each solved by Newton's
// method; the fixed effects and sd are then found by a damped Newton iteration
// on the approximate log-likelihood over (beta, sd) jointly, as glmer's second
// stage optimises its deviance over both. Standard errors come from the
// Hessian of that log-likelihood with respect to (sd, beta), inverted and
// restricted to beta -- what vcov() of a glmer fit uses by default
// (use.hessian = TRUE). At a singular fit (sd = 0) this equals the glm
// covariance, as lme4's fallback does.
//
// Columns are centred and scaled internally (see model_scaling.h); all
// estimates are reported on the user's scale. Aliased columns are named and
// reported as NaN; separation in the fixed effects is named in words (see
// MixedLogisticFit::separation). Pure function of its arguments; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "stats/logistic.h"
#include "stats/odds_ratio.h"
#include "stats/tidy.h"

namespace cohortdb::stats {

struct MixedLogisticOptions {
  int quadrature_points = 1;  // 1: Laplace (nAGQ = 1); N > 1: adaptive Gauss-Hermite (nAGQ = N), N <= 25
  int max_iterations = 200;   // outer Newton iterations
  double tolerance = 1e-8;    // largest parameter step (scaled units) at convergence
  double confidence = 0.95;   // Wald interval level
  double singular_tolerance = 1e-4;  // sd below this is a singular fit (lme4 isSingular(tol = 1e-4))
};

struct MixedLogisticFit {
  std::vector<TermEstimate> terms;   // fixed effects, one row per column of X (z statistics)
  Eigen::MatrixXd covariance;        // of the fixed effects, user's scale; NaN rows/cols for aliased terms
  std::vector<std::string> aliased;  // names of aliased terms
  double site_sd = kNaN;             // random-intercept SD (lme4 theta for this model)
  std::vector<double> site_effects;  // conditional modes b_g per group code (0 for codes without rows)
  Eigen::Index n = 0;
  Eigen::Index groups = 0;  // groups with at least one row
  int quadrature_points = 1;
  double log_likelihood = kNaN;  // of the approximation used; not comparable across quadrature_points
  double deviance = kNaN;        // -2 * log_likelihood
  double aic = kNaN;             // deviance + 2 * (rank + 1)
  double bic = kNaN;             // deviance + log(n) * (rank + 1)
  ConvergenceInfo convergence;   // relative_change: largest parameter step (scaled units) of the last
                                 // iteration; max_abs_score: largest |gradient| (scaled) at the estimate
  bool singular = false;
  std::string singular_message;       // plain words when singular
  // Separation in the fixed effects, found by the glm check that runs when
  // the fit did not converge or an estimate is implausibly large (over 10
  // per SD of its column): the maximum likelihood estimate does not exist
  // for the named terms, with or without the random intercept. Their odds
  // ratios are NaN with this note.
  SeparationInfo separation;
  std::vector<std::string> messages;  // every warning, in words

  // The row for `term`; throws InputError listing the terms when absent.
  const TermEstimate& Term(std::string_view term) const;
};

// Fits the model. `x` holds the fixed-effect columns named by `names` (include
// an intercept column of ones), `y` is 0/1, `group[i]` >= 0 is the site code of
// row i. Throws InputError on mismatched sizes or a negative code,
// NumericalError for fewer than two rows, y not 0/1, non-finite x, a single
// outcome value, fewer than two groups, or one group per row.
MixedLogisticFit FitMixedLogistic(const Eigen::MatrixXd& x, const std::vector<std::string>& names,
                                  const Eigen::VectorXd& y, const std::vector<int>& group,
                                  const MixedLogisticOptions& options = {});

// exp(estimate) per fixed effect; aliased or separated terms are NaN with a note.
std::vector<OddsRatio> OddsRatios(const MixedLogisticFit& fit);

// Odds ratio per `k` SDs of predictor `term` (its column in `x`):
// exp(beta * k * sd(x)) with the Wald interval scaled the same way.
OddsRatio OddsRatioPerSd(const MixedLogisticFit& fit, const Eigen::MatrixXd& x, std::string_view term,
                         double k = 2.0);

}  // namespace cohortdb::stats
