// --ref VAR=LEVEL: R's relevel() on text, catalog-labelled and --cut columns
// (issue 13 item 6: reference levels could not be chosen). Expected values:
// tests/reference/analysis_reference_level.R.
#include <catch2/catch.hpp>

#include "analysis/analysis.h"
#include "analysis_fixture.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using cohortdb::InputError;
using cohortdb::analysis::RunAnalysis;
using cohortdb::analysis::ValidateRequest;
using namespace cohortdb::testing;

namespace {

// A coefficient (or odds ratio) for "term"; reference-level rows hold none.
bool HasTerm(const cohortdb::AnalysisResultSet& result, const std::string& term) {
  for (const auto& r : result.rows) {
    if (r.term == term && !r.extra.contains("reference_row")) return true;
  }
  return false;
}

nlohmann::ordered_json CohortModel(nlohmann::ordered_json ref) {
  return {{"study", "cohort"},
          {"cut", {"pa_met=500,5000"}},
          {"outcome", "cbp"},
          {"predictors", {"pa_met_cat", "sex", "age_years"}},
          {"ref", std::move(ref)}};
}

}  // namespace

TEST_CASE("reference level: --ref makes a --cut level and a text level the reference / as relevel", "[analysis][ref]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("logistic", CohortModel({"pa_met_cat=500-5000", "sex=male"})));
  CHECK(result.rows_used == 390);
  const struct {
    const char* term;
    double estimate, std_error;
  } expected[] = {{"(Intercept)", -1.63207958764268, 0.526400538275272},
                  {"pa_met_cat<500", 0.445971735342963, 0.295976565150476},
                  {"pa_met_cat>5000", 0.843665385096046, 0.343698778650481},
                  {"sexfemale", 0.134642167985691, 0.240071185537022}};
  for (const auto& e : expected) {
    INFO(e.term);
    CHECK_THAT(FindRow(result, "coefficients", e.term).estimate, WithinRel(e.estimate, 1e-6));
    CHECK_THAT(FindRow(result, "coefficients", e.term).std_error, WithinRel(e.std_error, 1e-6));
  }
  CHECK_FALSE(HasTerm(result, "pa_met_cat500-5000"));
  CHECK_FALSE(HasTerm(result, "sexmale"));
  // Recorded as given, each item whole.
  CHECK(result.parameters["ref"] == nlohmann::ordered_json({"pa_met_cat=500-5000", "sex=male"}));
}

TEST_CASE("reference level: --ref on a catalog-labelled variable", "[analysis][ref]") {
  auto store = CohortStore();
  store.Exec(
      "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (1, 0, 'no', '0'), "
      "(1, 1, 'yes', '1');"
      "UPDATE variable SET value_type = 'categorical' WHERE code = 'diabetes'");
  store.RefreshPivots("cohort");
  const auto plain = RunAnalysis(
      store, Request("logistic", {{"study", "cohort"}, {"outcome", "cbp"}, {"predictors", {"diabetes", "age_years"}}}));
  const auto releveled = RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                                 {"outcome", "cbp"},
                                                                 {"predictors", {"diabetes", "age_years"}},
                                                                 {"ref", "diabetes=yes"}}));
  const double yes = FindRow(plain, "coefficients", "diabetesyes").estimate;
  CHECK_THAT(FindRow(releveled, "coefficients", "diabetesno").estimate, WithinRel(-yes, 1e-9));
  CHECK_THROWS_WITH(ValidateRequest(store, Request("logistic", {{"study", "cohort"},
                                                                {"outcome", "cbp"},
                                                                {"predictors", {"diabetes"}},
                                                                {"ref", "diabetes=maybe"}})),
                    "--ref diabetes=maybe: 'diabetes' has no level 'maybe'; its levels are 'no' and 'yes'");
}

TEST_CASE("reference level: --ref errors name the variable and list its levels", "[analysis][ref]") {
  auto store = CohortStore();
  // Levels known before reading (a --cut column): refused by validation, so
  // a recipe holding it is refused at `recipe add`.
  CHECK_THROWS_WITH(ValidateRequest(store, Request("logistic", CohortModel({"pa_met_cat=500-4999"}))),
                    "--ref pa_met_cat=500-4999: 'pa_met_cat' has no level '500-4999'; its levels are '<500', "
                    "'500-5000' and '>5000'");
  CHECK_THROWS_WITH(ValidateRequest(store, Request("logistic", CohortModel({"pa_met_ct=<500"}))),
                    "--ref pa_met_ct: unknown variable 'pa_met_ct' in the frame (did you mean pa_met_cat, pa_met?)");
  CHECK_THROWS_WITH(ValidateRequest(store, Request("logistic", CohortModel({"sex"}))),
                    "--ref: expected VAR=LEVEL (the level that becomes the reference), found 'sex'");
  CHECK_THROWS_WITH(ValidateRequest(store, Request("logistic", CohortModel({"sex=male", "sex=female"}))),
                    "--ref: 'sex' is given a reference level twice");
  // A text column's levels are known once the rows are read.
  CHECK_THROWS_WITH(RunAnalysis(store, Request("logistic", CohortModel({"sex=Male"}))),
                    "--ref sex=Male: 'sex' has no level 'Male'; its levels are 'female' and 'male'");
  CHECK_THROWS_WITH(RunAnalysis(store, Request("logistic", CohortModel({"age_years=60"}))),
                    Contains("--ref age_years=60: 'age_years' is numeric"));
  CHECK_THROWS_WITH(ValidateRequest(store, Request("meta", {{"study", "cohort"}, {"outcome", "pain"},
                                                            {"ref", "sex=male"}})),
                    Contains("meta: --ref does not apply"));
}
