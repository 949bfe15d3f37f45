#pragma once
// Test helper: a linear mixed model fit against lmer + lmerTest's numbers
// (tests/reference/stats_lmm*.R), at the tolerances of issue 14: fixed
// effects and SEs 1e-6, Satterthwaite df 1e-4, variance components 1e-5,
// the REML/ML criterion 1e-8.

#include <cstddef>
#include <cstdlib>
#include <vector>

#include <catch2/catch.hpp>

#include "stats/lmm.h"

namespace cohortdb::stats::testing {

struct Expected {
  std::vector<double> coef, se, df, t, p, theta;
  double sigma;
  std::vector<double> sdcor;
  double criterion, loglik, aic, bic;
};

inline void CheckLmmFit(const LmmFit& fit, const Expected& e) {
  REQUIRE(fit.terms.size() == e.coef.size());
  for (size_t j = 0; j < e.coef.size(); ++j) {
    INFO("term " << fit.terms[j].term);
    CHECK_THAT(fit.terms[j].estimate, Catch::Matchers::WithinRel(e.coef[j], 1e-6));
    CHECK_THAT(fit.terms[j].std_error, Catch::Matchers::WithinRel(e.se[j], 1e-6));
    CHECK_THAT(fit.terms[j].statistic, Catch::Matchers::WithinRel(e.t[j], 1e-6));
    CHECK_THAT(fit.df[j], Catch::Matchers::WithinRel(e.df[j], 1e-4));
    CHECK_THAT(fit.terms[j].p_value, Catch::Matchers::WithinRel(e.p[j], 1e-4));
  }
  REQUIRE(fit.theta.size() == e.theta.size());
  for (size_t j = 0; j < e.theta.size(); ++j) CHECK_THAT(fit.theta[j], Catch::Matchers::WithinAbs(e.theta[j], 1e-5));
  CHECK_THAT(fit.sigma, Catch::Matchers::WithinRel(e.sigma, 1e-5));
  REQUIRE(fit.components.size() == e.sdcor.size());
  for (size_t j = 0; j < e.sdcor.size(); ++j) {
    INFO("component " << fit.components[j].group << " " << fit.components[j].var1 << " " << fit.components[j].var2);
    CHECK_THAT(fit.components[j].sdcor, Catch::Matchers::WithinAbs(e.sdcor[j], 1e-5));
  }
  CHECK_THAT(fit.criterion, Catch::Matchers::WithinRel(e.criterion, 1e-8));
  CHECK_THAT(fit.log_likelihood, Catch::Matchers::WithinRel(e.loglik, 1e-8));
  CHECK_THAT(fit.aic, Catch::Matchers::WithinRel(e.aic, 1e-8));
  CHECK_THAT(fit.bic, Catch::Matchers::WithinRel(e.bic, 1e-8));
}

// Sets COHORTDB_THREADS for the life of the object.
class ThreadsSetting {
 public:
  explicit ThreadsSetting(const char* value) { setenv("COHORTDB_THREADS", value, 1); }
  ~ThreadsSetting() { unsetenv("COHORTDB_THREADS"); }
  ThreadsSetting(const ThreadsSetting&) = delete;
  ThreadsSetting& operator=(const ThreadsSetting&) = delete;
};

// Two fits of the same data (say, on different numbers of threads) are the
// same bits: criterion, theta, df, iterations, estimates and SEs.
inline void CheckSameBits(const LmmFit& many, const LmmFit& one) {
  CHECK(many.criterion == one.criterion);
  CHECK(many.theta == one.theta);
  CHECK(many.df == one.df);
  CHECK(many.convergence.iterations == one.convergence.iterations);
  REQUIRE(many.terms.size() == one.terms.size());
  for (std::size_t j = 0; j < one.terms.size(); ++j) {
    CHECK(many.terms[j].estimate == one.terms[j].estimate);
    CHECK(many.terms[j].std_error == one.terms[j].std_error);
  }
}

}  // namespace cohortdb::stats::testing
