// The trial analyses (correlate, regress, compare, mediate, describe) on
// tests/data/analysis/trial.csv, against tests/reference/analysis_reference.R.
#include <catch2/catch.hpp>

#include "analysis/analysis.h"
#include "analysis_fixture.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::analysis::RunAnalysis;
using namespace cohortdb::testing;

namespace {

nlohmann::ordered_json TrialOptions(nlohmann::ordered_json extra) {
  nlohmann::ordered_json o = {
      {"study", "trial"},
      {"derive",
       {"il6_change=change(il6, baseline, week12)", "crp_change=change(crp, baseline, week12)",
        "pain_change=change(pain_nrs, baseline, week12)"}}};
  for (auto& [k, v] : extra.items()) o[k] = v;
  return o;
}

}  // namespace

TEST_CASE("correlate: Pearson of change scores with Holm adjustment / as cor.test", "[analysis][correlate]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store, Request("correlate",
                     TrialOptions(
                         {{"x", {"il6_change", "crp_change"}}, {"y", {"pain_change"}}, {"adjust", "holm"}})));
  // tests/reference/analysis_reference.R: trial.correlate.* (each pair on its
  // own complete rows, as cor.test; crp_change pairs on all 40)
  CHECK(result.rows_used == 40);
  CHECK(result.rows_excluded == 0);
  CHECK(result.diagnostics["excluded_because"]["missing il6_change"] == 3);
  const auto& il6 = FindRow(result, "correlations", "il6_change ~ pain_change");
  CHECK_THAT(il6.estimate, WithinRel(0.4849278695935, 1e-10));
  CHECK_THAT(il6.p_value, WithinRel(0.00235136325833044, 1e-8));
  CHECK_THAT(il6.conf_low, WithinRel(0.190904983019875, 1e-8));
  CHECK_THAT(il6.conf_high, WithinRel(0.699100161966042, 1e-8));
  CHECK(*il6.n == 37);
  CHECK_THAT(il6.extra["p_adjusted"].get<double>(), WithinRel(0.00470272651666087, 1e-8));
  const auto& crp = FindRow(result, "correlations", "crp_change ~ pain_change");
  CHECK(*crp.n == 40);
  CHECK_THAT(crp.estimate, WithinRel(0.0714325209600011, 1e-8));
  CHECK_THAT(crp.p_value, WithinRel(0.661376620018271, 1e-8));
  CHECK_THAT(crp.extra["p_adjusted"].get<double>(), WithinRel(0.661376620018271, 1e-8));
}

TEST_CASE("correlate --by sex: overall and within each sex", "[analysis][correlate][by]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store,
      Request("correlate",
              TrialOptions({{"x", {"il6_change", "crp_change"}}, {"y", {"pain_change"}}, {"by", "sex"}})));
  // tests/reference/analysis_reference.R: trial.correlate_by.female, trial.correlate.il6.r
  const auto& female = FindRow(result, "correlations", "il6_change ~ pain_change", "sex=female");
  CHECK(*female.n == 23);
  CHECK_THAT(female.estimate, WithinRel(0.441542669108216, 1e-10));
  CHECK_THAT(FindRow(result, "correlations", "il6_change ~ pain_change").estimate,
             WithinRel(0.4849278695935, 1e-10));
  CHECK_NOTHROW(FindRow(result, "correlations", "crp_change ~ pain_change", "sex=male"));
}

TEST_CASE("correlate: Spearman", "[analysis][correlate]") {
  auto store = TrialStore();
  const auto result =
      RunAnalysis(store, Request("correlate", TrialOptions({{"x", {"il6_change", "crp_change"}},
                                                            {"y", {"pain_change"}},
                                                            {"method", "spearman"}})));
  const auto& il6 = FindRow(result, "correlations", "il6_change ~ pain_change");
  CHECK_THAT(il6.estimate, WithinRel(0.495835278657743, 1e-10));
  CHECK_THAT(il6.p_value, WithinRel(0.00180388016320422, 1e-8));
}

TEST_CASE("censored values: exclude drops the rows / half substitutes limit/2", "[analysis][censored]") {
  auto store = TrialStore();
  auto options = TrialOptions({{"x", {"il6_change"}}, {"y", {"pain_change"}}, {"censored", "half"}});
  const auto result = RunAnalysis(store, Request("correlate", options));
  // tests/reference/analysis_reference.R: trial.half.*
  CHECK(result.rows_used == 40);
  CHECK(result.rows_excluded == 0);
  CHECK_THAT(FindRow(result, "correlations", "il6_change ~ pain_change").estimate,
             WithinRel(0.356087195813296, 1e-10));
  options["censored"] = "exclude";
  CHECK(RunAnalysis(store, Request("correlate", options)).rows_used == 37);
  options["censored"] = "nonsense";
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("correlate", options)),
                      "--censored: expected exclude|half|sqrt2|limit, found 'nonsense'");
}

