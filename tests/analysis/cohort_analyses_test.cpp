// The cohort analyses (logistic, mixed logistic, prevalence, describe) on
// tests/data/analysis/cohort.csv, against tests/reference/analysis_reference.R.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "analysis/analysis.h"
#include "analysis/report.h"
#include "analysis_fixture.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::analysis::RunAnalysis;
using namespace cohortdb::testing;

TEST_CASE("logistic: glm with a categorical covariate and odds ratios per 2 SD", "[analysis][logistic]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(
      store, Request("logistic", {{"study", "cohort"},
                                  {"outcome", "cbp"},
                                  {"predictors", {"lmm", "intermat", "age_years", "sex", "diabetes"}},
                                  {"per-sd", 2},
                                  {"per-sd-vars", {"lmm", "intermat"}}}));
  // tests/reference/analysis_reference.R: cohort.logistic.*
  CHECK(result.rows_used == 376);
  CHECK(result.rows_excluded == 24);
  const double estimates[] = {0.300906855100088,    -0.0754924153102904, 0.07256513239333,
                              -0.00325889380454495, 0.277811116726292,   0.460802295909572};
  const char* terms[] = {"(Intercept)", "lmm", "intermat", "age_years", "sexmale", "diabetes"};
  for (int i = 0; i < 6; ++i) {
    INFO(terms[i]);
    CHECK_THAT(FindRow(result, "coefficients", terms[i]).estimate, WithinRel(estimates[i], 1e-6));
  }
  CHECK_THAT(FindRow(result, "coefficients", "lmm").std_error, WithinRel(0.030313435770739, 1e-6));
  CHECK_THAT(result.summary["log_likelihood"].get<double>(), WithinRel(-205.27549557657, 1e-9));
  const auto& lmm = FindRow(result, "odds_ratios", "lmm");
  CHECK_THAT(lmm.estimate, WithinRel(0.490689887914385, 1e-6));
  CHECK_THAT(lmm.conf_low, WithinRel(0.280200811159045, 1e-6));
  CHECK_THAT(lmm.conf_high, WithinRel(0.859300032378437, 1e-6));
  CHECK(lmm.extra["per_sd"].get<double>() == 2);
  CHECK_THAT(FindRow(result, "odds_ratios", "intermat").estimate, WithinRel(1.51672422929685, 1e-6));
  // a per-unit odds ratio where --per-sd does not apply
  CHECK_THAT(FindRow(result, "odds_ratios", "diabetes").estimate,
             WithinRel(std::exp(0.460802295909572), 1e-6));
}

// Issue 13 item 5: under --by each stratum was scaled by its own SD, so "per
// 2 SD" meant another unit in each stratum.
TEST_CASE("logistic --per-sd under --by scales every stratum by the overall sample's SD", "[analysis][logistic]") {
  auto store = CohortStore();
  store.Exec("UPDATE variable SET unit = 'cm3/kg/m' WHERE code = 'lmm'");
  const auto result = RunAnalysis(
      store, Request("logistic", {{"study", "cohort"},
                                  {"outcome", "cbp"},
                                  {"predictors", {"lmm", "intermat", "age_years", "sex"}},
                                  {"per-sd", 2},
                                  {"per-sd-vars", {"lmm"}},
                                  {"by", "osteoarthritis"}}));
  // tests/reference/analysis_per_sd_by.R
  CHECK(result.rows_used == 376);
  const double sd = 4.71532763021656;  // lmm over the 376 rows used
  const struct {
    const char* stratum;
    double odds_ratio, low, high;
  } expected[] = {{"osteoarthritis=0", 0.559429969146689, 0.292938690041899, 1.06835287047506},
                  {"osteoarthritis=1", 0.253020237828663, 0.0767791012124403, 0.833810760218958}};
  for (const auto& e : expected) {
    INFO(e.stratum);
    const auto& lmm = FindRow(result, "odds_ratios", "lmm", e.stratum);
    CHECK_THAT(lmm.estimate, WithinRel(e.odds_ratio, 1e-6));
    CHECK_THAT(lmm.conf_low, WithinRel(e.low, 1e-6));
    CHECK_THAT(lmm.conf_high, WithinRel(e.high, 1e-6));
    CHECK_THAT(lmm.extra["units"].get<double>(), WithinRel(2 * sd, 1e-12));
    CHECK_THAT(lmm.extra["sd"].get<double>(), WithinRel(sd, 1e-12));
    CHECK(lmm.extra["unit"] == "cm3/kg/m");
  }
  const auto& overall = FindRow(result, "odds_ratios", "lmm");
  CHECK_THAT(overall.extra["units"].get<double>(), WithinRel(2 * sd, 1e-12));
  // The unit is stated where the table names the term.
  std::ostringstream table;
  cohortdb::analysis::WriteReport(table, result, cohortdb::OutputFormat::kTable);
  CHECK_THAT(table.str(), Catch::Matchers::Contains("lmm (per 2 SD = 9.43 cm3/kg/m)"));
}

