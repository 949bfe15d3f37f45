// The lmm and glm commands on the trial test data, against
// tests/reference/analysis_models.R (lmer + lmerTest on the per-visit rows,
// glm(poisson) + sandwich::vcovHC). Formula errors through the analysis layer.
#include <catch2/catch.hpp>

#include <sstream>

#include "analysis/analysis.h"
#include "analysis/report.h"
#include "analysis_fixture.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::analysis::RunAnalysis;
using namespace cohortdb::testing;

TEST_CASE("lmm: pain over visits by arm with a random intercept / as lmer + lmerTest", "[analysis][lmm]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store, Request("lmm", {{"study", "trial"},
                             {"frame", "wide_trial_visit"},
                             {"formula", "pain_nrs ~ arm * visit + (1 | participant_id)"},
                             {"compare", "pain_nrs ~ arm + visit + (1 | participant_id)"}}));
  // analysis_models.R: lmm.*
  CHECK(result.rows_used == 80);
  const auto& arm = FindRow(result, "coefficients", "armintervention");
  CHECK_THAT(arm.estimate, WithinRel(0.0499999999999636, 1e-6));
  CHECK_THAT(arm.std_error, WithinRel(0.552863361205339, 1e-6));
  CHECK_THAT(arm.extra["df"].get<double>(), WithinRel(44.5462526916653, 1e-4));
  CHECK_THAT(arm.p_value, WithinRel(0.928344390164614, 1e-4));
  const auto& inter = FindRow(result, "coefficients", "armintervention:visitweek12");
  CHECK_THAT(inter.estimate, WithinRel(-1.3, 1e-6));
  CHECK_THAT(inter.std_error, WithinRel(0.312460522954744, 1e-6));
  CHECK_THAT(inter.extra["df"].get<double>(), WithinRel(38.0000001212597, 1e-4));
  CHECK_THAT(inter.p_value, WithinRel(0.000174882724375664, 1e-4));
  // the 1-df test of the interaction is a row of its own
  const auto& test = FindRow(result, "interaction", "arm:visit");
  CHECK_THAT(test.p_value, WithinRel(0.000174882724375664, 1e-4));
  CHECK_THAT(FindRow(result, "random", "sd((Intercept)) | participant_id").estimate,
             WithinRel(1.60262942366815, 1e-5));
  CHECK_THAT(FindRow(result, "random", "Residual").estimate, WithinRel(0.698682969611941, 1e-5));
  CHECK_THAT(result.summary["reml_criterion"].get<double>(), WithinRel(266.045560083193, 1e-8));
  const auto& lrt = FindRow(result, "model_comparison",
                            "pain_nrs ~ arm + visit + (1 | participant_id) vs pain_nrs ~ arm * visit + (1 | "
                            "participant_id)");
  CHECK_THAT(lrt.statistic, WithinRel(15.0146830780355, 1e-6));
  CHECK_THAT(lrt.p_value, WithinRel(0.000106677930036643, 1e-6));
}

TEST_CASE("lmm: a text grouping column and no compare give the same lmer fit", "[analysis][lmm]") {
  // The rows of the test above with the participant as a text label (the
  // grouping is coded from labels, not numbers) and without --compare (the
  // rows are freed once the design is built): the same model, so the same R
  // values (analysis_models.R: lmm.*).
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store, Request("lmm", {{"study", "trial"},
                             {"frame", "SELECT 'p' || participant_id AS participant, arm, visit, pain_nrs "
                                       "FROM wide_trial_visit"},
                             {"formula", "pain_nrs ~ arm * visit + (1 | participant)"}}));
  CHECK(result.rows_used == 80);
  CHECK(result.summary["groups"]["participant"].get<int>() == 40);
  const auto& arm = FindRow(result, "coefficients", "armintervention");
  CHECK_THAT(arm.estimate, WithinRel(0.0499999999999636, 1e-6));
  CHECK_THAT(arm.std_error, WithinRel(0.552863361205339, 1e-6));
  CHECK_THAT(arm.extra["df"].get<double>(), WithinRel(44.5462526916653, 1e-4));
  const auto& inter = FindRow(result, "coefficients", "armintervention:visitweek12");
  CHECK_THAT(inter.std_error, WithinRel(0.312460522954744, 1e-6));
  CHECK_THAT(inter.extra["df"].get<double>(), WithinRel(38.0000001212597, 1e-4));
  CHECK_THAT(FindRow(result, "random", "sd((Intercept)) | participant").estimate, WithinRel(1.60262942366815, 1e-5));
  CHECK_THAT(result.summary["reml_criterion"].get<double>(), WithinRel(266.045560083193, 1e-8));
}

