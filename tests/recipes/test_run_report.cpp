// The report of recorded runs (recipes/run_report.h): each run read back from
// the store prints the tables and draws the forest plot its live run did; a
// plot that cannot be drawn again says why; runs of one recipe run make the
// recipe's report, anything else a report of runs; unknown run ids.
#include <catch2/catch.hpp>

#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analysis/analysis.h"
#include "analysis/analysis_fixture.h"
#include "analysis/labels.h"
#include "analysis/report.h"
#include "common/error.h"
#include "recipes/html_report.h"
#include "recipes/recipe.h"
#include "recipes/run_report.h"
#include "store/provenance.h"
#include "store/recipe_store.h"
#include "store/store.h"

namespace cohortdb {
namespace {

using testing::Request;

std::string Tables(const AnalysisResultSet& result, bool codes) {
  std::ostringstream out;
  analysis::ReportStyle style;
  style.codes = codes;
  analysis::WriteReport(out, result, OutputFormat::kTable, style);
  return out.str();
}

// Runs "request" live, records it and reads it back through the report;
// the recorded run prints and draws what the live run did, labels and codes.
void RecordedAsLive(Store& store, const analysis::AnalysisRequest& request) {
  INFO(request.command << " " << request.options.dump());
  const AnalysisResultSet live = analysis::RunAnalysis(store, request);
  REQUIRE(!live.plot_svg.empty());
  const std::int64_t id = RecordAnalysisRun(store, live, std::nullopt, "", 1.5);
  const recipes::RunReport report = recipes::RecordedRunsReport(store, "s.cohortdb", {id});
  REQUIRE(report.steps.size() == 1);
  const recipes::ReportStep& step = report.steps.front();
  CHECK(step.plot_missing.empty());
  CHECK(step.result.plot_svg == live.plot_svg);
  CHECK(analysis::PlotSvg(step.result, true) == analysis::PlotSvg(live, true));
  CHECK(analysis::PlotSvg(step.result, true) != live.plot_svg);  // the labels below are not the codes
  CHECK(Tables(step.result, false) == Tables(live, false));
  CHECK(Tables(step.result, true) == Tables(live, true));
}

// A recipe of two steps over testing::TrialStore, the second with a plot.
constexpr const char* kRecipe = R"(name = "mini"
title = "Mini recipe"
description = "Two steps over the test trial"
[defaults]
study = "trial"
[[step]]
name = "first"
analysis = "describe"
[step.options]
vars = ["age_years"]
group = "arm"
[[step]]
name = "second"
analysis = "regress"
title = "Second step"
[step.options]
outcome = "pain_nrs_week12"
predictors = ["arm", "age_years"]
plot = true
)";

std::int64_t RunRecipeOnce(Store& store, const StoredRecipe& stored) {
  std::int64_t first = 0;
  recipes::RunRecipe(store, stored, [&](const recipes::StepRun& run) {
    if (first == 0) first = run.run_id;
  });
  return first;
}

}  // namespace

TEST_CASE("a recorded run prints and draws what its live run did", "[recipes][run-report]") {
  Store cohort = testing::CohortStore();
  cohort.Exec(
      "UPDATE variable SET label = 'Lean muscle mass' WHERE code = 'lmm';"
      "UPDATE variable SET label = 'Intermuscular fat' WHERE code = 'intermat';"
      "UPDATE variable SET label = 'Chronic back pain' WHERE code = 'cbp';"
      "UPDATE variable SET label = 'Pain (NRS)' WHERE code = 'pain_nrs';"
      "UPDATE variable SET label = 'Osteoarthritis' WHERE code = 'osteoarthritis';");
  RecordedAsLive(cohort, Request("regress", {{"study", "cohort"},
                                             {"outcome", "pain_nrs"},
                                             {"predictors", {"lmm", "intermat", "sex"}},
                                             {"standardize", true},
                                             {"plot", true}}));
  RecordedAsLive(cohort, Request("logistic", {{"study", "cohort"},
                                              {"outcome", "cbp"},
                                              {"predictors", {"lmm", "intermat", "sex"}},
                                              {"per-sd", 2},
                                              {"random", "site"},
                                              {"plot", true}}));
  RecordedAsLive(cohort, Request("logistic", {{"study", "cohort"},
                                              {"outcome", "cbp"},
                                              {"predictors", {"lmm", "intermat", "sex"}},
                                              {"by", "osteoarthritis"},
                                              {"plot-exposure", "intermat"},
                                              {"plot", true}}));
  RecordedAsLive(cohort, Request("glm", {{"study", "cohort"},  // a 0/1 outcome: risk ratios
                                         {"formula", "cbp ~ sex + lmm"},
                                         {"se", "robust"},
                                         {"plot", true}}));
  RecordedAsLive(cohort, Request("glm", {{"study", "cohort"},  // --outcome/--predictors: the formula is built
                                         {"outcome", "pain_nrs"},
                                         {"predictors", {"lmm", "sex"}},
                                         {"plot", true}}));
  Store trial = testing::TrialStore();
  trial.Exec("UPDATE variable SET label = 'Pain (NRS)' WHERE code = 'pain_nrs';");
  RecordedAsLive(trial, Request("lmm", {{"study", "trial"},
                                        {"frame", "wide_trial_visit"},
                                        {"formula", "pain_nrs ~ arm * visit + (1 | participant_id)"},
                                        {"plot", true}}));
}