TEST_CASE("logistic --random site: mixed logistic / Laplace and adaptive quadrature / as glmer",
          "[analysis][logistic][mixed]") {
  auto store = CohortStore();
  nlohmann::ordered_json options = {{"study", "cohort"},
                                    {"outcome", "cbp"},
                                    {"predictors", {"lmm", "intermat", "age_years", "sex"}},
                                    {"random", "site"}};
  const auto laplace = RunAnalysis(store, Request("logistic", options));
  // tests/reference/analysis_reference.R: cohort.mixed.*.polished.* (glmer's
  // deviance minimised to convergence; default glmer stops early on this flat
  // likelihood, 376 rows and 6 sites, and differs by up to 0.7% in its SEs).
  const char* terms[] = {"(Intercept)", "lmm", "intermat", "age_years", "sexmale"};
  const auto check = [&](const cohortdb::AnalysisResultSet& fit, const double (&est)[5], const double (&se)[5],
                          double sd) {
    for (int i = 0; i < 5; ++i) {
      INFO(terms[i]);
      CHECK_THAT(FindRow(fit, "coefficients", terms[i]).estimate, WithinRel(est[i], 1e-4));
      CHECK_THAT(FindRow(fit, "coefficients", terms[i]).std_error, WithinRel(se[i], 1e-4));
    }
    CHECK_THAT(fit.summary["random_intercept_sd"].get<double>(), WithinRel(sd, 1e-4));
  };
  check(laplace,
        {0.186494645190025, -0.0730931873258761, 0.0756838515147717, -0.00221362477656323, 0.236982473984954},
        {1.05415903878354, 0.0310848628108433, 0.0487771312279376, 0.0103759364665026, 0.298609996997983},
        0.415355865230845);
  options["agq"] = 10;
  const auto agq = RunAnalysis(store, Request("logistic", options));
  check(agq, {0.185850697483, -0.0730788846008111, 0.0756856222394661, -0.00221141763242534, 0.236868876784765},
        {1.05430310364042, 0.0310864148922677, 0.0487782970115392, 0.0103765104137839, 0.298623886613271},
        0.417080763995383);
}

TEST_CASE("logistic --by: per stratum and the likelihood-ratio test of the interaction",
          "[analysis][logistic][by]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                              {"outcome", "cbp"},
                                                              {"predictors", {"lmm", "age_years"}},
                                                              {"by", "osteoarthritis"}}));
  // tests/reference/analysis_reference.R: cohort.by_oa.*
  CHECK_THAT(FindRow(result, "coefficients", "(Intercept)", "osteoarthritis=1").estimate,
             WithinRel(0.786178242307294, 1e-6));
  CHECK_THAT(FindRow(result, "coefficients", "lmm", "osteoarthritis=1").estimate,
             WithinRel(-0.097626238048519, 1e-6));
  CHECK_NOTHROW(FindRow(result, "odds_ratios", "lmm", "osteoarthritis=0"));
  CHECK_NOTHROW(FindRow(result, "odds_ratios", "lmm", ""));
  const auto& lr = FindRow(result, "interaction", "predictors x osteoarthritis");
  CHECK_THAT(lr.statistic, WithinRel(1.15651423099246, 1e-6));
  CHECK(lr.extra["df"].get<double>() == 2);
  CHECK_THAT(lr.p_value, WithinRel(0.56087505563306, 1e-6));
}

