// Expected values: tests/reference/stats_descriptives.R (R 4.2.2).
#include "stats/descriptives.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "trial_data.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::NumericalError;
namespace st = cohortdb::stats;

TEST_CASE("Describe matches R mean / sd and type-7 quantiles / skipping NaN", "[stats][descriptives]") {
  const auto trial = st::testing::LoadTrial();
  const st::NumericSummary il6 = st::Describe(trial["il6_change"]);
  CHECK(il6.n == 39);
  CHECK(il6.missing == 2);
  CHECK_THAT(il6.mean, WithinRel(-0.12615384615384614, 1e-8));
  CHECK_THAT(il6.sd, WithinRel(0.66964489955346906, 1e-8));
  CHECK_THAT(il6.min, WithinRel(-1.52, 1e-8));
  CHECK_THAT(il6.q1, WithinRel(-0.66999999999999993, 1e-8));
  CHECK_THAT(il6.median, WithinRel(-0.059999999999999998, 1e-8));
  CHECK_THAT(il6.q3, WithinRel(0.31000000000000005, 1e-8));
  CHECK_THAT(il6.max, WithinRel(1.3, 1e-8));

  const st::NumericSummary pain = st::Describe(trial["pain_change"]);
  CHECK(pain.n == 39);
  CHECK_THAT(pain.mean, WithinRel(-0.79487179487179482, 1e-8));
  CHECK_THAT(pain.sd, WithinRel(1.3607174419456505, 1e-8));
  CHECK(pain.q1 == -2);
  CHECK(pain.median == -1);
  CHECK(pain.q3 == 0);

  const st::NumericSummary pcs = st::Describe(trial["pcs_change"]);
  CHECK(pcs.n == 41);
  CHECK(pcs.missing == 0);
  CHECK_THAT(pcs.mean, WithinRel(1.6780487804878048, 1e-8));
  CHECK_THAT(pcs.sd, WithinRel(4.3643735057349273, 1e-8));
  CHECK_THAT(pcs.q1, WithinRel(-0.40000000000000002, 1e-8));
  CHECK_THAT(pcs.median, WithinRel(0.90000000000000002, 1e-8));
  CHECK_THAT(pcs.q3, WithinRel(4.0999999999999996, 1e-8));
}

TEST_CASE("Quantile is R's type 7 at any probability", "[stats][descriptives]") {
  const auto trial = st::testing::LoadTrial();
  CHECK_THAT(st::Quantile(trial["pcs_change"], 0.1), WithinRel(-3.2000000000000002, 1e-8));
  CHECK_THAT(st::Quantile(trial["pcs_change"], 0.333), WithinRel(-0.16799999999999998, 1e-8));
  CHECK_THAT(st::Quantile(trial["pcs_change"], 0.9), WithinRel(5.5, 1e-8));
  CHECK_THAT(st::Quantile(trial["pcs_change"], 0.975), WithinRel(11.5, 1e-8));
  CHECK_THAT(st::Quantile({3, 1, 2, 10}, 0.5), WithinRel(2.5, 1e-8));
  CHECK_THAT(st::Quantile({3, 1, 2, 10}, 0.1), WithinRel(1.3, 1e-8));
  CHECK(st::Quantile({7}, 0.3) == 7);
  REQUIRE_THROWS_WITH(st::Quantile({1, 2}, 1.5), "Quantile: argument p must be in [0, 1], found 1.500000");
  REQUIRE_THROWS_AS(st::Quantile({st::kNaN, st::kNaN}, 0.5), NumericalError);
}

TEST_CASE("Describe of an all-missing / a single-value and a constant column", "[stats][descriptives]") {
  const st::NumericSummary none = st::Describe({st::kNaN, st::kNaN});
  CHECK(none.n == 0);
  CHECK(none.missing == 2);
  CHECK(std::isnan(none.mean));
  CHECK(std::isnan(none.median));
  const st::NumericSummary one = st::Describe({4.0, st::kNaN});
  CHECK(one.n == 1);
  CHECK(one.mean == 4.0);
  CHECK(std::isnan(one.sd));  // as R's sd() of one value
  CHECK(one.median == 4.0);
  const st::NumericSummary constant = st::Describe({2.5, 2.5, 2.5});
  CHECK(constant.sd == 0.0);
  CHECK(constant.q1 == 2.5);
}

