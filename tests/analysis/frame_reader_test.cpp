// Frames read by the pivot reader (only the columns an analysis names) give
// the results the pivot views gave; --censored and the study's catalog apply
// to frames over the pivot views too; a recipe reads each frame once.
#include <catch2/catch.hpp>

#include "analysis/analysis.h"
#include "analysis/frame.h"
#include "analysis/options.h"
#include "analysis/report.h"
#include "analysis_fixture.h"
#include "store/frame_column_cache.h"

namespace cohortdb::analysis {
namespace {

using testing::CohortStore;
using testing::Request;
using testing::TrialStore;

// The result as JSON without what differs between runs by design.
nlohmann::ordered_json Comparable(const AnalysisResultSet& result) {
  nlohmann::ordered_json j = ResultJson(result);
  j.erase("parameters");
  if (j.contains("diagnostics")) j["diagnostics"].erase("censored");
  return j;
}

// The same request through the views, the pivot reader filling the frame
// column cache (cold), the pivot reader served by the cache (warm) and the
// pivot reader without the cache (scan).
void CheckSameAsViews(Store& store, const AnalysisRequest& request) {
  INFO(request.command << " " << request.options.dump());
  SetFrameReadMode(FrameReadMode::kViews);
  const auto views = Comparable(RunAnalysis(store, request));
  ClearFrameCache(store);
  SetFrameReadMode(FrameReadMode::kPivotReader);
  const auto cold = Comparable(RunAnalysis(store, request));
  const std::int64_t cached = FrameCacheStats(store).columns;
  CHECK(cached > 0);
  const auto warm = Comparable(RunAnalysis(store, request));
  CHECK(FrameCacheStats(store).columns == cached);  // the warm run read them all from the cache
  SetFrameReadMode(FrameReadMode::kScan);
  const auto scan = Comparable(RunAnalysis(store, request));
  SetFrameReadMode(FrameReadMode::kPivotReader);
  CHECK(cold.dump() == views.dump());
  CHECK(warm.dump() == views.dump());
  CHECK(scan.dump() == views.dump());
}

void AddSmoking(Store& store) {
  store.Exec(
      "INSERT INTO variable (variable_id, study_id, code, record_kind, value_type) VALUES "
      "(9, 1, 'smoking', 'covariate', 'categorical');"
      "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (9, 1, 'never', '1'), "
      "(9, 2, 'former', '2'), (9, 3, 'current', '3');"
      "INSERT INTO covariate (participant_id, visit_id, variable_id, value, source_value, batch_id) "
      "SELECT participant_id, 1, 9, 1 + participant_id % 3, 'x', 1 FROM participant;");
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
}

}  // namespace

TEST_CASE("analyses give the same results through the pivot reader as through the views", "[analysis][frame]") {
  auto trial = TrialStore();
  AddSmoking(trial);
  for (const char* censored : {"exclude", "half", "sqrt2", "limit"}) {
    CheckSameAsViews(trial, Request("describe", {{"study", "trial"},
                                                 {"censored", censored},
                                                 {"vars", {"il6_baseline", "crp_week12", "smoking_baseline", "age_years"}},
                                                 {"group", "arm"}}));
    CheckSameAsViews(trial, Request("regress", {{"study", "trial"},
                                                {"censored", censored},
                                                {"derive", {"il6_change=change(il6, baseline, week12)",
                                                            "pain_change=change(pain_nrs, baseline, week12)"}},
                                                {"outcome", "pain_change"},
                                                {"predictors", {"arm", "il6_change", "smoking_baseline"}}}));
  }
  CheckSameAsViews(trial, Request("correlate", {{"study", "trial"},
                                                {"x", {"il6_baseline", "crp_baseline"}},
                                                {"y", {"pain_nrs_week12"}}}));
  // A per-visit frame (without --censored: the views path leaves censored
  // values of a --frame over wide_trial_visit missing under every rule).
  CheckSameAsViews(trial, Request("describe", {{"frame", "wide_trial_visit"},
                                               {"vars", {"il6", "pain_nrs"}},
                                               {"group", "visit"}}));
  CheckSameAsViews(trial, Request("compare", {{"study", "trial"}, {"vars", {"il6_week12", "pcs_week12"}}, {"group", "arm"}}));
  auto cohort = CohortStore();
  CheckSameAsViews(cohort, Request("logistic", {{"study", "cohort"},
                                                {"outcome", "cbp"},
                                                {"predictors", {"lmm", "intermat", "age_years", "sex"}},
                                                {"per-sd", 2},
                                                {"per-sd-vars", {"lmm", "intermat"}},
                                                {"random", "site"}}));
  CheckSameAsViews(cohort, Request("logistic", {{"frame", "SELECT * FROM wide_cohort WHERE lmm IS NOT NULL"},
                                                {"study", "cohort"},
                                                {"outcome", "pain_nrs>=4"},
                                                {"predictors", {"intermat", "sex"}},
                                                {"by", "diabetes"}}));
  CheckSameAsViews(cohort, Request("prevalence", {{"study", "cohort"},
                                                  {"cut", {"pa_met=500,5000"}},
                                                  {"outcome", "cbp"},
                                                  {"category", "pa_met_cat"}}));
}

TEST_CASE("option --censored applies to a frame over the pivot view and says what it did", "[analysis][frame]") {
  auto store = TrialStore();
  const auto by_study = RunAnalysis(
      store, Request("describe", {{"study", "trial"}, {"vars", {"il6_baseline"}}, {"censored", "half"}}));
  const auto by_frame = RunAnalysis(store, Request("describe", {{"frame", "SELECT * FROM wide_trial"},
                                                                {"vars", {"il6_baseline"}},
                                                                {"censored", "half"}}));
  // Before, the frame ignored the rule: its summary left the censored values out.
  CHECK(Comparable(by_frame).dump() == Comparable(by_study).dump());
  REQUIRE(by_frame.diagnostics.contains("censored"));
  const std::string note = by_frame.diagnostics["censored"]["il6_baseline"].get<std::string>();
  CHECK_THAT(note, Catch::Matchers::Contains("at a detection limit, set to limit/2"));
  CHECK(by_frame.diagnostics["censored"] == by_study.diagnostics["censored"]);
  const auto excluded =
      RunAnalysis(store, Request("describe", {{"frame", "wide_trial"}, {"vars", {"il6_baseline"}}}));
  REQUIRE(excluded.diagnostics.contains("censored"));
  CHECK_THAT(excluded.diagnostics["censored"]["il6_baseline"].get<std::string>(),
             Catch::Matchers::Contains("left out as missing"));
  // A frame that reads no pivot view cannot take the rule.
  CHECK_THROWS_WITH(RunAnalysis(store, Request("describe", {{"frame", "SELECT age_years FROM participant"},
                                                            {"vars", {"age_years"}},
                                                            {"censored", "half"}})),
                    Catch::Matchers::Contains("reads no pivot view"));
  // The views reader (a reference for tests and benchmarks) applies the rule
  // to a --frame over the per-visit view as the pivot reader does.
  SetFrameReadMode(FrameReadMode::kViews);
  const auto request = Request("describe", {{"frame", "SELECT * FROM wide_trial_visit"},
                                            {"vars", {"il6"}},
                                            {"censored", "sqrt2"}});
  const auto through_views = RunAnalysis(store, request);
  SetFrameReadMode(FrameReadMode::kPivotReader);
  const auto visit = RunAnalysis(store, request);
  REQUIRE(visit.diagnostics.contains("censored"));
  CHECK_THAT(visit.diagnostics["censored"]["il6"].get<std::string>(),
             Catch::Matchers::Contains("set to limit/sqrt(2)"));
  CHECK(Comparable(visit).dump() == Comparable(through_views).dump());
  CHECK(store.Query("SELECT count(*) FROM sqlite_temp_schema WHERE type = 'view'").rows.at(0).at(0) ==
        SqlValue(std::int64_t{0}));
}

TEST_CASE("a frame over a study's pivot keeps the catalog's levels without --study", "[analysis][frame]") {
  auto store = TrialStore();
  AddSmoking(store);
  const auto result = RunAnalysis(store, Request("describe", {{"frame", "SELECT * FROM wide_trial WHERE age_years > 0"},
                                                              {"vars", {"smoking_baseline"}}}));
  std::vector<std::string> levels;
  for (const auto& r : result.rows) {
    if (r.section == "table1" && r.extra.contains("level")) levels.push_back(r.extra["level"].get<std::string>());
  }
  // Before: summarised as a mean of the codes 1..3.
  CHECK(levels == std::vector<std::string>{"never", "former", "current"});
}

TEST_CASE("a visit column takes the study's visit order / not the alphabet", "[analysis][frame]") {
  auto store = TrialStore();
  store.Exec("UPDATE visit SET code = 'w12' WHERE visit_id = 2; UPDATE visit SET code = 'w2' WHERE visit_id = 1;");
  store.RefreshPivots("trial");
  AnalysisRequest request = Request("describe", {{"frame", "wide_trial_visit"}, {"vars", {"pain_nrs"}}, {"group", "visit"}});
  const auto result = RunAnalysis(store, request);
  std::vector<std::string> groups;
  for (const auto& r : result.rows) {
    if (r.section == "table1" && r.extra.contains("group") &&
        r.extra["group"].get<std::string>().rfind("w", 0) == 0 &&
        std::find(groups.begin(), groups.end(), r.extra["group"].get<std::string>()) == groups.end()) {
      groups.push_back(r.extra["group"].get<std::string>());
    }
  }
  CHECK(groups == std::vector<std::string>{"w2", "w12"});
}

TEST_CASE("a frame holds only the columns the analysis names", "[analysis][frame]") {
  auto store = CohortStore();
  const AnalysisRequest request = Request(
      "logistic", {{"study", "cohort"}, {"outcome", "cbp"}, {"predictors", {"lmm"}}, {"cut", {"pa_met=500"}}});
  const Frame frame = LoadFrame(store, Options(request));
  std::vector<std::string> names;
  for (const Column& c : frame.columns()) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"pa_met", "lmm", "cbp", "pa_met_cat"});
}

