// Expected values: tests/reference/stats_probability.R (R 4.2.2).
#include "stats/probability.h"

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

using Catch::Matchers::WithinRel;
namespace prob = cohortdb::stats::prob;

TEST_CASE("Distribution tails and quantiles match R's p*/q* functions", "[stats][probability]") {
  CHECK_THAT(prob::StudentTUpper(2.5, 7), WithinRel(0.020496109292876437, 1e-8));
  CHECK_THAT(prob::StudentTTwoSided(1.3, 3.5), WithinRel(0.27259541580436997, 1e-8));
  CHECK_THAT(prob::StudentTTwoSided(-1.3, 3.5), WithinRel(0.27259541580436997, 1e-8));
  CHECK_THAT(prob::StudentTQuantile(0.975, 12.3), WithinRel(2.1729334817589625, 1e-8));
  CHECK_THAT(prob::NormalLower(-3.1), WithinRel(0.00096760321321835631, 1e-8));
  CHECK_THAT(prob::NormalUpper(3.1), WithinRel(0.00096760321321835631, 1e-8));
  CHECK_THAT(prob::NormalQuantile(0.9), WithinRel(1.2815515655446008, 1e-8));
  CHECK_THAT(prob::ChiSquaredUpper(7.3, 3), WithinRel(0.062926236459043175, 1e-8));
  CHECK_THAT(prob::ChiSquaredUpper(400, 2), WithinRel(1.3838965267367376e-87, 1e-8));
  CHECK_THAT(prob::FisherFUpper(3.7, 2, 40), WithinRel(0.033545401409432553, 1e-8));
}

TEST_CASE("Distribution wrappers give NaN or the limit instead of throwing", "[stats][probability]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(std::isnan(prob::StudentTTwoSided(nan, 5)));
  CHECK(std::isnan(prob::StudentTTwoSided(1.0, 0)));  // no residual df
  CHECK(prob::StudentTTwoSided(inf, 5) == 0.0);
  CHECK(prob::StudentTUpper(-inf, 5) == 1.0);
  CHECK(std::isnan(prob::StudentTQuantile(0.975, nan)));
  CHECK(std::isnan(prob::NormalQuantile(1.0)));
  CHECK(prob::NormalTwoSided(-inf) == 0.0);
  CHECK(prob::ChiSquaredUpper(0.0, 2) == 1.0);
  CHECK(std::isnan(prob::ChiSquaredUpper(nan, 2)));
  CHECK(prob::FisherFUpper(inf, 1, 10) == 0.0);
  CHECK(std::isnan(prob::FisherFUpper(2.0, 0, 10)));
}
