#pragma once
// Pieces the two linear mixed model fitters share (FitLmm in lmm.cpp, one
// grouping; FitLmmTerms in lmm_sparse.cpp, several): the damped Newton step,
// the variance components of one grouping, Satterthwaite's df from the
// Hessian and Jacobian each fitter computes its own way, and the fixed-effect
// rows. Internal to src/stats.

#include <string>
#include <vector>

#include <Eigen/Dense>

#include "stats/lmm.h"
#include "stats/tidy.h"

namespace cohortdb::stats::detail {

// -H^-1 g with H's eigenvalues taken as |value|, floored at 1e-8 of the
// largest: a descent direction also where H is not positive definite.
Eigen::VectorXd ModifiedNewtonStep(const Eigen::MatrixXd& hessian, const Eigen::VectorXd& gradient);

// The rows of as.data.frame(VarCorr(fit)) for one grouping: the SDs, then the
// correlations, from the covariance of its random effects.
void AppendComponents(const std::string& group, const std::vector<std::string>& z_names,
                      const Eigen::MatrixXd& covariance, std::vector<VarianceComponent>& components);

// lmerTest's Satterthwaite df of each fixed effect: A = 2 H^+ (eigenvalues
// beyond lmerTest's tolerance), df_j = 2 V_j^2 / (g' A g) with g_i = the
// (j, j) entry of jacobian[i]. `hessian` is the deviance's in (theta, sigma).
// Adds lmerTest's warning to `messages` when H has a negative eigenvalue and
// the fit is not singular.
std::vector<double> SatterthwaiteDf(const Eigen::MatrixXd& hessian, const std::vector<Eigen::MatrixXd>& jacobian,
                                    const Eigen::MatrixXd& covariance, bool singular,
                                    std::vector<std::string>& messages);

// The fixed-effect rows: estimate, SE, t, and with a finite df the t test and
// the CI at `confidence`.
std::vector<TermEstimate> FixedEffectRows(const std::vector<std::string>& names, const Eigen::VectorXd& beta,
                                          const Eigen::MatrixXd& covariance, const std::vector<double>& df,
                                          double confidence);

}  // namespace cohortdb::stats::detail