TEST_CASE("derived threshold outcome pain_nrs>=4 / inline and with --derive", "[analysis][derive]") {
  auto store = CohortStore();
  const auto inline_result = RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                                     {"outcome", "pain_nrs>=4"},
                                                                     {"predictors", {"lmm", "age_years"}}}));
  // tests/reference/analysis_reference.R: cohort.threshold.*
  CHECK(inline_result.rows_used == 387);
  CHECK_THAT(FindRow(inline_result, "coefficients", "lmm").estimate, WithinRel(-0.0189517056519398, 1e-6));
  const auto derived = RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                               {"derive", {"pain4=pain_nrs>=4"}},
                                                               {"outcome", "pain4"},
                                                               {"predictors", {"lmm", "age_years"}}}));
  CHECK_THAT(FindRow(derived, "coefficients", "(Intercept)").estimate, WithinRel(0.502186604755937, 1e-6));
}

TEST_CASE("derived z-score is standardised on the analysis sample", "[analysis][derive]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("regress", {{"study", "cohort"},
                                                             {"derive", {"z_lmm=z(lmm)"}},
                                                             {"outcome", "pain_nrs"},
                                                             {"predictors", {"z_lmm"}}}));
  // tests/reference/analysis_reference.R: cohort.z.estimate
  CHECK_THAT(FindRow(result, "coefficients", "(Intercept)").estimate, WithinRel(3.24031007751937, 1e-9));
  CHECK_THAT(FindRow(result, "coefficients", "z_lmm").estimate, WithinRel(-0.266543556895919, 1e-9));
}

TEST_CASE("prevalence by cut categories with chi-square and trend tests", "[analysis][prevalence][derive]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("prevalence", {{"study", "cohort"},
                                                                {"cut", {"pa_met=500,5000"}},
                                                                {"outcome", "cbp"},
                                                                {"category", "pa_met_cat"}}));
  // tests/reference/analysis_reference.R: cohort.prevalence.*
  const auto& low = FindRow(result, "prevalence", "pa_met_cat=<500");
  const auto& mid = FindRow(result, "prevalence", "pa_met_cat=500-5000");
  const auto& high = FindRow(result, "prevalence", "pa_met_cat=>5000");
  CHECK(*low.n == 76);
  CHECK(*mid.n == 269);
  CHECK(*high.n == 45);
  CHECK(low.extra["cases"] == 22);
  CHECK(mid.extra["cases"] == 55);
  CHECK(high.extra["cases"] == 17);
  CHECK_THAT(low.estimate, WithinRel(28.9473684210526, 1e-12));
  CHECK_THAT(high.estimate, WithinRel(37.7777777777778, 1e-12));
  const auto& chi = FindRow(result, "tests", "cbp by pa_met_cat");
  CHECK_THAT(chi.statistic, WithinRel(7.54151300023886, 1e-9));
  CHECK_THAT(chi.p_value, WithinRel(0.0230346309931933, 1e-8));
  const auto& trend = FindRow(result, "tests", "cbp trend over pa_met_cat");
  CHECK_THAT(trend.statistic, WithinRel(0.28176342064695, 1e-8));
  CHECK_THAT(trend.p_value, WithinRel(0.595547731022322, 1e-8));
}

TEST_CASE("min-cell: suppresses small counts and their percentages / and is recorded",
          "[analysis][min-cell]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("prevalence", {{"study", "cohort"},
                                                                {"cut", {"pa_met=500,5000"}},
                                                                {"outcome", "cbp"},
                                                                {"category", "pa_met_cat"},
                                                                {"by", "site"},
                                                                {"min-cell", 10}}));
  REQUIRE(result.min_cell == 10);
  int suppressed = 0;
  for (const auto& r : result.rows) {
    if (r.section != "prevalence") continue;
    if (r.extra.contains("suppressed")) {
      ++suppressed;
      CHECK(std::isnan(r.estimate));
      CHECK_FALSE(r.n.has_value());
      CHECK(r.extra["cases"].is_null());
      CHECK(r.extra["percent"].is_null());
    } else {
      const auto cases = r.extra["cases"].get<std::int64_t>();
      CHECK((cases == 0 || cases >= 10));
      CHECK((*r.n - cases == 0 || *r.n - cases >= 10));
    }
  }
  CHECK(suppressed > 0);
  CHECK(result.diagnostics["suppressed_cells"] == suppressed);
}

