// meta on the trial summaries of tests/data/analysis/meta.csv, against
// tests/reference/analysis_reference.R (metafor::escalc and rma).
#include <catch2/catch.hpp>

#include <cmath>

#include "analysis/analysis.h"
#include "analysis_fixture.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::analysis::RunAnalysis;
using namespace cohortdb::testing;

TEST_CASE("meta: SMD pooled by REML with prediction interval / as rma", "[analysis][meta]") {
  auto store = MetaStore();
  const auto result = RunAnalysis(
      store, Request("meta", {{"study", "meta"}, {"outcome", "pain"}, {"measure", "SMD"}, {"plot", true}}));
  // tests/reference/analysis_reference.R: meta.smd.reml, meta.smd.yi1
  const auto& pooled = FindRow(result, "pooled", "pooled (REML)");
  CHECK_THAT(pooled.estimate, WithinRel(-0.481950499268047, 1e-6));
  CHECK_THAT(pooled.std_error, WithinRel(0.114224170560496, 1e-6));
  CHECK_THAT(pooled.p_value, WithinRel(2.45019605150328e-05, 1e-5));
  CHECK_THAT(pooled.extra["tau2"].get<double>(), WithinRel(0.107899020826274, 1e-5));
  CHECK_THAT(pooled.extra["i2"].get<double>(), WithinRel(70.2421901743767, 1e-5));
  CHECK_THAT(pooled.extra["q"].get<double>(), WithinRel(38.1984854821438, 1e-9));
  CHECK_THAT(pooled.extra["pi_low"].get<double>(), WithinRel(-1.1635733990774, 1e-5));
  CHECK_THAT(pooled.extra["pi_high"].get<double>(), WithinRel(0.199672400541311, 1e-4));
  const auto& first = FindRow(result, "studies", "Trial A 2001");
  CHECK_THAT(first.estimate, WithinRel(-0.495813966066442, 1e-9));
  CHECK_THAT(std::pow(first.std_error, 2), WithinRel(0.0497652208231117, 1e-9));
  CHECK(result.rows_used == 12);
  CHECK(result.plot_svg.find("Prediction interval") != std::string::npos);
  CHECK(result.plot_svg.find("<polygon") != std::string::npos);
}

TEST_CASE("meta: DL and FE pooling / meta-regression on duration / subgroups with --by", "[analysis][meta]") {
  auto store = MetaStore();
  const auto dl =
      RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "pain"}, {"method", "DL"}}));
  // tests/reference/analysis_reference.R: meta.smd.dl, meta.smd.fe, meta.smd.mods, meta.smd.primary
  CHECK_THAT(FindRow(dl, "pooled", "pooled (DL)").estimate, WithinRel(-0.482438217130355, 1e-8));
  CHECK_THAT(FindRow(dl, "pooled", "pooled (DL)").extra["tau2"].get<double>(),
             WithinRel(0.113024464818264, 1e-8));
  const auto fe =
      RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "pain"}, {"method", "FE"}}));
  CHECK_THAT(FindRow(fe, "pooled", "pooled (FE)").estimate, WithinRel(-0.434791482927068, 1e-8));
  CHECK_THAT(FindRow(fe, "pooled", "pooled (FE)").std_error, WithinRel(0.0613612268595374, 1e-8));
  const auto mods = RunAnalysis(
      store,
      Request("meta",
              {{"study", "meta"}, {"outcome", "pain"}, {"mods", {"duration_weeks"}}, {"by", "setting"}}));
  CHECK_THAT(FindRow(mods, "meta_regression", "intercept").estimate, WithinRel(-0.399236804179157, 1e-5));
  CHECK_THAT(FindRow(mods, "meta_regression", "duration_weeks").estimate,
             WithinRel(-0.00556942173151311, 1e-4));
  CHECK_THAT(FindRow(mods, "meta_regression", "duration_weeks").std_error,
             WithinRel(0.0169812426541966, 1e-4));
  CHECK_THAT(mods.summary["meta_regression"]["tau2"].get<double>(), WithinRel(0.12057979845175, 1e-4));
  // A moderator imported as an attribute column is stored as its text
  // ("12"); it gives the same regression as the numeric column.
  store.Exec("UPDATE meta_trial SET attributes = json_set(attributes, '$.weeks', CAST(duration_weeks AS TEXT))");
  const auto text_mods =
      RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "pain"}, {"mods", {"weeks"}}}));
  CHECK_THAT(FindRow(text_mods, "meta_regression", "weeks").estimate, WithinRel(-0.00556942173151311, 1e-4));
  CHECK_THAT(FindRow(text_mods, "meta_regression", "weeks").std_error, WithinRel(0.0169812426541966, 1e-4));
  const auto& primary = FindRow(mods, "pooled", "pooled (REML)", "setting=primary");
  CHECK_THAT(primary.estimate, WithinRel(-0.315668876489879, 1e-5));
  CHECK_THAT(primary.extra["tau2"].get<double>(), WithinRel(0.0708176699420718, 1e-4));
  // meta.smd.subgroup_q: Q between the two settings' REML estimates, df 1.
  const auto& difference = FindRow(mods, "subgroup_difference", "setting (Q between subgroups)");
  CHECK_THAT(difference.statistic, WithinRel(9.11123892605032, 1e-5));
  CHECK(difference.extra["df"].get<double>() == 1);
  CHECK_THAT(difference.p_value, WithinRel(0.00254043751006349, 1e-4));
  CHECK(difference.n == 2);
  CHECK_THAT(mods.summary["subgroup_difference"]["q"].get<double>(), WithinRel(9.11123892605032, 1e-5));
}

TEST_CASE("meta: odds ratios from event counts with a zero cell", "[analysis][meta]") {
  auto store = MetaStore();
  const auto result =
      RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "responder"}, {"measure", "OR"}}));
  // tests/reference/analysis_reference.R: meta.or.reml
  const auto& pooled = FindRow(result, "pooled", "pooled (REML)");
  CHECK_THAT(pooled.extra["odds_ratio"].get<double>(), WithinRel(1.41201208598371, 1e-5));
  CHECK_THAT(pooled.std_error, WithinRel(0.163843659126577, 1e-5));
  CHECK(FindRow(result, "studies", "Trial E 2005").extra.contains("note"));
}

TEST_CASE("meta: an outcome no trial reports names the outcomes there are", "[analysis][meta]") {
  auto store = MetaStore();
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "pian"}})),
      "meta: study 'meta' has no trial summaries for outcome 'pian' (outcomes: pain, responder)");
}
