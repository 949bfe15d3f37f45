// Expected values: tests/reference/stats_correlation.R (R 4.2.2, cor.test).
#include "stats/correlation.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "trial_data.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::NumericalError;
namespace st = cohortdb::stats;

TEST_CASE("Pearson r / t / p and Fisher-z CI match cor.test / NaN pairs dropped", "[stats][correlation]") {
  const auto trial = st::testing::LoadTrial();
  const st::CorrelationResult r = st::PearsonCorrelation(trial["il6_change"], trial["pain_change"], "il6", "pain");
  CHECK(r.n == 38);
  CHECK(r.df == 36);
  CHECK(r.note.empty());
  CHECK_THAT(r.estimate, WithinRel(0.56021048184180722, 1e-8));
  CHECK_THAT(r.statistic, WithinRel(4.0577795403266972, 1e-8));
  CHECK_THAT(r.p_value, WithinRel(0.00025460892316202276, 1e-8));
  CHECK_THAT(r.conf_low, WithinRel(0.29300059311445109, 1e-8));
  CHECK_THAT(r.conf_high, WithinRel(0.74624826096357433, 1e-8));

  const st::CorrelationResult r90 =
      st::PearsonCorrelation(trial["il6_change"], trial["pain_change"], "il6", "pain", 0.90);
  CHECK_THAT(r90.conf_low, WithinRel(0.34089854751600657, 1e-8));
  CHECK_THAT(r90.conf_high, WithinRel(0.72169377148299396, 1e-8));

  const st::CorrelationResult neg = st::PearsonCorrelation(trial["il6_change"], trial["pcs_change"], "il6", "pcs");
  CHECK_THAT(neg.estimate, WithinRel(-0.45364606320855644, 1e-8));
  CHECK_THAT(neg.statistic, WithinRel(-3.09636130729193, 1e-8));
  CHECK_THAT(neg.p_value, WithinRel(0.0037252984904885596, 1e-8));
  CHECK_THAT(neg.conf_low, WithinRel(-0.67285527453919791, 1e-8));
  CHECK_THAT(neg.conf_high, WithinRel(-0.16120240713886963, 1e-8));
}

TEST_CASE("Pearson with 4 pairs has a CI / with 3 pairs none", "[stats][correlation]") {
  const st::CorrelationResult four = st::PearsonCorrelation({1, 2, 3, 4.5}, {2.1, 1.9, 3.5, 4.0}, "x", "y");
  CHECK_THAT(four.estimate, WithinRel(0.90954603263114031, 1e-8));
  CHECK_THAT(four.p_value, WithinRel(0.090453967368859634, 1e-8));
  CHECK_THAT(four.conf_low, WithinRel(-0.40955308086017089, 1e-8));
  CHECK_THAT(four.conf_high, WithinRel(0.99812191007275353, 1e-8));
  const st::CorrelationResult three = st::PearsonCorrelation({1, 2, 4}, {1, 3, 2}, "x", "y");
  CHECK_THAT(three.estimate, WithinRel(0.32732683535398854, 1e-8));
  CHECK_THAT(three.p_value, WithinRel(0.78770438499034345, 1e-8));
  CHECK(std::isnan(three.conf_low));
}

TEST_CASE("Spearman rho with ties and its asymptotic-t p match cor.test(exact = FALSE)", "[stats][correlation]") {
  const auto trial = st::testing::LoadTrial();
  const st::CorrelationResult s = st::SpearmanCorrelation(trial["pain_change"], trial["crp_change"], "pain", "crp");
  CHECK(s.n == 39);
  CHECK_THAT(s.estimate, WithinRel(0.41730720908180619, 1e-8));
  CHECK_THAT(s.statistic, WithinRel(5757.0047742717543, 1e-8));
  CHECK_THAT(s.p_value, WithinRel(0.00821516267864255, 1e-8));
  CHECK(std::isnan(s.conf_low));
  const st::CorrelationResult s2 = st::SpearmanCorrelation(trial["il6_change"], trial["pcs_change"], "il6", "pcs");
  CHECK_THAT(s2.estimate, WithinRel(-0.43653487298232541, 1e-8));
  CHECK_THAT(s2.statistic, WithinRel(14192.964545065377, 1e-8));
  CHECK_THAT(s2.p_value, WithinRel(0.0054634585208000958, 1e-8));
}

TEST_CASE("Correlation edge cases: constant column / too few and all-missing pairs", "[stats][correlation]") {
  // A constant column: R returns NA with a warning; we return NaN with a reason.
  const st::CorrelationResult c = st::PearsonCorrelation({1, 1, 1, 1}, {1, 2, 3, 5}, "dose", "pain");
  CHECK(std::isnan(c.estimate));
  CHECK(std::isnan(c.p_value));
  CHECK(c.n == 4);
  CHECK(c.note == "'dose' is constant (standard deviation zero); correlation undefined");
  const st::CorrelationResult cs = st::SpearmanCorrelation({1, 2, 3, 5}, {4, 4, 4, 4}, "dose", "pain");
  CHECK(std::isnan(cs.estimate));
  CHECK(cs.note == "'pain' is constant (standard deviation zero); correlation undefined");

  const double nan = st::kNaN;
  REQUIRE_THROWS_WITH(st::PearsonCorrelation({1, 2, nan, 4}, {1, nan, 3, 4}, "il6", "pain"),
                      "PearsonCorrelation: variables 'il6' and 'pain' have 2 complete pairs, at least 3 needed");
  REQUIRE_THROWS_WITH(st::SpearmanCorrelation({nan, nan, nan}, {1, 2, 3}, "il6", "pain"),
                      "SpearmanCorrelation: variables 'il6' and 'pain' have 0 complete pairs, at least 3 needed");
  REQUIRE_THROWS_WITH(st::PearsonCorrelation({1.0}, {2.0}, "il6", "pain"),
                      "PearsonCorrelation: variables 'il6' and 'pain' have 1 complete pairs, at least 3 needed");
  REQUIRE_THROWS_AS(st::PearsonCorrelation({1, 2, 3}, {1, 2}, "il6", "pain"), NumericalError);
  REQUIRE_THROWS_AS(st::PearsonCorrelation({1, 2, 3, 4}, {1, 2, 4, 3}, "il6", "pain", 1.0), NumericalError);
}
