#pragma once
// Inverse-variance pooling of study effect sizes and meta-regression, as
// metafor::rma(yi, vi, mods, method) with test = "z": fixed effect ("FE"),
// DerSimonian-Laird ("DL") and REML ("REML", Fisher scoring as metafor) for
// the between-study variance tau^2. Studies with a NaN effect, variance or
// moderator are dropped and counted. Pure functions, thread-safe.

#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "stats/tidy.h"

namespace cohortdb::stats {

enum class TauSquaredMethod { kFixedEffect, kDerSimonianLaird, kReml };

struct MetaOptions {
  TauSquaredMethod method = TauSquaredMethod::kReml;
  double conf_level = 0.95;
  // REML: stop when tau^2 changes by less than this between iterations
  // (metafor's default threshold is 1e-5; we iterate further).
  double reml_tolerance = 1e-10;
  int reml_max_iterations = 1000;
};

struct MetaResult {
  // "intercept" first, then one row per moderator; z tests, normal CIs. For a
  // pooled (intercept-only) model the single row is the pooled estimate.
  std::vector<TermEstimate> coefficients;
  std::size_t k = 0;              // studies used
  std::size_t dropped = 0;        // studies dropped for NaN
  double tau2 = 0;                // between-study variance (0 for fixed effect)
  double tau = 0;
  double q = kNaN;                // Q (QE with moderators): residual heterogeneity
  double q_df = kNaN;             // k - p
  double q_p_value = kNaN;
  double i2 = kNaN;               // percent, metafor's definition for the method
  double h2 = kNaN;
  double qm = kNaN;               // omnibus Wald test of the moderators (of the
  double qm_df = kNaN;            // intercept for a pooled model), chi-square
  double qm_p_value = kNaN;
  double pi_low = kNaN;           // prediction interval, pooled random-effects
  double pi_high = kNaN;          // model only (as predict.rma): estimate +-
                                  // z sqrt(SE^2 + tau^2); NaN for fixed effect
  int iterations = 0;             // REML Fisher scoring steps
};

// Pools yi with sampling variances vi. Throws NumericalError when the lengths
// differ, fewer than 2 studies remain, a variance is not > 0 (study named by
// 1-based index), conf_level is not in (0, 1), or REML does not converge.
MetaResult PoolEffects(const std::vector<double>& yi, const std::vector<double>& vi,
                       const MetaOptions& options = {});

// Mixed-effects meta-regression yi ~ 1 + moderators (an intercept is added;
// moderators holds one column per moderator, names names them). Also throws
// NumericalError when there are not more studies than coefficients or the
// moderators are collinear with the intercept.
MetaResult MetaRegression(const std::vector<double>& yi, const std::vector<double>& vi,
                          const Eigen::MatrixXd& moderators, const std::vector<std::string>& names,
                          const MetaOptions& options = {});

}  // namespace cohortdb::stats
