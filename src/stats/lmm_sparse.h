#pragma once
// Linear mixed model with several random-effect terms, as lme4::lmer fits
// them: nested groupings ((1 | site/participant) = (1 | site) +
// (1 | participant:site)) and crossed ones ((1 | participant) + (1 | rater)),
// each term with a random intercept and/or random slopes and its own
// unstructured covariance.
//
//   y = X beta + Z b + e,  b = Lambda_theta u,  u ~ N(0, sigma^2 I),  e ~ N(0, sigma^2 I)
//
// lme4's penalised least-squares formulation (Bates, Maechler, Bolker and
// Walker 2015, JSS 67(1), section 3): Z is sparse (n x q, q = sum over terms
// of levels x effects), Lambda_theta is block diagonal with one copy of a
// term's k x k lower-triangular factor per level, and the sparse Cholesky
// factor of Lambda' Z'Z Lambda + I (fill-reducing AMD ordering, symbolic
// analysis once, numeric factorisation per evaluation) gives the profiled
// REML or ML deviance as a function of theta alone. Terms are ordered as
// lme4 orders them (by decreasing number of levels, stably), which fixes the
// order of theta and of the variance components.
//
// Work per evaluation: one sparse factorisation of a q x q matrix whose fill
// depends on how the factors cross (none beyond Z'Z for strictly nested
// factors, whose AMD order eliminates the inner levels first) plus O(nnz(L) p)
// for the fixed-effect part; the n rows are read once, when Z'Z, Z'X and Z'y
// are formed.
//
// Outputs are those of FitLmm (stats/lmm.h): fixed effects with lmerTest's
// Satterthwaite df, variance components as as.data.frame(VarCorr(fit)),
// logLik, AIC, BIC, and messages in words for a singular fit,
// non-convergence and few levels. Pure function of its arguments; thread-safe.
// The evaluations of one differenced gradient or Hessian run on up to 4
// threads (common/parallel.h, COHORTDB_THREADS), with the same result on any
// number of threads.

#include <string>
#include <vector>

#include <Eigen/Dense>

#include "stats/lmm.h"

namespace cohortdb::stats {

// One random-effect term (terms | group).
struct RandomEffectTerm {
  Eigen::MatrixXd z;                 // n x k (1 <= k <= 4): ones for a random intercept, then the slopes
  std::vector<std::string> z_names;  // "(Intercept)", "visit"
  std::vector<int> group;            // level code per row, >= 0
  std::string group_name;            // "site", "participant:site"
};

// A grouping factor and its number of levels, as ngrps(fit).
struct GroupingLevels {
  std::string group;
  Eigen::Index levels = 0;
};

struct MultiLmmFit : LmmFit {
  // One per term in lme4's order; LmmFit::groups is the first (largest).
  std::vector<GroupingLevels> groupings;
};

// Fits the model. `x`, `names`, `y` as FitLmm; `terms` holds one or more
// random-effect terms. A repeated grouping name (two terms on one factor) is
// suffixed ".1", ".2" in the components, as lme4 names them. Throws
// InputError on mismatched sizes, a negative code, no terms or k outside
// 1..4; NumericalError for non-finite values, a grouping factor with fewer
// than 2 levels or with as many levels x effects as rows (lme4's checks), or
// a rank-deficient X (naming the aliased terms).
MultiLmmFit FitLmmTerms(const Eigen::MatrixXd& x, const std::vector<std::string>& names, const Eigen::VectorXd& y,
                        const std::vector<RandomEffectTerm>& terms, const LmmOptions& options = {});

}  // namespace cohortdb::stats
