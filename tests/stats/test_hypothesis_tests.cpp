// Expected values: tests/reference/stats_tests.R (R 4.2.2: t.test,
// wilcox.test, chisq.test, prop.trend.test, fisher.test, p.adjust).
#include <cmath>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "stats/chi_square.h"
#include "stats/fisher_exact.h"
#include "stats/p_adjust.h"
#include "stats/t_test.h"
#include "stats/wilcoxon.h"
#include "trial_data.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::NumericalError;
namespace st = cohortdb::stats;

TEST_CASE("Student and Welch t-tests match t.test", "[stats][tests]") {
  const auto trial = st::testing::LoadTrial();
  const auto x = trial.InGroup("pain_change", 1);
  const auto y = trial.InGroup("pain_change", 0);
  const st::TTestResult s = st::StudentTTest(x, y);
  CHECK(s.n_x == 20);
  CHECK(s.n_y == 19);
  CHECK_THAT(s.statistic, WithinRel(-2.8480462728045861, 1e-8));
  CHECK(s.df == 37);
  CHECK_THAT(s.p_value, WithinRel(0.0071407819025933617, 1e-8));
  CHECK_THAT(s.conf_low, WithinRel(-1.9501322092540176, 1e-8));
  CHECK_THAT(s.conf_high, WithinRel(-0.3288151591670348, 1e-8));
  CHECK_THAT(s.mean_x, WithinRel(-1.3500000000000001, 1e-8));
  CHECK_THAT(s.mean_y, WithinRel(-0.21052631578947367, 1e-8));

  const st::TTestResult w = st::WelchTTest(x, y);
  CHECK_THAT(w.statistic, WithinRel(-2.8349136483702599, 1e-8));
  CHECK_THAT(w.df, WithinRel(35.181795015891225, 1e-8));
  CHECK_THAT(w.p_value, WithinRel(0.0075469137965369212, 1e-8));
  CHECK_THAT(w.conf_low, WithinRel(-1.9553106469824968, 1e-8));
  CHECK_THAT(w.conf_high, WithinRel(-0.32363672143855621, 1e-8));

  const st::TTestResult w90 = st::WelchTTest(trial.InGroup("pcs_change", 1), trial.InGroup("pcs_change", 0), 0.9);
  CHECK_THAT(w90.conf_low, WithinRel(2.6023536381726498, 1e-8));
  CHECK_THAT(w90.conf_high, WithinRel(6.527170171351159, 1e-8));
  CHECK_THAT(w90.p_value, WithinRel(0.00036679102798674421, 1e-8));
}

TEST_CASE("t-test edge cases: too few values / constant data", "[stats][tests]") {
  REQUIRE_THROWS_WITH(st::WelchTTest({1.0, st::kNaN}, {1, 2, 3}),
                      "WelchTTest: argument x has 1 non-missing values, at least 2 needed");
  REQUIRE_THROWS_WITH(st::StudentTTest({}, {1, 2, 3}),
                      "StudentTTest: argument x has 0 non-missing values, at least 1 needed");
  REQUIRE_THROWS_WITH(st::StudentTTest({1.0}, {2.0}),
                      "StudentTTest: arguments x and y have 2 non-missing values together, at least 3 needed");
  REQUIRE_THROWS_AS(st::WelchTTest({2, 2, 2}, {2, 2}), NumericalError);
  // One value in y is allowed with pooled variance, as R.
  CHECK_NOTHROW(st::StudentTTest({1, 2, 3}, {5}));
}

TEST_CASE("Wilcoxon rank-sum with ties matches wilcox.test(exact = FALSE)", "[stats][tests]") {
  const auto trial = st::testing::LoadTrial();
  const st::RankSumResult p = st::WilcoxonRankSumTest(trial.InGroup("pain_change", 1), trial.InGroup("pain_change", 0));
  CHECK(p.statistic == 105);
  CHECK_THAT(p.p_value, WithinRel(0.014246574179403025, 1e-8));
  const st::RankSumResult i = st::WilcoxonRankSumTest(trial.InGroup("il6_change", 1), trial.InGroup("il6_change", 0));
  CHECK(i.statistic == 80);
  CHECK_THAT(i.p_value, WithinRel(0.0020909821644985241, 1e-8));
  REQUIRE_THROWS_WITH(st::WilcoxonRankSumTest({1, 1}, {1, 1, 1}),
                      "WilcoxonRankSumTest: all values of x and y are tied; the test is undefined");
  REQUIRE_THROWS_AS(st::WilcoxonRankSumTest({st::kNaN}, {1, 2}), NumericalError);
}