TEST_CASE("min-cell: a level's cells over the sites never leave one suppressed cell to be worked out",
          "[analysis][min-cell]") {
  auto store = CohortStore();
  // A level's cells over the sites add up to its overall cell: no level may
  // have exactly one suppressed cell among them, whatever the threshold.
  int complementary = 0;
  for (int min_cell = 2; min_cell <= 30; ++min_cell) {
    INFO("min-cell " << min_cell);
    const auto result = RunAnalysis(store, Request("prevalence", {{"study", "cohort"},
                                                                  {"cut", {"pa_met=500,5000"}},
                                                                  {"outcome", "cbp"},
                                                                  {"category", "pa_met_cat"},
                                                                  {"by", "site"},
                                                                  {"min-cell", min_cell}}));
    std::map<std::string, int> per_level;
    for (const auto& r : result.rows) {
      if (r.section != "prevalence" || !r.extra.contains("suppressed")) continue;
      ++per_level[r.extra["level"].get<std::string>()];
      if (r.extra.contains("complementary")) {
        ++complementary;
        // a complement was not small itself
        CHECK(r.extra["cases"].is_null());
      }
    }
    for (const auto& [level, count] : per_level) {
      INFO(level);
      CHECK(count != 1);
    }
    // A prevalence row hides n, cases and % whichever of cases and
    // non-cases was small, so its table cells claim no "<N".
    std::ostringstream out;
    cohortdb::analysis::WriteReport(out, result, cohortdb::OutputFormat::kTable);
    CHECK(out.str().find(fmt::format("| <{} ", min_cell)) == std::string::npos);
  }
  CHECK(complementary > 0);
}

TEST_CASE("describe: median [IQR] / missing counts per group and the Wilcoxon test", "[analysis][describe]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("describe", {{"study", "cohort"},
                                                              {"vars", {"pa_met", "sex", "diabetes"}},
                                                              {"group", "cbp"},
                                                              {"nonnormal", {"pa_met"}}}));
  // tests/reference/analysis_reference.R: cohort.describe.*
  const auto& pa = FindRow(result, "table1", "pa_met", "", "0");
  CHECK_THAT(pa.extra["median"].get<double>(), WithinRel(1359.5, 1e-12));
  CHECK_THAT(pa.extra["q1"].get<double>(), WithinRel(670.5, 1e-12));
  CHECK_THAT(pa.extra["q3"].get<double>(), WithinRel(2596.0, 1e-12));
  CHECK(pa.extra["missing"] == 8);
  CHECK(pa.extra["summary"] == "median [IQR]");
  CHECK_THAT(FindRow(result, "tests", "pa_met").p_value, WithinRel(0.676331330788701, 1e-8));
  // a 0/1 variable as n (%): table(diabetes, cbp) = 272, 32 / 80, 16 (cohort.describe.diabetes.*)
  CHECK(*FindRow(result, "table1", "diabetes=0", "", "0").n == 272);
  CHECK(*FindRow(result, "table1", "diabetes=1", "", "0").n == 32);
  CHECK(*FindRow(result, "table1", "diabetes=1", "", "1").n == 16);
  CHECK_THAT(FindRow(result, "tests", "diabetes").p_value, WithinRel(0.151610380286181, 1e-8));
}

TEST_CASE("describe: the SMD of a many-level categorical variable is tableone's", "[analysis][describe]") {
  auto store = CohortStore();
  const auto result =
      RunAnalysis(store, Request("describe", {{"study", "cohort"}, {"vars", {"site"}}, {"group", "cbp"}}));
  // tests/reference/analysis_reference.R: cohort.describe.site.smd (6 sites)
  CHECK_THAT(FindRow(result, "tests", "site").extra["smd"].get<double>(), WithinRel(0.549976539369444, 1e-9));
}