TEST_CASE("lmm: a bad formula is pointed at", "[analysis][lmm]") {
  auto store = TrialStore();
  const auto run = [&](const std::string& formula) {
    RunAnalysis(store, Request("lmm", {{"study", "trial"}, {"frame", "wide_trial_visit"}, {"formula", formula}}));
  };
  REQUIRE_THROWS_WITH(run("pain_nrs ~ arm * visti + (1 | participant_id)"),
                      Contains("lmm: --formula: formula, column 18: unknown variable 'visti' (did you mean 'visit'?)") &&
                          Contains("\n                   ^"));
  REQUIRE_THROWS_WITH(run("pain_nrs ~ arm + (1 | participant_id"), Contains("unbalanced parentheses"));
  REQUIRE_THROWS_WITH(run("pain_nrs ~ arm + visit"), Contains("needs a random-effect term"));
  REQUIRE_THROWS_AS(run("pain_nrs ~ arm + (1 | )"), cohortdb::InputError);
}

TEST_CASE("lmm: crossed groupings site and sex / as lmer + lmerTest / few levels in words", "[analysis][lmm]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("lmm", {{"study", "cohort"},
                                                         {"formula", "pain_nrs ~ age_years + (1 | site) + (1 | sex)"},
                                                         {"compare", "pain_nrs ~ age_years + (1 | site)"}}));
  // analysis_lmm_multi.R: crossed.*
  CHECK(result.rows_used == 400);
  const auto& age = FindRow(result, "coefficients", "age_years");
  CHECK_THAT(age.estimate, WithinRel(-0.00147434037250755, 1e-6));
  CHECK_THAT(age.std_error, WithinRel(0.00824218385700421, 1e-6));
  CHECK_THAT(age.extra["df"].get<double>(), WithinRel(395.340170630571, 1e-4));
  const auto& intercept = FindRow(result, "coefficients", "(Intercept)");
  CHECK_THAT(intercept.estimate, WithinRel(3.30500568994813, 1e-6));
  CHECK_THAT(intercept.extra["df"].get<double>(), WithinRel(48.9290452582903, 1e-4));
  CHECK_THAT(FindRow(result, "random", "sd((Intercept)) | site").estimate, WithinRel(0.323492080533577, 1e-5));
  CHECK_THAT(FindRow(result, "random", "sd((Intercept)) | sex").estimate, WithinRel(0.190699915446781, 1e-5));
  CHECK_THAT(FindRow(result, "random", "Residual").estimate, WithinRel(2.07367052213193, 1e-5));
  CHECK_THAT(result.summary["reml_criterion"].get<double>(), WithinRel(1732.865538179, 1e-8));
  CHECK(result.summary["groups"]["site"] == 6);
  CHECK(result.summary["groups"]["sex"] == 2);
  CHECK_THAT(result.summary["messages"].dump(), Contains("only 2 groups of 'sex'"));
  const auto& lrt = FindRow(result, "model_comparison",
                            "pain_nrs ~ age_years + (1 | site) vs pain_nrs ~ age_years + (1 | site) + (1 | sex)");
  CHECK_THAT(lrt.statistic, WithinRel(0.292740055425384, 1e-5));
  CHECK_THAT(lrt.p_value, WithinRel(0.5884699652563, 1e-5));
  // The table lme4's summary prints as "Random effects:" (variances are the
  // squares of lmer's SDs above: 0.3235^2 = 0.1046, 0.1907^2 = 0.03637).
  std::ostringstream text;
  cohortdb::analysis::WriteReport(text, result, cohortdb::OutputFormat::kTable);
  CHECK_THAT(text.str(), Contains("Random effects") && Contains("| Group    | Effect      | Variance | SD") &&
                             Contains("| site     | (Intercept) | 0.1046   | 0.3235") &&
                             Contains("| sex      | (Intercept) | 0.03637  | 0.1907") && Contains("| Residual |"));
  // The footer: groups in lme4's words, theta on one line (lmer's SDs over
  // sigma: 0.3235 / 2.0737 = 0.1560, 0.1907 / 2.0737 = 0.0920).
  CHECK_THAT(text.str(), Contains("groups: site 6, sex 2;") && Contains("\ntheta: 0.1560, 0.0920\n"));
}

