// Requests the analyses refuse before computing anything: a variable in two
// roles, a cut or threshold on a z() variable, numbers that are not finite,
// too many strata; NaN summaries printed as NA, and notes shown in tables.
#include <catch2/catch.hpp>

#include <limits>
#include <sstream>

#include "analysis/analysis.h"
#include "analysis/report.h"
#include "analysis/sample.h"
#include "analysis_fixture.h"
#include "common/error.h"
#include "result_helpers.h"

using cohortdb::InputError;
using cohortdb::analysis::RunAnalysis;
using namespace cohortdb::testing;

TEST_CASE("a variable fills one role of a model", "[analysis][input]") {
  auto store = CohortStore();
  CHECK_THROWS_WITH(
      RunAnalysis(store, Request("regress", {{"study", "cohort"}, {"outcome", "pain_nrs"},
                                             {"predictors", {"age_years", "pain_nrs"}}})),
      "--predictors: 'pain_nrs' is already the --outcome; a variable can fill one role");
  CHECK_THROWS_WITH(
      RunAnalysis(store, Request("logistic", {{"study", "cohort"}, {"outcome", "cbp"},
                                              {"predictors", {"age_years", "age_years"}}})),
      "--predictors: 'age_years' is named twice");
  CHECK_THROWS_WITH(
      RunAnalysis(store, Request("mediate", {{"study", "cohort"}, {"treatment", "diabetes"}, {"mediator", "lmm"},
                                             {"outcome", "pain_nrs"}, {"covariates", {"lmm"}}, {"boot", 0}})),
      "--covariates: 'lmm' is already the --mediator; a variable can fill one role");
}

TEST_CASE("cuts and thresholds need finite numbers and not a z() variable", "[analysis][input]") {
  auto store = CohortStore();
  const auto prevalence = [&](nlohmann::ordered_json extra) {
    nlohmann::ordered_json options = {{"study", "cohort"}, {"outcome", "cbp"}};
    for (const auto& [k, v] : extra.items()) options[k] = v;
    return RunAnalysis(store, Request("prevalence", options));
  };
  CHECK_THROWS_WITH(prevalence({{"derive", {"x=z(age_years)"}}, {"cut", {"x=0"}}, {"category", "x_cat"}}),
                    "--cut x: 'x' is a z() variable, standardised only on the analysis rows; cut or threshold the "
                    "variable it standardises instead");
  CHECK_THROWS_WITH(prevalence({{"derive", {"x=z(age_years)", "old=x>=0"}}, {"category", "old"}}),
                    "--derive old: 'x' is a z() variable, standardised only on the analysis rows; cut or threshold "
                    "the variable it standardises instead");
  for (const char* cut : {"pa_met=500,nan,5000", "pa_met=inf", "pa_met=0x10"}) {
    INFO(cut);
    CHECK_THROWS_AS(prevalence({{"cut", {cut}}, {"category", "pa_met_cat"}}), InputError);
  }
  CHECK_THROWS_WITH(prevalence({{"derive", {"old=age_years>=1e999"}}, {"category", "old"}}),
                    "'age_years>=1e999': expected a threshold that is a finite number, found '1e999'");
}

TEST_CASE("a --by variable with more levels than kMaxStrata is refused", "[analysis][input]") {
  auto store = CohortStore();
  CHECK_THROWS_WITH(RunAnalysis(store, Request("correlate", {{"study", "cohort"}, {"x", {"lmm"}}, {"y", {"pain_nrs"}},
                                                              {"by", "external_id"}})),
                    Catch::StartsWith("--by: 'external_id' has 400 levels; stratified analyses take at most 200"));
}

TEST_CASE("summaries that cannot be computed print as NA", "[analysis][input]") {
  cohortdb::AnalysisResultSet result;
  result.command = "regress";
  result.summary["sigma"] = std::numeric_limits<double>::quiet_NaN();
  std::ostringstream out;
  cohortdb::analysis::WriteReport(out, result, cohortdb::OutputFormat::kTable);
  CHECK(out.str().find("residual SD NA") != std::string::npos);
  CHECK(out.str().find("nan") == std::string::npos);
}

TEST_CASE("why a row has no estimate shows in the table formats too", "[analysis][input]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(
      store, Request("correlate", {{"frame", "SELECT *, 1.0 AS const FROM wide_cohort"}, {"x", {"const"}},
                                   {"y", {"pain_nrs"}}}));
  for (auto format : {cohortdb::OutputFormat::kTable, cohortdb::OutputFormat::kMarkdown}) {
    std::ostringstream out;
    cohortdb::analysis::WriteReport(out, result, format);
    CHECK(out.str().find("'const' is constant") != std::string::npos);
  }
}