TEST_CASE("regress: OLS with a categorical predictor and standardised betas / as lm", "[analysis][regress]") {
  auto store = TrialStore();
  const auto result =
      RunAnalysis(store, Request("regress", TrialOptions({{"outcome", "pain_change"},
                                                          {"predictors", {"arm", "il6_change"}},
                                                          {"standardize", true}})));
  // tests/reference/analysis_reference.R: trial.regress.*
  CHECK(result.rows_used == 37);
  const auto& intercept = FindRow(result, "coefficients", "(Intercept)");
  const auto& arm = FindRow(result, "coefficients", "armintervention");
  const auto& il6 = FindRow(result, "coefficients", "il6_change");
  CHECK_THAT(intercept.estimate, WithinRel(-0.454228698156343, 1e-9));
  CHECK_THAT(arm.estimate, WithinRel(-0.801269130658629, 1e-9));
  CHECK_THAT(il6.estimate, WithinRel(0.463464649510976, 1e-9));
  CHECK_THAT(arm.std_error, WithinRel(0.355178547799912, 1e-9));
  CHECK_THAT(arm.p_value, WithinRel(0.0306182475233656, 1e-8));
  CHECK_THAT(il6.p_value, WithinRel(0.0667381930413426, 1e-8));
  CHECK_THAT(arm.extra["std_beta"].get<double>(), WithinRel(-0.363257678952665, 1e-9));
  CHECK_THAT(il6.extra["std_beta"].get<double>(), WithinRel(0.304998024348357, 1e-9));
  CHECK_THAT(result.summary["r_squared"].get<double>(), WithinRel(0.334736430816626, 1e-9));
}

TEST_CASE("regress --by: per stratum / overall and the nested F test of the interaction",
          "[analysis][regress][by]") {
  auto store = TrialStore();
  const auto result =
      RunAnalysis(store, Request("regress", TrialOptions({{"outcome", "pain_change"},
                                                          {"predictors", {"arm", "il6_change"}},
                                                          {"by", "sex"}})));
  // tests/reference/analysis_reference.R: trial.regress_by.*
  CHECK_THAT(FindRow(result, "coefficients", "armintervention").estimate,
             WithinRel(-0.801269130658629, 1e-9));
  CHECK_THAT(FindRow(result, "coefficients", "(Intercept)", "sex=female").estimate,
             WithinRel(-0.514572303679734, 1e-9));
  CHECK_THAT(FindRow(result, "coefficients", "armintervention", "sex=female").estimate,
             WithinRel(-1.05222810675653, 1e-9));
  CHECK_THAT(FindRow(result, "coefficients", "il6_change", "sex=female").estimate,
             WithinRel(0.258939349206696, 1e-9));
  CHECK_NOTHROW(FindRow(result, "coefficients", "il6_change", "sex=male"));
  const auto& f = FindRow(result, "interaction", "predictors x sex");
  CHECK_THAT(f.statistic, WithinRel(0.592874625718602, 1e-8));
  CHECK_THAT(f.p_value, WithinRel(0.558881958162982, 1e-8));
  CHECK(f.extra["df"].get<double>() == 2);
}

TEST_CASE("compare: Student / Welch and Wilcoxon between the arms / as t.test and wilcox.test",
          "[analysis][compare]") {
  auto store = TrialStore();
  const auto result =
      RunAnalysis(store, Request("compare", TrialOptions({{"vars", {"pain_change"}}, {"group", "arm"}})));
  // tests/reference/analysis_reference.R: trial.compare.*
  REQUIRE(result.rows.size() == 3);
  const auto& student = result.rows[0];
  CHECK(student.extra["test"] == "Student t");
  CHECK_THAT(student.statistic, WithinRel(4.16052557326861, 1e-9));
  CHECK_THAT(student.p_value, WithinRel(0.000174882731188026, 1e-8));
  CHECK_THAT(student.estimate, WithinRel(1.3, 1e-12));
  const auto& welch = result.rows[1];
  CHECK_THAT(welch.p_value, WithinRel(0.000200550108393326, 1e-8));
  CHECK_THAT(welch.extra["df"].get<double>(), WithinRel(34.4009707907735, 1e-9));
  const auto& wilcoxon = result.rows[2];
  CHECK_THAT(wilcoxon.statistic, WithinRel(327.0, 1e-12));
  CHECK_THAT(wilcoxon.p_value, WithinRel(0.000415632639781798, 1e-8));
}