TEST_CASE("lmm: uncorrelated effects (1 + lmm || site) / as lmer's expansion to (1 | site) + (0 + lmm | site)",
          "[analysis][lmm]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(
      store, Request("lmm", {{"study", "cohort"}, {"formula", "pain_nrs ~ age_years + lmm + (1 + lmm || site)"}}));
  // analysis_lmm_multi.R: double.* (a singular fit: the slope's SD is 0)
  CHECK(result.rows_used == 387);
  const double estimate[] = {4.94533200589052, -0.0035857062180333, -0.0543128603794398};
  const double se[] = {0.81522032350343, 0.00836992576999623, 0.0226514072234219};
  const double df[] = {361.292306878629, 381.553175712382, 382.383668538956};
  const char* terms[] = {"(Intercept)", "age_years", "lmm"};
  for (int k = 0; k < 3; ++k) {
    INFO(terms[k]);
    const auto& row = FindRow(result, "coefficients", terms[k]);
    CHECK_THAT(row.estimate, WithinRel(estimate[k], 1e-6));
    CHECK_THAT(row.std_error, WithinRel(se[k], 1e-6));
    CHECK_THAT(row.extra["df"].get<double>(), WithinRel(df[k], 1e-4));
  }
  // Two groupings named as lme4 names them: site and site.1.
  CHECK_THAT(FindRow(result, "random", "sd((Intercept)) | site").estimate, WithinRel(0.278805457441928, 1e-5));
  CHECK_THAT(FindRow(result, "random", "sd(lmm) | site.1").estimate, WithinAbs(0.0, 1e-5));
  CHECK_THAT(FindRow(result, "random", "Residual").estimate, WithinRel(2.07493598792015, 1e-5));
  CHECK_THAT(result.summary["reml_criterion"].get<double>(), WithinRel(1680.218609597, 1e-8));
  CHECK_THAT(result.summary["messages"].dump(), Contains("singular fit"));
  // '||' does not combine with a nested grouping.
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("lmm", {{"study", "cohort"},
                                                         {"formula", "pain_nrs ~ age_years + (1 + lmm || site/sex)"}})),
                      Contains("'||' with a nested grouping"));
}

TEST_CASE("lmm: the random effects table shows a correlation of two effects of one grouping", "[analysis][lmm]") {
  cohortdb::AnalysisResultSet result;
  result.command = "lmm";
  auto add = [&](const char* term, double estimate, nlohmann::ordered_json extra) {
    cohortdb::ResultRow row;
    row.section = "random";
    row.term = term;
    row.estimate = estimate;
    row.extra = std::move(extra);
    result.rows.push_back(row);
  };
  add("sd((Intercept)) | Subject", 24.74, {{"group", "Subject"}, {"effect", "(Intercept)"}, {"variance", 612.1}});
  add("sd(Days) | Subject", 5.922, {{"group", "Subject"}, {"effect", "Days"}, {"variance", 35.07}});
  add("cor((Intercept), Days) | Subject", 0.066,
      {{"group", "Subject"}, {"effect", "(Intercept)"}, {"effect2", "Days"}, {"variance", nullptr}});
  add("Residual", 25.59, {{"group", "Residual"}, {"variance", 654.9}});
  std::ostringstream text;
  cohortdb::analysis::WriteReport(text, result, cohortdb::OutputFormat::kMarkdown);
  CHECK_THAT(text.str(), Contains("| Subject | Days | 35.07 | 5.922 |  |") &&
                             Contains("| Subject | (Intercept) with Days |  |  | 0.07 |") &&
                             Contains("| Residual |  | 654.9 | 25.59 |  |"));
}

TEST_CASE("lmm: sex nested in site / a singular fit as lmer / in words", "[analysis][lmm]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(
      store, Request("lmm", {{"study", "cohort"}, {"formula", "pain_nrs ~ age_years + lmm + (1 | site/sex)"}}));
  // analysis_lmm_multi.R: nested.* (lmer: boundary (singular) fit)
  const auto& lmm = FindRow(result, "coefficients", "lmm");
  CHECK_THAT(lmm.estimate, WithinRel(-0.0543128621244544, 1e-6));
  CHECK_THAT(lmm.std_error, WithinRel(0.0226514072711836, 1e-6));
  CHECK_THAT(lmm.extra["df"].get<double>(), WithinRel(382.383667466833, 1e-4));
  CHECK_THAT(lmm.p_value, WithinRel(0.0169740047240814, 1e-4));
  CHECK_THAT(FindRow(result, "random", "sd((Intercept)) | sex:site").estimate, WithinAbs(3.91754889980752e-08, 1e-5));
  CHECK_THAT(FindRow(result, "random", "sd((Intercept)) | site").estimate, WithinRel(0.278805308979918, 1e-5));
  CHECK_THAT(result.summary["reml_criterion"].get<double>(), WithinRel(1680.218609597, 1e-8));
  CHECK(result.summary["groups"]["sex:site"] == 12);
  CHECK(result.summary["singular"] == true);
  CHECK_THAT(result.summary["messages"].dump(), Contains("singular fit") && Contains("'sex:site'"));
}