TEST_CASE("describe --nonnormal names numeric variables of --vars", "[analysis][input]") {
  auto store = CohortStore();
  const auto describe = [&](std::vector<std::string> nonnormal) {
    return RunAnalysis(store, Request("describe", {{"study", "cohort"}, {"vars", {"age_years", "sex"}},
                                                   {"nonnormal", nonnormal}}));
  };
  CHECK_THROWS_WITH(describe({"pa_met"}), "--nonnormal: 'pa_met' is not one of --vars");
  CHECK_THROWS_WITH(describe({"sex"}), "--nonnormal: 'sex' is categorical; only numeric variables have a median");
  CHECK(describe({"age_years"}).rows_used == 400);
}

TEST_CASE("meta refuses the options of a participant frame", "[analysis][input]") {
  auto store = MetaStore();
  CHECK_THROWS_WITH(
      RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "pain"}, {"frame", "SELECT 1"}})),
      "meta: --frame does not apply: meta pools the trial summaries of --study, not participant rows");
  CHECK_THROWS_WITH(
      RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "pain"}, {"censored", "half"}})),
      "meta: --censored does not apply: meta pools the trial summaries of --study, not participant rows");
}

TEST_CASE("numeric options outside their bounds are refused", "[analysis][input]") {
  auto store = CohortStore();
  CHECK_THROWS_WITH(RunAnalysis(store, Request("logistic", {{"study", "cohort"}, {"outcome", "cbp"},
                                                            {"predictors", {"age_years"}}, {"random", "site"},
                                                            {"agq", 0}})),
                    "--agq: expected 1 to 25, found 0");
  for (int boot : {-1, 100001}) {
    INFO(boot);
    CHECK_THROWS_WITH(RunAnalysis(store, Request("mediate", {{"study", "cohort"}, {"treatment", "diabetes"},
                                                             {"mediator", "lmm"}, {"outcome", "pain_nrs"},
                                                             {"boot", boot}})),
                      boot < 0 ? "--boot: expected 0 to 100000, found -1" : "--boot: expected 0 to 100000, found 100001");
  }
}

TEST_CASE("a constant outcome gets summary.lm's perfect-fit warning", "[analysis][input]") {
  auto store = CohortStore();
  const auto flat = RunAnalysis(store, Request("regress", {{"frame", "SELECT *, 2.0 AS flat FROM wide_cohort"},
                                                           {"outcome", "flat"}, {"predictors", {"age_years"}}}));
  REQUIRE(flat.summary.contains("warning"));
  CHECK(flat.summary["warning"].get<std::string>().rfind("essentially perfect fit", 0) == 0);
  const auto noisy = RunAnalysis(store, Request("regress", {{"study", "cohort"}, {"outcome", "pain_nrs"},
                                                            {"predictors", {"age_years"}}}));
  CHECK_FALSE(noisy.summary.contains("warning"));
}

TEST_CASE("meta --mods names a moderator that no trial holds as a number", "[analysis][input]") {
  auto store = MetaStore();
  const auto meta = [&](const std::string& mod) {
    return RunAnalysis(store, Request("meta", {{"study", "meta"}, {"outcome", "pain"}, {"mods", {mod}}}));
  };
  CHECK_THROWS_WITH(meta("dose"), "--mods: no trial has the attribute 'dose' (the trials have: duration_weeks, "
                                  "setting, year)");
  CHECK_THROWS_WITH(meta("setting"),
                    "--mods: no trial holds a number in the attribute 'setting'; a moderator must be numeric");
  CHECK(meta("year").summary.contains("meta_regression"));
}

TEST_CASE("a bootstrap too small for a percentile CI says so", "[analysis][input]") {
  auto store = CohortStore();
  const auto mediate = [&](int boot) {
    return RunAnalysis(store, Request("mediate", {{"study", "cohort"}, {"treatment", "diabetes"}, {"mediator", "lmm"},
                                                  {"outcome", "pain_nrs"}, {"boot", boot}}));
  };
  const auto few = mediate(20);
  const auto& row = FindRow(few, "mediation", "indirect effect (a*b)");
  REQUIRE(row.extra.contains("note"));
  CHECK(row.extra["note"].get<std::string>().rfind("percentile CI from 20 draws", 0) == 0);
  CHECK_FALSE(FindRow(mediate(39), "mediation", "indirect effect (a*b)").extra.contains("note"));
}