TEST_CASE("Chi-square test of independence matches chisq.test", "[stats][tests]") {
  Eigen::MatrixXd t22(2, 2);
  t22 << 14, 7, 12, 8;
  const st::ChiSquareResult yates = st::ChiSquareIndependence(t22);
  CHECK(yates.yates);
  CHECK_THAT(yates.statistic, WithinRel(0.014079670329670337, 1e-8));
  CHECK(yates.df == 1);
  CHECK_THAT(yates.p_value, WithinRel(0.90554648157642592, 1e-8));
  CHECK_THAT(yates.expected(0, 0), WithinRel(13.317073170731707, 1e-8));
  CHECK_THAT(yates.expected(1, 1), WithinRel(7.3170731707317076, 1e-8));
  // |O - E| below 0.5: Yates subtracts min(0.5, |O - E|), leaving 0 (as R).
  Eigen::MatrixXd close(2, 2);
  close << 10, 10, 10, 11;
  const st::ChiSquareResult small = st::ChiSquareIndependence(close);
  CHECK_THAT(small.statistic, WithinAbs(0.0, 1e-12));
  CHECK_THAT(small.p_value, WithinRel(1.0, 1e-8));
  const st::ChiSquareResult plain = st::ChiSquareIndependence(t22, false);
  CHECK_FALSE(plain.yates);
  CHECK_THAT(plain.statistic, WithinRel(0.19623931623931629, 1e-8));
  CHECK_THAT(plain.p_value, WithinRel(0.65777364043404551, 1e-8));

  Eigen::MatrixXd t32(3, 2);
  t32 << 5, 5, 8, 15, 7, 1;
  const st::ChiSquareResult c = st::ChiSquareIndependence(t32);
  CHECK_FALSE(c.yates);
  CHECK_THAT(c.statistic, WithinRel(6.6099767080745329, 1e-8));
  CHECK(c.df == 2);
  CHECK_THAT(c.p_value, WithinRel(0.036699639236528678, 1e-8));
  CHECK_THAT(c.expected(2, 0), WithinRel(3.9024390243902438, 1e-8));

  Eigen::MatrixXd zero_row(2, 2);
  zero_row << 0, 0, 3, 4;
  REQUIRE_THROWS_WITH(st::ChiSquareIndependence(zero_row),
                      "ChiSquareIndependence: row 1 of argument counts sums to zero; expected counts undefined");
  REQUIRE_THROWS_AS(st::ChiSquareIndependence(Eigen::MatrixXd::Ones(1, 3)), NumericalError);
}

TEST_CASE("Chi-square test for trend matches prop.trend.test", "[stats][tests]") {
  const st::ChiSquareResult t = st::ChiSquareTrend({1523, 2810, 1650}, {6191, 14485, 7500});
  CHECK_THAT(t.statistic, WithinRel(9.9961926626395918, 1e-8));
  CHECK_THAT(t.p_value, WithinRel(0.0015686420252860372, 1e-8));
  const st::ChiSquareResult s = st::ChiSquareTrend({15, 10, 6, 3}, {40, 40, 40, 40}, {0, 1, 2, 4});
  CHECK_THAT(s.statistic, WithinRel(11.102040816326532, 1e-8));
  CHECK_THAT(s.p_value, WithinRel(0.00086232773402205784, 1e-8));
  REQUIRE_THROWS_AS(st::ChiSquareTrend({0, 0}, {10, 10}), NumericalError);
  REQUIRE_THROWS_AS(st::ChiSquareTrend({1}, {10}), NumericalError);
}

TEST_CASE("Fisher's exact test matches fisher.test", "[stats][tests]") {
  const st::FisherExactResult f = st::FisherExactTest(12, 7, 5, 20);
  CHECK_THAT(f.p_value, WithinRel(0.0053137636984818409, 1e-8));
  // Conditional MLE and CI solved tightly in the R script (fisher.test's own
  // uniroot tolerance is ~1e-4; its printed values are checked to 1e-4).
  CHECK_THAT(f.odds_ratio, WithinRel(6.5145839565552093, 1e-8));
  CHECK_THAT(f.conf_low, WithinRel(1.4955215609154799, 1e-8));
  CHECK_THAT(f.conf_high, WithinRel(33.384029581158451, 1e-8));
  CHECK_THAT(f.odds_ratio, WithinRel(6.5145934637429592, 1e-4));
  CHECK_THAT(f.conf_high, WithinRel(33.384943468307583, 1e-4));
  CHECK_THAT(f.sample_odds_ratio, WithinRel(12.0 * 20 / (7 * 5), 1e-12));

  const st::FisherExactResult small = st::FisherExactTest(3, 1, 1, 3);
  CHECK_THAT(small.p_value, WithinRel(0.48571428571428582, 1e-8));
  CHECK_THAT(small.odds_ratio, WithinRel(6.4083196581996678, 1e-8));

  const st::FisherExactResult edge = st::FisherExactTest(0, 8, 6, 4);
  CHECK_THAT(edge.p_value, WithinRel(0.012820512820512813, 1e-8));
  CHECK(edge.odds_ratio == 0);
  CHECK(edge.conf_low == 0);
  CHECK_THAT(edge.conf_high, WithinRel(0.72835794277516763, 1e-4));
  REQUIRE_THROWS_WITH(st::FisherExactTest(1.5, 2, 3, 4),
                      "FisherExactTest: cell a must be a non-negative whole count, found 1.500000");
}

TEST_CASE("Holm and Benjamini-Hochberg match p.adjust / NaN kept out", "[stats][tests]") {
  const double nan = st::kNaN;
  const std::vector<double> p{0.01, 0.04, 0.03, 0.005, nan, 0.2, 0.04};
  const std::vector<double> holm = st::AdjustHolm(p);
  const std::vector<double> holm_r{0.05, 0.12, 0.12, 0.03, nan, 0.2, 0.12};
  const std::vector<double> bh = st::AdjustBenjaminiHochberg(p);
  const std::vector<double> bh_r{0.03, 0.048, 0.048, 0.03, nan, 0.2, 0.048};
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (std::isnan(p[i])) {
      CHECK(std::isnan(holm[i]));
      CHECK(std::isnan(bh[i]));
      continue;
    }
    CHECK_THAT(holm[i], WithinRel(holm_r[i], 1e-8));
    CHECK_THAT(bh[i], WithinRel(bh_r[i], 1e-8));
  }
  CHECK(st::AdjustHolm({}).empty());
}