TEST_CASE("a recorded meta-analysis draws its forest plot again", "[recipes][run-report]") {
  // meta's rows carry no catalog labels, so --codes draws the same plot: no
  // RecordedAsLive, whose labels must differ from the codes.
  Store store = testing::MetaStore();
  for (const nlohmann::ordered_json& options :
       {nlohmann::ordered_json{{"study", "meta"}, {"outcome", "pain"}, {"method", "REML"}, {"plot", true}},
        nlohmann::ordered_json{{"study", "meta"},
                               {"outcome", "pain"},
                               {"by", "setting"},
                               {"favours", {"exercise", "usual care"}},
                               {"plot", true}}}) {
    INFO(options.dump());
    const AnalysisResultSet live = analysis::RunAnalysis(store, Request("meta", options));
    REQUIRE(!live.plot_svg.empty());
    const std::int64_t id = RecordAnalysisRun(store, live, std::nullopt, "", 1.0);
    const recipes::RunReport report = recipes::RecordedRunsReport(store, "s", {id});
    CHECK(report.steps.at(0).plot_missing.empty());
    CHECK(report.steps.at(0).result.plot_svg == live.plot_svg);
    CHECK(Tables(report.steps.at(0).result, false) == Tables(live, false));
  }
}

TEST_CASE("a recorded plot that cannot be drawn again says why instead", "[recipes][run-report]") {
  Store store = testing::TrialStore();
  const auto live = analysis::RunAnalysis(
      store,
      Request("glm", {{"study", "trial"}, {"formula", "pain_nrs_week12 ~ arm + age_years"}, {"plot", true}}));
  REQUIRE(!live.plot_svg.empty());
  const std::int64_t no_formula = RecordAnalysisRun(store, live, std::nullopt, "", 1.0);
  store.Query("UPDATE analysis_run SET summary = json_remove(summary, '$.formula') WHERE run_id = ?1",
              {no_formula});
  const std::int64_t unknown = RecordAnalysisRun(store, live, std::nullopt, "", 1.0);
  store.Query("UPDATE analysis_run SET command = 'oldplot' WHERE run_id = ?1", {unknown});
  const std::int64_t unasked = RecordAnalysisRun(
      store,
      analysis::RunAnalysis(store,
                            Request("glm", {{"study", "trial"}, {"formula", "pain_nrs_week12 ~ arm"}})),
      std::nullopt, "", 1.0);
  store.Query("UPDATE analysis_run SET summary = json_remove(summary, '$.formula') WHERE run_id = ?1",
              {unasked});

  const recipes::RunReport report = recipes::RecordedRunsReport(store, "s", {no_formula, unknown, unasked});
  REQUIRE(report.steps.size() == 3);
  CHECK(report.steps[0].plot_missing ==
        "glm: the result holds no model formula (summary \"formula\") to title the plot with");
  CHECK(report.steps[1].plot_missing == "this build of cohortdb has no analysis 'oldplot'");
  CHECK(report.steps[2].plot_missing.empty());  // no plot was asked for, so none is missing
  for (const auto& step : report.steps) CHECK(step.result.plot_svg.empty());
  const std::string html = recipes::RunReportHtml(report);
  CHECK(html.find("<svg") == std::string::npos);
  CHECK(html.find(
            fmt::format("The forest plot of run {} cannot be drawn from its recorded rows: glm: the result "
                        "holds no model formula (summary &quot;formula&quot;) to title the plot with",
                        no_formula)) != std::string::npos);
  CHECK(
      html.find(fmt::format("The forest plot of run {} cannot be drawn from its recorded rows: this build of "
                            "cohortdb has no analysis &#39;oldplot&#39;",
                            unknown)) != std::string::npos);
  CHECK(html.find(fmt::format("The forest plot of run {} cannot", unasked)) == std::string::npos);
}

