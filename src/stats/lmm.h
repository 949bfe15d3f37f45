#pragma once
// Linear mixed model with the random effects of one grouping factor, as
// lme4::lmer(y ~ X + (z_1 + ... + z_k | group)) fits it: random intercepts,
// random slopes, and their unstructured (correlated) covariance.
//
//   y = X beta + Z b + e,  b_g ~ N(0, sigma^2 L L') per group,  e ~ N(0, sigma^2 I)
//
// L (k x k, lower triangular) is lme4's relative covariance factor; theta is
// its lower triangle in column order (getME(fit, "theta")). As lme4 does, the
// deviance is profiled over beta and sigma and minimised over theta only:
// REML (default) or maximum likelihood. Because the random effects of one
// grouping factor are independent between groups, every cross-product is
// block-diagonal: the per-group cross-products are accumulated in one pass
// over the rows, and every later evaluation works on them alone
// (O(groups (k p)^2), no n x n or (groups k) x (groups k) matrix, no pass
// over the rows). The criterion's gradient in theta is analytic (from the
// same pass over the groups); a quasi-Newton search (a Hessian by forward
// differences of that gradient, then BFGS updates) minimises it, started
// from the optimum of a sixteenth of the groups when there are 50,000 or
// more. With 8,192 groups or more each pass runs in fixed pieces on up to
// COHORTDB_THREADS threads (common/parallel.h): the same bits with any count.
//
// Fixed effects come with Satterthwaite degrees of freedom and p-values as
// lmerTest computes them: the Hessian of the deviance in (theta, sigma)
// (theta block by forward differences of the analytic
// gradient, sigma row analytic) and the Jacobian of vcov(beta) (analytic).
// Singular fits, non-convergence and too few groups are reported in words.
// Pure function of its arguments; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "stats/logistic.h"
#include "stats/tidy.h"

namespace cohortdb::stats {

struct LmmOptions {
  bool reml = true;                  // lmer(REML = TRUE), the default
  double confidence = 0.95;          // t intervals with the Satterthwaite df
  int max_iterations = 200;          // iterations of the search over theta
  double tolerance = 1e-9;           // largest theta step at convergence
  double singular_tolerance = 1e-4;  // lme4 isSingular(tol = 1e-4)
  bool satterthwaite = true;         // false: df and p-values NaN (faster)
};

// A row of as.data.frame(VarCorr(fit)): an SD (var2 empty) or a correlation.
// The residual row has group "Residual" and var1 empty.
struct VarianceComponent {
  std::string group;
  std::string var1;
  std::string var2;
  double variance = kNaN;  // variance, or covariance for a correlation row
  double sdcor = kNaN;     // SD, or correlation
};

struct LmmFit {
  std::vector<TermEstimate> terms;  // fixed effects, t statistics, Satterthwaite p and CI
  std::vector<double> df;           // Satterthwaite df per fixed effect (NaN when not computed)
  Eigen::MatrixXd covariance;       // vcov(fit) of the fixed effects
  std::vector<double> theta;        // relative covariance factor, lme4's order
  double sigma = kNaN;              // residual SD
  std::vector<VarianceComponent> components;
  Eigen::Index n = 0;
  Eigen::Index groups = 0;   // groups with at least one row
  int parameters = 0;        // p + length(theta) + 1 (the df of logLik)
  bool reml = true;
  double criterion = kNaN;   // REML criterion (REML fit) or deviance -2 logLik (ML fit)
  double log_likelihood = kNaN;  // -criterion / 2 (of the REML criterion for a REML fit, as logLik())
  double aic = kNaN;
  double bic = kNaN;
  ConvergenceInfo convergence;  // relative_change: last theta step; max_abs_score: |gradient| of the criterion
  bool singular = false;
  std::vector<std::string> messages;  // singular fit, convergence, few groups: in words

  // The row for `term`; throws InputError listing the terms when absent.
  const TermEstimate& Term(std::string_view term) const;
};

// Fits the model. `x` (n x p) holds the fixed-effect columns named by `names`
// (include an intercept column of ones); `z` (n x k, 1 <= k <= 4) the
// random-effect columns named by `z_names` (a column of ones for a random
// intercept); `group[i]` >= 0 is the group code of row i, and `group_name`
// names the factor in messages and components. Throws InputError on
// mismatched sizes, a negative code, k outside 1..4; NumericalError for
// non-finite values (naming the column and row), fewer than two groups, as
// many random effects as rows (lme4's check), or a rank-deficient X (naming
// the aliased terms).
LmmFit FitLmm(const Eigen::MatrixXd& x, const std::vector<std::string>& names, const Eigen::VectorXd& y,
              const Eigen::MatrixXd& z, const std::vector<std::string>& z_names, const std::vector<int>& group,
              std::string_view group_name, const LmmOptions& options = {});

// anova(small, large) of two nested models fitted by maximum likelihood to
// the same rows: chi-square = 2 (logLik_large - logLik_small) on the
// difference in parameters.
struct LikelihoodRatioTest {
  double statistic = kNaN;
  int df = 0;
  double p_value = kNaN;
  double log_likelihood_small = kNaN;
  double log_likelihood_large = kNaN;
};

// Throws NumericalError when either fit used REML (refit with reml = false,
// as anova() does), the row counts differ, or the large model does not have
// more parameters.
LikelihoodRatioTest CompareNestedLmm(const LmmFit& small, const LmmFit& large);

}  // namespace cohortdb::stats
