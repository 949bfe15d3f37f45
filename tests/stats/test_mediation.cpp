// Expected values: tests/reference/stats_mediation.R (R 4.2.2: lm fits for the
// paths, boot::boot.ci(type = "perc") with R = 4000 for the bootstrap).
#include "stats/mediation.h"

#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "trial_data.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::NumericalError;
namespace st = cohortdb::stats;

namespace {

st::MediationInput TrialInput(bool covariates) {
  const auto trial = st::testing::LoadTrial();
  st::MediationInput in{trial["group"], trial["il6_change"], trial["pain_change"], {}, {}};
  if (covariates) {
    const std::size_t n = in.treatment.size();
    in.covariates.resize(static_cast<Eigen::Index>(n), 2);
    for (std::size_t i = 0; i < n; ++i) {
      in.covariates(static_cast<Eigen::Index>(i), 0) = trial["age"][i];
      in.covariates(static_cast<Eigen::Index>(i), 1) = trial["sex"][i];
    }
    in.covariate_names = {"age", "sex"};
  }
  return in;
}

}  // namespace

TEST_CASE("Mediation paths / Sobel test and proportion mediated match lm", "[stats][mediation]") {
  const st::MediationResult m = st::FitMediation(TrialInput(false), {0, 1, 0.95});
  CHECK(m.n == 38);
  CHECK_THAT(m.a.estimate, WithinRel(-0.69999999999999962, 1e-8));
  CHECK_THAT(m.a.std_error, WithinRel(0.19022981031513714, 1e-8));
  CHECK_THAT(m.a.p_value, WithinRel(0.00075871694298803975, 1e-8));
  CHECK_THAT(m.b.estimate, WithinRel(0.9074377747234057, 1e-8));
  CHECK_THAT(m.b.std_error, WithinRel(0.3043551905437013, 1e-8));
  CHECK_THAT(m.b.p_value, WithinRel(0.0051924753972392452, 1e-8));
  CHECK_THAT(m.direct.estimate, WithinRel(-0.36479355769361677, 1e-8));
  CHECK_THAT(m.direct.std_error, WithinRel(0.40751167749802192, 1e-8));
  CHECK_THAT(m.total.estimate, WithinRel(-1.0000000000000004, 1e-8));
  CHECK_THAT(m.total.std_error, WithinRel(0.38356510717676212, 1e-8));
  CHECK_THAT(m.indirect.estimate, WithinRel(-0.63520644230638368, 1e-8));
  CHECK_THAT(m.indirect.std_error, WithinRel(0.27420426133946091, 1e-8));
  CHECK_THAT(m.indirect.statistic, WithinRel(-2.316544750994979, 1e-8));
  CHECK_THAT(m.indirect.p_value, WithinRel(0.020528543982512217, 1e-8));
  CHECK_THAT(m.proportion_mediated, WithinRel(0.63520644230638335, 1e-8));
  CHECK(m.boot_draws_used == 0);
  CHECK(std::isnan(m.boot_conf_low));
  // Linear paths decompose exactly: total = direct + indirect.
  CHECK_THAT(m.total.estimate, WithinRel(m.direct.estimate + m.indirect.estimate, 1e-10));
}

TEST_CASE("Mediation with covariates in both paths matches lm", "[stats][mediation]") {
  const st::MediationResult m = st::FitMediation(TrialInput(true), {0, 1, 0.95});
  CHECK(m.n == 38);
  CHECK_THAT(m.a.estimate, WithinRel(-0.69398904216843482, 1e-8));
  CHECK_THAT(m.a.std_error, WithinRel(0.19773707393924297, 1e-8));
  CHECK_THAT(m.b.estimate, WithinRel(0.86697893708004792, 1e-8));
  CHECK_THAT(m.b.std_error, WithinRel(0.31091607619803691, 1e-8));
  CHECK_THAT(m.direct.estimate, WithinRel(-0.31936939890826599, 1e-8));
  CHECK_THAT(m.total.estimate, WithinRel(-0.9210432810326562, 1e-8));
  CHECK_THAT(m.total.std_error, WithinRel(0.39258270127658607, 1e-8));
  CHECK_THAT(m.indirect.estimate, WithinRel(-0.60167388212439021, 1e-8));
  CHECK_THAT(m.indirect.std_error, WithinRel(0.27558534354649239, 1e-8));
  CHECK_THAT(m.indirect.p_value, WithinRel(0.029016822024726652, 1e-8));
  CHECK_THAT(m.proportion_mediated, WithinRel(0.65325256099779039, 1e-8));
}

