// Logistic regression against R's glm(family = binomial). Expected values come
// from tests/reference/stats_logistic.R (which also writes the CSV files read
// here); rerun it and paste its output to refresh them.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "common/error.h"
#include "model_csv.h"
#include "stats/logistic.h"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::stats::FitLogistic;
using cohortdb::stats::testing::ReadModelCsv;

namespace {

void CheckColumn(const std::vector<cohortdb::stats::TermEstimate>& terms,
                 double cohortdb::stats::TermEstimate::*field, const std::vector<double>& expected,
                 double tolerance) {
  REQUIRE(terms.size() == expected.size());
  for (size_t j = 0; j < expected.size(); ++j) {
    INFO("term " << terms[j].term);
    CHECK_THAT(terms[j].*field, WithinRel(expected[j], tolerance));
  }
}

}  // namespace

TEST_CASE("logistic regression equals glm on an ordinary data set", "[logistic]") {
  const auto csv = ReadModelCsv("logistic_basic.csv");
  const Eigen::MatrixXd x = csv.Design({"x1", "x2", "x3"});
  const std::vector<std::string> names{"(Intercept)", "x1", "x2", "x3"};
  const auto fit = FitLogistic(x, names, csv.Column("y"));
  using T = cohortdb::stats::TermEstimate;
  // stats_logistic.R, "== basic"
  CheckColumn(fit.terms, &T::estimate,
              {-0.694304855908944, 0.829987510599062, -0.667534737461609, 0.000287202833413755}, 1e-6);
  CheckColumn(fit.terms, &T::std_error,
              {0.250393022907954, 0.123641715395505, 0.228420547063736, 8.13162533859165e-05}, 1e-6);
  CheckColumn(fit.terms, &T::statistic,
              {-2.77286023326686, 6.7128437028239, -2.92239356766512, 3.53192407981129}, 1e-6);
  CheckColumn(fit.terms, &T::p_value,
              {0.00555659806008168, 1.90867530444893e-11, 0.00347352314162118, 0.00041254777914095}, 1e-6);
  CheckColumn(fit.terms, &T::conf_low,
              {-1.18506616278865, 0.58765420143712, -1.11523078303547, 0.000127825905419626}, 1e-6);
  CheckColumn(fit.terms, &T::conf_high,
              {-0.203543549029241, 1.072320819761, -0.21983869188775, 0.000446579761407885}, 1e-6);
  CHECK_THAT(fit.deviance, WithinRel(476.007370618477, 1e-9));
  CHECK_THAT(fit.null_deviance, WithinRel(549.216022284037, 1e-9));
  CHECK_THAT(fit.log_likelihood, WithinRel(-238.003685309239, 1e-9));
  CHECK_THAT(fit.aic, WithinRel(484.007370618477, 1e-9));
  CHECK(fit.convergence.iterations == 3);
  CHECK(fit.convergence.converged);
  CHECK(fit.convergence.max_abs_score < 1e-6);
  CHECK(fit.rank == 4);
  CHECK(fit.df_residual == 396);
  CHECK(fit.df_null == 399);
  CHECK_FALSE(fit.separation.detected);
  CHECK(fit.messages.empty());

  SECTION("odds ratio per 2 SD of x1") {
    const auto odds = cohortdb::stats::OddsRatioPerSd(fit, x, "x1", 2.0);
    CHECK(odds.estimable());
    CHECK_THAT(odds.odds_ratio, WithinRel(5.61941733448161, 1e-6));
    CHECK_THAT(odds.conf_low, WithinRel(3.39470660707167, 1e-6));
    CHECK_THAT(odds.conf_high, WithinRel(9.30208552140886, 1e-6));
  }
  SECTION("plain odds ratios are exp(estimate)") {
    const auto odds = cohortdb::stats::OddsRatios(fit);
    CHECK_THAT(odds[2].odds_ratio, WithinRel(std::exp(-0.667534737461609), 1e-6));
    CHECK_THAT(odds[2].conf_high, WithinRel(std::exp(-0.21983869188775), 1e-6));
  }
  SECTION("an unknown term is named") {
    REQUIRE_THROWS_WITH(cohortdb::stats::OddsRatioPerSd(fit, x, "age", 2.0),
                        Contains("no term 'age'") && Contains("'x1'"));
  }
}

TEST_CASE("logistic regression reports complete separation instead of a huge odds ratio", "[logistic]") {
  const auto csv = ReadModelCsv("logistic_separation.csv");
  const auto fit = FitLogistic(csv.Design({"x"}), {"(Intercept)", "x"}, csv.Column("y"));
  // stats_logistic.R, "== complete separation": glm stops after 25 iterations
  // with "algorithm did not converge" and "fitted probabilities numerically 0 or 1".
  CHECK(fit.convergence.iterations == 25);
  CHECK_FALSE(fit.convergence.converged);
  CHECK(fit.fitted_probabilities_extreme);
  CHECK_THAT(fit.terms[1].estimate, WithinRel(85.8720230401677, 1e-4));
  REQUIRE(fit.separation.detected);
  CHECK(fit.separation.complete);
  CHECK(fit.separation.terms == std::vector<std::string>{"x"});
  CHECK_THAT(fit.separation.message, Contains("complete separation: 'x' predicts the outcome perfectly"));
  const auto odds = cohortdb::stats::OddsRatios(fit);
  CHECK_FALSE(odds[1].estimable());
  CHECK(std::isnan(odds[1].odds_ratio));
  CHECK_THAT(odds[1].note, Contains("does not exist"));
}