TEST_CASE("CountLevels counts and percentages as R's table and prop.table", "[stats][descriptives]") {
  const auto trial = st::testing::LoadTrial();
  const st::CategoricalSummary s = st::CountLevels(trial.activity);
  REQUIRE(s.levels.size() == 3);
  CHECK(s.n == 41);
  CHECK(s.levels[0].level == "high");
  CHECK(s.levels[0].count == 8);
  CHECK_THAT(s.levels[0].percent, WithinRel(19.512195121951219, 1e-8));
  CHECK(s.levels[1].level == "low");
  CHECK(s.levels[1].count == 10);
  CHECK_THAT(s.levels[1].percent, WithinRel(24.390243902439025, 1e-8));
  CHECK(s.levels[2].level == "moderate");
  CHECK_THAT(s.levels[2].percent, WithinRel(56.097560975609760, 1e-8));

  const st::CategoricalSummary ordered =
      st::CountLevels({std::string("b"), std::nullopt, std::string("b")}, {"a", "b"});
  CHECK(ordered.n == 2);
  CHECK(ordered.missing == 1);
  CHECK(ordered.levels[0].level == "a");
  CHECK(ordered.levels[0].count == 0);
  CHECK(ordered.levels[1].percent == 100.0);
  REQUIRE_THROWS_WITH(st::CountLevels({std::string("c")}, {"a", "b"}),
                      "CountLevels: value 'c' is not one of the levels given in argument level_order");
}

TEST_CASE("Standardised differences use tableone's formulas", "[stats][descriptives]") {
  const auto trial = st::testing::LoadTrial();
  CHECK_THAT(st::StandardisedMeanDifference(trial.InGroup("age", 1), trial.InGroup("age", 0)),
             WithinRel(0.39989503709358415, 1e-8));
  CHECK_THAT(st::StandardisedMeanDifference(trial.InGroup("il6_change", 1), trial.InGroup("il6_change", 0)),
             WithinRel(-1.1872375346170196, 1e-8));
  CHECK_THAT(st::StandardisedProportionDifference(0.66666666666666663, 0.59999999999999998),
             WithinRel(0.13867504905630726, 1e-8));
  CHECK(std::isnan(st::StandardisedMeanDifference({1, 1}, {1, 1})));
  REQUIRE_THROWS_WITH(st::StandardisedMeanDifference({1.0}, {1.0, 2.0}),
                      "StandardisedMeanDifference: each group needs at least 2 non-missing values, found 1 in "
                      "group1 and 2 in group2");
  REQUIRE_THROWS_AS(st::StandardisedProportionDifference(1.2, 0.5), NumericalError);
}

TEST_CASE("The SMD of a categorical variable is tableone's multinomial one", "[stats][descriptives]") {
  // tests/reference/stats_descriptives.R: smd.multi.* (Yang and Dalton, MASS::ginv)
  CHECK_THAT(st::StandardisedCategoricalDifference({0.2, 0.3, 0.5}, {0.4, 0.4, 0.2}),
             WithinRel(0.68416745492823527, 1e-10));
  // A level empty in both groups makes S singular; the pseudo-inverse ignores it.
  CHECK_THAT(st::StandardisedCategoricalDifference({0.25, 0.25, 0, 0.5}, {0.5, 0.1, 0, 0.4}),
             WithinRel(0.58722021951470327, 1e-10));
  // Two levels: the binary formula, unsigned.
  CHECK_THAT(st::StandardisedCategoricalDifference({2.0 / 3, 1.0 / 3}, {0.6, 0.4}),
             WithinRel(0.13867504905630737, 1e-10));
  REQUIRE_THROWS_WITH(st::StandardisedCategoricalDifference({1.0}, {1.0}),
                      "StandardisedCategoricalDifference: expected two proportion vectors of the same length (at "
                      "least 2 levels), found lengths 1 and 1");
  REQUIRE_THROWS_AS(st::StandardisedCategoricalDifference({0.5, 1.5}, {0.5, 0.5}), NumericalError);
}