TEST_CASE("Mediation bootstrap is reproducible and close to boot's percentile CI", "[stats][mediation]") {
  const st::MediationInput in = TrialInput(false);
  const st::MediationResult a = st::FitMediation(in, {4000, 20261122, 0.95});
  const st::MediationResult b = st::FitMediation(in, {4000, 20261122, 0.95});
  const st::MediationResult c = st::FitMediation(in, {4000, 7, 0.95});
  CHECK(a.boot_draws_used == 4000);
  CHECK(a.boot_conf_low == b.boot_conf_low);    // same seed, bit-identical
  CHECK(a.boot_conf_high == b.boot_conf_high);
  CHECK(a.boot_conf_low != c.boot_conf_low);    // another seed, other draws
  CHECK(a.boot_conf_low < a.indirect.estimate);
  CHECK(a.boot_conf_high > a.indirect.estimate);
  // R's boot uses another generator and interpolates order statistics on the
  // normal scale; with 4000 draws the Monte Carlo error of each endpoint is
  // a few hundredths, so we only ask for agreement within 0.1.
  CHECK_THAT(a.boot_conf_low, WithinAbs(-1.373137075713817, 0.1));
  CHECK_THAT(a.boot_conf_high, WithinAbs(-0.081539471427476626, 0.1));
  const st::MediationResult cov = st::FitMediation(TrialInput(true), {4000, 20261122, 0.95});
  CHECK_THAT(cov.boot_conf_low, WithinAbs(-1.2768664759293902, 0.1));
  CHECK_THAT(cov.boot_conf_high, WithinAbs(-0.034302889509959536, 0.1));
}

TEST_CASE("UniformIndex is unbiased rejection sampling on mt19937_64", "[stats][mediation]") {
  std::mt19937_64 engine(42);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) ++counts[st::UniformIndex(engine, 7)];
  for (int c : counts) CHECK(std::abs(c - 10000) < 500);
  // Pinned draws: the engine is standardised, so these hold on every platform.
  std::mt19937_64 pinned(1);
  const std::uint64_t first = pinned();
  std::mt19937_64 again(1);
  CHECK(st::UniformIndex(again, 1000) == first % 1000);
  CHECK(st::UniformIndex(again, 1) == 0);
  // The C++ standard fixes the 10000th output of a default-constructed
  // mt19937_64 as 9981545732273789042 ([rand.predef]); that word is below the
  // rejection limit for n = 1000, so the index is that word mod 1000.
  std::mt19937_64 standard;
  standard.discard(9999);
  CHECK(st::UniformIndex(standard, 1000) == 9981545732273789042ULL % 1000);
}

TEST_CASE("Mediation edge cases", "[stats][mediation]") {
  st::MediationInput tiny{{1.0, st::kNaN}, {0.5, 0.2}, {1.0, 2.0}, {}, {}};
  REQUIRE_THROWS_WITH(st::FitMediation(tiny),
                      "FitMediation: 1 complete rows (treatment, mediator, outcome and covariates), at least 2 "
                      "needed");
  st::MediationInput constant{{1, 1, 1, 1, 1}, {0.5, 0.2, 0.1, 0.7, 0.3}, {1, 2, 3, 2, 1}, {}, {}};
  REQUIRE_THROWS_WITH(st::FitMediation(constant),
                      "FitMediation: 'treatment' is constant or collinear with the covariates; the paths cannot "
                      "be estimated");
  st::MediationInput uneven{{1, 0, 1}, {0.5, 0.2}, {1, 2, 3}, {}, {}};
  REQUIRE_THROWS_AS(st::FitMediation(uneven), NumericalError);
}