TEST_CASE("lmm: several random terms / a grouping with one level is pointed at in the formula", "[analysis][lmm]") {
  auto store = CohortStore();
  store.Exec("UPDATE participant SET site_id = 1");
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("lmm", {{"study", "cohort"}, {"formula", "pain_nrs ~ age_years + (1 | sex) + (1 | site)"}})),
      Contains("formula, column 36: the grouping factor 'site' of the random-effect term (1 | site) has 1 level") &&
          Contains("\n" + std::string(37, ' ') + "^"));
}

TEST_CASE("glm --family poisson with robust SEs / as glm + sandwich::vcovHC", "[analysis][glm]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(store, Request("glm", {{"study", "trial"},
                                                         {"formula", "pain_nrs_week12 ~ arm + age_years"},
                                                         {"se", "robust"}}));
  // analysis_models.R: glm.*
  const auto& arm = FindRow(result, "coefficients", "armintervention");
  CHECK_THAT(arm.estimate, WithinRel(-0.212274775840995, 1e-8));
  CHECK_THAT(arm.std_error, WithinRel(0.117879288953805, 1e-8));
  const auto& rr = FindRow(result, "rate_ratios", "armintervention");
  CHECK_THAT(rr.estimate, WithinRel(0.808742444147724, 1e-8));
  CHECK_THAT(rr.conf_low, WithinRel(0.641905657699927, 1e-8));
  CHECK_THAT(rr.conf_high, WithinRel(1.01894154245294, 1e-8));
  CHECK_THAT(result.summary["deviance"].get<double>(), WithinRel(26.267041782852, 1e-8));
  // --outcome/--predictors give the same model
  const auto flags = RunAnalysis(store, Request("glm", {{"study", "trial"},
                                                        {"outcome", "pain_nrs_week12"},
                                                        {"predictors", {"arm", "age_years"}},
                                                        {"se", "robust"}}));
  CHECK_THAT(FindRow(flags, "coefficients", "armintervention").std_error, WithinRel(0.117879288953805, 1e-8));
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("glm", {{"study", "trial"},
                                                         {"formula", "pain_nrs_week12 ~ arm"},
                                                         {"se", "cluster"}})),
                      Contains("--se cluster needs --cluster VAR"));
}

TEST_CASE("regress --formula: interaction terms named as R / with the nested F test of the interaction",
          "[analysis][regress][formula]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store, Request("regress", {{"study", "trial"},
                                 {"derive", {"il6_change=change(il6, baseline, week12)",
                                             "pain_change=change(pain_nrs, baseline, week12)"}},
                                 {"formula", "pain_change ~ arm * il6_change + age_years"}}));
  // analysis_models.R: regress.*
  CHECK(result.rows_used == 37);
  const auto& inter = FindRow(result, "coefficients", "armintervention:il6_change");
  CHECK_THAT(inter.estimate, WithinRel(0.186818635939602, 1e-8));
  CHECK_THAT(inter.std_error, WithinRel(0.548906761534265, 1e-8));
  CHECK_THAT(FindRow(result, "coefficients", "age_years").estimate, WithinRel(-0.0136731225470054, 1e-8));
  const auto& test = FindRow(result, "interaction", "arm:il6_change");
  CHECK_THAT(test.statistic, WithinRel(0.115835914697885, 1e-8));
  CHECK_THAT(test.p_value, WithinRel(0.735819618291899, 1e-8));
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("regress", {{"study", "trial"}, {"outcome", "age_years"}})),
                      Contains("regress: --predictors is required (or --formula)"));
}

TEST_CASE("logistic --formula: glm with an interaction and its Wald test row", "[analysis][logistic][formula]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store, Request("logistic", {{"study", "trial"}, {"formula", "sex ~ pain_nrs_baseline * age_years"}}));
  // analysis_models.R: logistic.*
  const auto& inter = FindRow(result, "coefficients", "pain_nrs_baseline:age_years");
  CHECK_THAT(inter.estimate, WithinRel(0.020456822976955, 1e-8));
  CHECK_THAT(inter.std_error, WithinRel(0.0200024287571948, 1e-8));
  CHECK_THAT(FindRow(result, "coefficients", "(Intercept)").estimate, WithinRel(5.10961052490631, 1e-8));
  const auto& test = FindRow(result, "interaction", "pain_nrs_baseline:age_years");
  CHECK_THAT(test.p_value, WithinRel(0.306441693756207, 1e-8));
  CHECK(test.extra["test"] == "Wald z (1 df)");
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("logistic", {{"study", "trial"}, {"formula", "sex ~ age_years"}, {"random", "arm"}})),
      Contains("--formula replaces"));
}