TEST_CASE("mediate: paths / indirect effect with Sobel SE / the bootstrap repeats with its seed",
          "[analysis][mediate]") {
  auto store = TrialStore();
  auto options = TrialOptions(
      {{"treatment", "arm"}, {"mediator", "il6_change"}, {"outcome", "pain_change"}, {"boot", 0}});
  const auto result = RunAnalysis(store, Request("mediate", options));
  // tests/reference/analysis_reference.R: trial.mediate.*
  CHECK_THAT(FindRow(result, "mediation", "a: arm -> il6_change").estimate,
             WithinRel(-0.719005847953217, 1e-9));
  CHECK_THAT(FindRow(result, "mediation", "a: arm -> il6_change").std_error,
             WithinRel(0.213149486490906, 1e-9));
  CHECK_THAT(FindRow(result, "mediation", "b: il6_change -> pain_change").estimate,
             WithinRel(0.463464649510976, 1e-9));
  CHECK_THAT(FindRow(result, "mediation", "direct effect").estimate, WithinRel(-0.801269130658629, 1e-9));
  CHECK_THAT(FindRow(result, "mediation", "total effect").estimate, WithinRel(-1.13450292397661, 1e-9));
  const auto& indirect = FindRow(result, "mediation", "indirect effect (a*b)");
  CHECK_THAT(indirect.estimate, WithinRel(-0.33323379331798, 1e-9));
  CHECK_THAT(indirect.std_error, WithinRel(0.201766215678808, 1e-9));
  CHECK(result.summary["treatment_coding"] == "control = 0, intervention = 1");

  options["boot"] = 200;
  options["seed"] = 7;
  const auto a = RunAnalysis(store, Request("mediate", options));
  const auto b = RunAnalysis(store, Request("mediate", options));
  const auto& ia = FindRow(a, "mediation", "indirect effect (a*b)");
  CHECK(ia.conf_low == FindRow(b, "mediation", "indirect effect (a*b)").conf_low);
  CHECK(ia.conf_high == FindRow(b, "mediation", "indirect effect (a*b)").conf_high);
  CHECK(ia.conf_low < ia.estimate);
  CHECK(ia.estimate < ia.conf_high);
}

TEST_CASE("describe: Table 1 by arm with t and chi-square tests and SMD", "[analysis][describe]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store, Request("describe", {{"study", "trial"}, {"vars", {"age_years", "sex"}}, {"group", "arm"}}));
  // tests/reference/analysis_reference.R: trial.describe.*
  const auto& age = FindRow(result, "table1", "age_years", "", "control");
  CHECK_THAT(age.extra["mean"].get<double>(), WithinRel(47.01, 1e-12));
  CHECK_THAT(age.extra["sd"].get<double>(), WithinRel(10.2490513039783, 1e-10));
  const auto& age_test = FindRow(result, "tests", "age_years");
  CHECK_THAT(age_test.p_value, WithinRel(0.146129855257812, 1e-8));
  CHECK_THAT(age_test.extra["smd"].get<double>(), WithinRel(0.469194803611266, 1e-9));
  // table(sex, arm): female/control 11, male/control 9, female/intervention 12, male/intervention 8
  CHECK(*FindRow(result, "table1", "sex=female", "", "control").n == 11);
  CHECK(*FindRow(result, "table1", "sex=male", "", "intervention").n == 8);
  CHECK_THAT(FindRow(result, "table1", "sex=female", "", "control").estimate, WithinRel(55.0, 1e-12));
  CHECK_THAT(FindRow(result, "tests", "sex").p_value, WithinRel(1.0, 1e-12));
  CHECK(*FindRow(result, "table1", "n", "", "control").n == 20);
}

TEST_CASE("describe / compare and mediate accept --by (overall first / then each stratum)", "[analysis][by]") {
  auto store = TrialStore();
  const auto table1 = RunAnalysis(
      store,
      Request("describe", {{"study", "trial"}, {"vars", {"age_years"}}, {"group", "arm"}, {"by", "sex"}}));
  CHECK(*FindRow(table1, "table1", "n", "", "control").n == 20);
  CHECK(*FindRow(table1, "table1", "n", "sex=female", "control").n == 11);  // table(sex, arm)
  CHECK(*FindRow(table1, "table1", "n", "sex=male", "intervention").n == 8);
  const auto compared = RunAnalysis(
      store, Request("compare",
                     TrialOptions(
                         {{"vars", {"pain_change"}}, {"group", "arm"}, {"test", {"welch"}}, {"by", "sex"}})));
  CHECK(compared.rows.size() == 3);
  CHECK(compared.rows[2].stratum == "sex=male");
  const auto mediated = RunAnalysis(store, Request("mediate", TrialOptions({{"treatment", "arm"},
                                                                            {"mediator", "il6_change"},
                                                                            {"outcome", "pain_change"},
                                                                            {"boot", 0},
                                                                            {"by", "sex"}})));
  CHECK_NOTHROW(FindRow(mediated, "mediation", "indirect effect (a*b)", "sex=female"));
}
