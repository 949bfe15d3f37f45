#pragma once
// Poisson regression with a log link, fitted by iteratively reweighted least
// squares as R's glm(y ~ ..., family = poisson) does: same start
// (mustart = y + 0.1), same iteration and convergence test
// (|dev - dev_old| / (|dev| + 0.1) < epsilon), an optional offset added to the
// linear predictor (R: offset(log(person_years))).
//
// Standard errors, chosen by PoissonOptions::covariance:
//  - kModel: the inverse Fisher information of the last IRLS step (vcov(fit));
//  - kRobust: the sandwich (X'WX)^-1 (sum_i u_i u_i') (X'WX)^-1 with score
//    u_i = (y_i - mu_i) x_i (exactly as sandwich's estfun.glm computes it:
//    glm's working weights of its last step times the working residuals), as
//    sandwich::vcovHC(fit, type = "HC0"): for a binary outcome this is the
//    "modified Poisson" risk ratio of Zou (2004);
//  - kCluster: scores summed within each cluster, times G / (G - 1) for G
//    clusters, as sandwich::vcovCL(fit, cluster = ~g) with its glm defaults
//    (type = "HC0", cadjust = TRUE).
// Wald z tests and intervals use the chosen covariance (lmtest::coeftest and
// coefci with that vcov). Aliased columns are named and reported as NaN.
// Pure function of its arguments; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "stats/logistic.h"
#include "stats/tidy.h"

namespace cohortdb::stats {

enum class PoissonCovariance { kModel, kRobust, kCluster };

// "model", "robust" (HC0) or "cluster".
std::string_view CovarianceName(PoissonCovariance covariance);

struct PoissonOptions {
  int max_iterations = 25;   // glm.control(maxit)
  double epsilon = 1e-8;     // glm.control(epsilon)
  double confidence = 0.95;  // Wald interval level
  PoissonCovariance covariance = PoissonCovariance::kModel;
};

struct PoissonFit {
  std::vector<TermEstimate> terms;   // log-scale rows, one per column of X (z statistics, chosen SEs)
  Eigen::MatrixXd covariance;        // the chosen covariance, user's scale; NaN rows/cols for aliased terms
  Eigen::MatrixXd model_covariance;  // the model-based one, whatever was chosen
  PoissonCovariance covariance_type = PoissonCovariance::kModel;
  std::vector<std::string> aliased;
  Eigen::Index n = 0;
  Eigen::Index rank = 0;
  Eigen::Index clusters = 0;  // G for kCluster, else 0
  Eigen::Index df_residual = 0;
  Eigen::Index df_null = 0;
  double log_likelihood = kNaN;  // sum of dpois(y, mu, log = TRUE); y need not be an integer (as R, which warns)
  double deviance = kNaN;
  double null_deviance = kNaN;   // of the intercept-only model with the same offset (glm's)
  double aic = kNaN;
  bool binary_outcome = false;   // every y is 0 or 1: ratios are risk (prevalence) ratios
  ConvergenceInfo convergence;
  std::vector<std::string> messages;  // warnings in words

  // The row for `term`; throws InputError listing the terms when absent.
  const TermEstimate& Term(std::string_view term) const;
};

// Fits log E[y] = offset + X beta. `x` holds the columns named by `names`
// (include an intercept column of ones if wanted); `offset` is empty or has one
// finite value per row; `cluster` is needed (one code >= 0 per row) only for
// kCluster. Throws InputError on mismatched sizes, a missing or negative
// cluster code; NumericalError for fewer than two rows, a negative or
// non-finite y (naming the row), non-finite x or offset, every column aliased,
// fewer than two clusters, or a model whose information matrix is singular.
PoissonFit FitPoisson(const Eigen::MatrixXd& x, const std::vector<std::string>& names, const Eigen::VectorXd& y,
                      const Eigen::VectorXd& offset = {}, const std::vector<int>& cluster = {},
                      const PoissonOptions& options = {});

// exp(estimate) per term with its Wald interval: rate ratios (risk ratios for
// a binary outcome). Aliased terms are NaN with a note.
std::vector<OddsRatio> RateRatios(const PoissonFit& fit);

}  // namespace cohortdb::stats