TEST_CASE("a recipe's steps that share a frame read it once", "[analysis][frame]") {
  auto store = CohortStore();
  FrameCache cache;
  const AnalysisRequest b_alone = Request("logistic", {{"frame", "SELECT * FROM wide_cohort WHERE lmm IS NOT NULL"},
                                                       {"outcome", "cbp"}, {"predictors", {"intermat", "age_years"}}});
  const auto uncached = Comparable(RunAnalysis(store, b_alone));
  const AnalysisRequest a = Request("describe", {{"frame", "SELECT * FROM wide_cohort WHERE lmm IS NOT NULL"},
                                                 {"vars", {"lmm"}}});
  const AnalysisRequest b = Request("logistic", {{"frame", "SELECT * FROM wide_cohort WHERE lmm IS NOT NULL"},
                                                 {"outcome", "cbp"}, {"predictors", {"intermat", "age_years"}}});
  const AnalysisRequest c = Request("describe", {{"study", "cohort"}, {"vars", {"age_years"}}});
  cache.Plan(Options(a));
  cache.Plan(Options(b));
  cache.Plan(Options(c));
  const FrameCacheScope scope(cache);
  const auto ra = RunAnalysis(store, a);
  const auto rb = RunAnalysis(store, b);
  const auto rc = RunAnalysis(store, c);
  CHECK(cache.reads() == 2);
  // Each step sees its own columns, and the results equal uncached runs.
  CHECK(Comparable(rb).dump() == uncached.dump());
  CHECK(ra.rows_used > 0);
  CHECK(rc.rows_used > 0);
}

}  // namespace cohortdb::analysis