TEST_CASE("logistic regression reports quasi-complete separation naming the term", "[logistic]") {
  const auto csv = ReadModelCsv("logistic_quasi.csv");
  const auto fit = FitLogistic(csv.Design({"x", "g"}), {"(Intercept)", "x", "g"}, csv.Column("y"));
  // stats_logistic.R, "== quasi-complete separation": glm "converges" after 17
  // iterations with g = 18.4 (SE 1175) and no warning at all.
  CHECK(fit.convergence.converged);
  CHECK(fit.convergence.iterations == 17);
  CHECK_THAT(fit.terms[1].estimate, WithinRel(0.351901801612254, 1e-6));
  CHECK_THAT(fit.terms[1].std_error, WithinRel(0.230506234321781, 1e-6));
  CHECK_THAT(fit.terms[2].estimate, WithinRel(18.4333483645318, 1e-6));
  CHECK_THAT(fit.deviance, WithinRel(121.933129690266, 1e-9));
  REQUIRE(fit.separation.detected);
  CHECK_FALSE(fit.separation.complete);
  CHECK(fit.separation.terms == std::vector<std::string>{"g"});
  CHECK_THAT(fit.separation.message, Contains("quasi-complete separation: 'g'"));
  const auto odds = cohortdb::stats::OddsRatios(fit);
  CHECK(odds[1].estimable());
  CHECK_FALSE(odds[2].estimable());
}

TEST_CASE("logistic regression names aliased terms and fits the rest", "[logistic]") {
  const auto csv = ReadModelCsv("logistic_basic.csv");
  Eigen::MatrixXd x(csv.values.rows(), 6);
  x.col(0).setOnes();
  x.col(1) = csv.Column("x1");
  x.col(2) = csv.Column("x2");
  x.col(3) = csv.Column("x1") + csv.Column("x2");
  x.col(4).setConstant(3.0);
  x.col(5) = csv.Column("x3");
  const auto fit = FitLogistic(x, {"(Intercept)", "x1", "x2", "x12", "const", "x3"}, csv.Column("y"));
  // stats_logistic.R, "== aliased": x12 and const are NA, the rest as "== basic".
  CHECK(fit.aliased == std::vector<std::string>{"x12", "const"});
  CHECK(std::isnan(fit.terms[3].estimate));
  CHECK(std::isnan(fit.terms[4].std_error));
  CHECK_THAT(fit.terms[1].estimate, WithinRel(0.829987510599062, 1e-6));
  CHECK_THAT(fit.terms[5].std_error, WithinRel(8.13162533859165e-05, 1e-6));
  CHECK_THAT(fit.aic, WithinRel(484.007370618477, 1e-9));
  CHECK(fit.rank == 4);
  REQUIRE_FALSE(fit.messages.empty());
  CHECK_THAT(fit.messages[0], Contains("'x12' and 'const' aliased"));
  CHECK_FALSE(cohortdb::stats::OddsRatios(fit)[4].estimable());
}

TEST_CASE("logistic regression rejects unusable input with a message naming it", "[logistic]") {
  Eigen::MatrixXd one_row(1, 2);
  one_row << 1.0, 0.5;
  REQUIRE_THROWS_AS(FitLogistic(one_row, {"(Intercept)", "x"}, Eigen::VectorXd::Ones(1)),
                    cohortdb::NumericalError);
  REQUIRE_THROWS_WITH(FitLogistic(one_row, {"(Intercept)", "x"}, Eigen::VectorXd::Ones(1)),
                      "FitLogistic: need at least 2 rows, found 1");

  Eigen::MatrixXd x(4, 2);
  x << 1, 0.1, 1, 0.4, 1, 0.2, 1, 0.9;
  Eigen::VectorXd y(4);
  y << 0, 1, 0.5, 1;
  REQUIRE_THROWS_WITH(FitLogistic(x, {"(Intercept)", "x"}, y),
                      "FitLogistic: y row 3 is 0.500000; expected 0 or 1");
  y << 0, 0, 0, 0;
  REQUIRE_THROWS_WITH(FitLogistic(x, {"(Intercept)", "x"}, y), Contains("y is 0 in every row"));
  y << 0, 1, 0, 1;
  x(2, 1) = std::nan("");
  REQUIRE_THROWS_WITH(FitLogistic(x, {"(Intercept)", "x"}, y), Contains("column 'x' row 3 is not finite"));
  REQUIRE_THROWS_AS(FitLogistic(x, {"x"}, y), cohortdb::InputError);
}