TEST_CASE("runs of one recipe run make the recipe's report and other runs a report of runs",
          "[recipes][run-report]") {
  Store store = testing::TrialStore();
  const StoredRecipe stored = SaveRecipe(store, "mini", kRecipe).recipe;
  const std::int64_t a = RunRecipeOnce(store, stored);  // steps first, second as runs a, a + 1
  const std::int64_t b = RunRecipeOnce(store, stored);  // and again as b, b + 1
  REQUIRE(b == a + 2);
  const std::int64_t plain = RecordAnalysisRun(
      store, analysis::RunAnalysis(store, Request("describe", {{"study", "trial"}, {"vars", {"age_years"}}})),
      std::nullopt, "", 1.0);

  auto recipe_of = [&](const std::vector<std::int64_t>& ids) {
    INFO("runs " << fmt::format("{}", fmt::join(ids, ", ")));
    return recipes::RecordedRunsReport(store, "s", ids);
  };
  for (const auto& ids : {std::vector<std::int64_t>{a, a + 1}, std::vector<std::int64_t>{b, b + 1},
                          std::vector<std::int64_t>{a + 1}}) {
    const recipes::RunReport report = recipe_of(ids);
    REQUIRE(report.recipe.has_value());
    CHECK(report.recipe->recipe_id == stored.recipe_id);
    CHECK(report.title == "Mini recipe");
    CHECK(report.description == "Two steps over the test trial");
  }
  const recipes::RunReport both = recipe_of({a, a + 1});
  CHECK(both.steps[0].step.name == "first");
  CHECK(both.steps[1].step.title == "Second step");
  CHECK(!both.steps[1].result.plot_svg.empty());

  // Not one recipe run: across two runs of it (second, then first), out of
  // order, skipping a step's run, or with a run from the command line.
  for (const auto& ids : {std::vector<std::int64_t>{a + 1, b}, std::vector<std::int64_t>{a + 1, a},
                          std::vector<std::int64_t>{a, b + 1}, std::vector<std::int64_t>{b, b + 1, plain}}) {
    const recipes::RunReport report = recipe_of(ids);
    CHECK(!report.recipe.has_value());
    CHECK(report.title.empty());
    REQUIRE(report.steps.size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) CHECK(report.steps[i].run.run_id == ids[i]);
  }
  const recipes::RunReport mixed = recipe_of({b + 1, plain});
  CHECK(mixed.steps[0].step.title == "Second step");  // a run from a recipe keeps its step's title
  CHECK(mixed.steps[1].step.name.empty());
  const std::string html = recipes::RunReportHtml(mixed);
  CHECK(html.find(fmt::format("<h1>cohortdb runs {}, {}</h1>", b + 1, plain)) != std::string::npos);
  CHECK(html.find("<h2>1. Second step</h2>") != std::string::npos);
  CHECK(html.find("<h2>2. describe</h2>") != std::string::npos);
  CHECK(html.find(fmt::format("id=\"run-{}\"", plain)) != std::string::npos);
  CHECK(html.find("recipe mini version 1, step second") != std::string::npos);

  // A removed recipe still names its runs; one changed behind cohortdb's back does not.
  REQUIRE(RemoveRecipe(store, "mini") == 1);
  CHECK(recipe_of({a, a + 1}).recipe.has_value());
  store.Query("UPDATE recipe SET body = replace(body, 'Mini recipe', 'Forged') WHERE recipe_id = ?1",
              {stored.recipe_id});
  const recipes::RunReport forged = recipe_of({a, a + 1});
  CHECK(!forged.recipe.has_value());
  CHECK(forged.steps[1].step.title.empty());
}

TEST_CASE("a run id that names no run is an input error", "[recipes][run-report]") {
  Store store = testing::TrialStore();
  const std::int64_t id = RecordAnalysisRun(
      store, analysis::RunAnalysis(store, Request("describe", {{"study", "trial"}, {"vars", {"age_years"}}})),
      std::nullopt, "", 1.0);
  REQUIRE_THROWS_AS(recipes::RecordedRunsReport(store, "s.cohortdb", {id, id + 1}), InputError);
  REQUIRE_THROWS_WITH(
      recipes::RecordedRunsReport(store, "s.cohortdb", {id, id + 1}),
      fmt::format("no analysis run {} in s.cohortdb (`cohortdb results s.cohortdb` lists them)", id + 1));
}

}  // namespace cohortdb
