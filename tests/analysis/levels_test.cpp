// Categorical predictors whose rows used hold fewer levels than the frame:
// unused levels are dropped as lm's model.frame drops them (the first level
// present is the reference), and a predictor left with one level is refused
// as lm refuses it. Expected values: tests/reference/analysis_levels.R.
#include <catch2/catch.hpp>

#include "analysis/analysis.h"
#include "analysis/sample.h"
#include "analysis_fixture.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::WithinRel;
using cohortdb::InputError;
using cohortdb::analysis::RunAnalysis;
using namespace cohortdb::testing;

namespace {

// The data of analysis_levels.R; "drop_a" makes y and z missing where f = 'a'.
std::string LevelsFrame(bool drop_a) {
  const std::string y = drop_a ? "CASE WHEN column2 = 'a' THEN NULL ELSE column1 END" : "column1";
  const std::string z = drop_a ? "CASE WHEN column2 = 'a' THEN NULL ELSE column4 END" : "column4";
  return "SELECT " + y + " AS y, column2 AS f, column3 AS s, " + z +
         " AS z FROM (VALUES (1.0,'a','m',0),(1.4,'a','m',1),(0.8,'a','m',0),(1.9,'b','m',1),(2.3,'b','m',0),"
         "(1.7,'b','m',0),(4.2,'c','m',1),(3.6,'c','m',1),(3.9,'c','m',0),(2.1,'b','w',0),(1.5,'b','w',1),"
         "(2.6,'b','w',0),(4.4,'c','w',1),(3.1,'c','w',0),(3.8,'c','w',1))";
}

// A coefficient (or odds ratio) for "term"; reference-level rows hold none.
bool HasTerm(const cohortdb::AnalysisResultSet& result, const std::string& term) {
  for (const auto& r : result.rows) {
    if (r.term == term && !r.extra.contains("reference_row")) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a stratum without the first level uses the first level it holds as reference", "[analysis][levels]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(
      store, Request("regress", {{"frame", LevelsFrame(false)}, {"outcome", "y"}, {"predictors", {"f"}}, {"by", "s"}}));
  const auto& fc = FindRow(result, "coefficients", "fc", "s=w");
  CHECK_THAT(fc.estimate, WithinRel(1.7, 1e-10));
  CHECK_THAT(fc.std_error, WithinRel(0.492160768674447, 1e-10));
  CHECK_THAT(fc.p_value, WithinRel(0.025955784518921, 1e-8));
  CHECK_THAT(FindRow(result, "coefficients", "(Intercept)", "s=w").estimate, WithinRel(2.06666666666667, 1e-10));
  CHECK_THROWS(FindRow(result, "coefficients", "fb", "s=w"));
}

TEST_CASE("a level only on excluded rows leaves the model as lm leaves it", "[analysis][levels]") {
  auto store = CohortStore();
  const auto ols = RunAnalysis(store, Request("regress", {{"frame", LevelsFrame(true)}, {"outcome", "y"},
                                                          {"predictors", {"f"}}}));
  CHECK_THAT(FindRow(ols, "coefficients", "fc").estimate, WithinRel(1.81666666666667, 1e-10));
  CHECK_THAT(FindRow(ols, "coefficients", "fc").std_error, WithinRel(0.249109525220445, 1e-10));
  CHECK_FALSE(HasTerm(ols, "fb"));
  CHECK_FALSE(ols.summary.contains("aliased"));
  const auto glm = RunAnalysis(store, Request("logistic", {{"frame", LevelsFrame(true)}, {"outcome", "z"},
                                                           {"predictors", {"f"}}}));
  CHECK_THAT(FindRow(glm, "coefficients", "fc").estimate, WithinRel(1.38629436111949, 1e-7));
  CHECK_THAT(FindRow(glm, "coefficients", "fc").std_error, WithinRel(1.2247446465141, 1e-6));
  CHECK_FALSE(HasTerm(glm, "fb"));
}

TEST_CASE("a categorical predictor with one level in the rows used is refused / or ends its stratum",
          "[analysis][levels]") {
  auto store = CohortStore();
  const std::string frame = "SELECT * FROM (" + LevelsFrame(false) + ") WHERE f <> 'a'";
  CHECK_THROWS_WITH(
      RunAnalysis(store, Request("regress", {{"frame", frame + " AND f = 'c'"}, {"outcome", "y"}, {"predictors", {"f"}}})),
      "predictor 'f' has the single level 'c' in the rows used; a categorical predictor needs at least two levels "
      "(R's lm and glm stop with \"contrasts can be applied only to factors with 2 or more levels\")");
  CHECK_THROWS_AS(RunAnalysis(store, Request("logistic", {{"frame", frame + " AND f = 'b'"}, {"outcome", "z"},
                                                          {"predictors", {"f"}}})),
                  InputError);
  // By s: g is constant within s = 'm', which gets a stratum error; s = 'w'
  // is fitted.
  const std::string strata = "SELECT y, f, s, CASE WHEN s = 'm' THEN 'one' ELSE f END AS g FROM (" + frame + ")";
  const auto result = RunAnalysis(
      store, Request("regress", {{"frame", strata}, {"outcome", "y"}, {"predictors", {"g"}}, {"by", "s"}}));
  CHECK(result.summary["strata"]["s=m"]["error"].get<std::string>().rfind("predictor 'g' has the single level 'one'",
                                                                          0) == 0);
  CHECK_THAT(FindRow(result, "coefficients", "gc", "s=w").estimate, WithinRel(1.7, 1e-10));
}

TEST_CASE("prevalence: an empty level keeps its place in the trend scores / small expected counts are noted",
          "[analysis][levels]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(
      store, Request("prevalence",
                     {{"frame",
                       "SELECT column1 AS y, column2 AS x FROM (VALUES (0,5),(0,5),(1,5),(0,5),(0,5),(1,25),(1,25),"
                       "(0,25),(1,25),(1,25),(1,35),(1,35),(1,35),(1,35),(0,35))"},
                      {"outcome", "y"},
                      {"cut", {"x=10,20,30"}},
                      {"category", "x_cat"}}));
  CHECK(FindRow(result, "prevalence", "x_cat=10-20").n == 0);
  const auto& trend = FindRow(result, "tests", "y trend over x_cat");
  CHECK_THAT(trend.statistic, WithinRel(4.46428571428572, 1e-10));
  CHECK_THAT(trend.p_value, WithinRel(0.0346105575157074, 1e-8));
  CHECK(trend.extra["scores"] == nlohmann::json::array({1.0, 3.0, 4.0}));
  const auto& chi = FindRow(result, "tests", "y by x_cat");
  CHECK_THAT(chi.statistic, WithinRel(5.0, 1e-10));
  CHECK_THAT(chi.p_value, WithinRel(0.0820849986238988, 1e-8));
  CHECK(chi.extra["note"] == cohortdb::analysis::kSmallExpectedNote);
}

TEST_CASE("logistic: --per-sd-vars takes numeric predictors and needs --per-sd", "[analysis][levels]") {
  auto store = CohortStore();
  const auto logistic = [&](nlohmann::ordered_json extra) {
    nlohmann::ordered_json options = {{"study", "cohort"}, {"outcome", "cbp"}, {"predictors", {"lmm", "sex"}}};
    for (const auto& [k, v] : extra.items()) options[k] = v;
    return RunAnalysis(store, Request("logistic", options));
  };
  CHECK_THROWS_WITH(logistic({{"per-sd", 2}, {"per-sd-vars", {"sex"}}}),
                    "--per-sd-vars: 'sex' is categorical; odds ratios per SD need a numeric predictor");
  CHECK_THROWS_WITH(logistic({{"per-sd-vars", {"lmm"}}}), "--per-sd-vars needs --per-sd K");
  CHECK(logistic({{"per-sd", 2}, {"per-sd-vars", {"lmm"}}}).rows_used > 0);
}

TEST_CASE("text levels come in the order R's factor() gives them", "[analysis][levels]") {
  auto store = CohortStore();
  // tests/reference/analysis_levels.R: levels
  const auto result = RunAnalysis(
      store, Request("describe", {{"frame", "SELECT column1 AS x FROM (VALUES ('1.5'),('10'),('2'),('a_1'),('a-1'),"
                                            "('a1'),('A1'),('a10'),('a2'),('e'),('f'),('zulu'),('Zulu'),('Yes'),"
                                            "('no'),('a b'),('ab'),('_x'))"},
                                  {"vars", {"x"}}}));
  std::vector<std::string> levels;
  for (const auto& r : result.rows) {
    if (r.section == "table1" && r.term.rfind("x=", 0) == 0) levels.push_back(r.term.substr(2));
  }
  CHECK(levels == std::vector<std::string>{"_x", "1.5", "10", "2", "a b", "a_1", "a-1", "a1", "A1", "a10", "a2",
                                           "ab", "e", "f", "no", "Yes", "zulu", "Zulu"});
  // A two-level outcome's event is its second level, as glm takes it.
  const auto logistic = RunAnalysis(
      store, Request("logistic", {{"frame", "SELECT column1 AS y, column2 AS x FROM (VALUES ('no',1),('no',2),"
                                            "('Yes',3),('no',1.5),('Yes',4),('Yes',2.2),('no',0.5),('Yes',3.3),"
                                            "('Yes',1.8),('no',2.5))"},
                                  {"outcome", "y"},
                                  {"predictors", {"x"}}}));
  CHECK(logistic.summary["event"] == "Yes");
}
