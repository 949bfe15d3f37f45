// Frames read by the pivot reader (only the columns an analysis names) give
// the results the pivot views gave; --censored and the study's catalog apply
// to frames over the pivot views too; a recipe reads each frame once.
#include <cmath>

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

// Two frames hold the same columns, rows and values (NaN where missing).
void CheckSameFrame(const Frame& a, const Frame& b) {
  REQUIRE(a.rows() == b.rows());
  std::vector<const Column*> xs;
  std::vector<const Column*> ys;
  for (const Column& c : a.columns()) xs.push_back(&c);
  for (const Column& c : b.columns()) ys.push_back(&c);
  REQUIRE(xs.size() == ys.size());
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const Column& x = *xs[j];
    const Column& y = *ys[j];
    INFO("column " << x.name);
    CHECK(x.name == y.name);
    CHECK(x.numeric == y.numeric);
    CHECK(x.levels == y.levels);
    CHECK(x.codes == y.codes);
    CHECK(x.censored == y.censored);
    REQUIRE(x.values.size() == y.values.size());
    for (std::size_t r = 0; r < x.values.size(); ++r) {
      if (std::isnan(x.values[r]) || std::isnan(y.values[r])) {
        CHECK((std::isnan(x.values[r]) && std::isnan(y.values[r])));
      } else {
        CHECK(x.values[r] == y.values[r]);
      }
    }
  }
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

TEST_CASE("a frame that only projects pivot columns reads them directly / as running its SQL gives them",
          "[analysis][frame]") {
  auto cohort = CohortStore();
  // Each frame against the same SQL made to run (WHERE 1 keeps every row),
  // with the columns an analysis names.
  const auto check = [&](Store& store, const std::string& frame, const std::string& as_sql,
                         const std::vector<std::string>& vars) {
    INFO(frame);
    const FrameReadCounts before = GetFrameReadCounts();
    const Frame direct = LoadFrame(store, Options(Request("describe", {{"frame", frame}, {"vars", vars}})));
    const FrameReadCounts middle = GetFrameReadCounts();
    CHECK(middle.direct == before.direct + 1);
    CHECK(middle.sql == before.sql);
    const Frame ran = LoadFrame(store, Options(Request("describe", {{"frame", as_sql}, {"vars", vars}})));
    CHECK(GetFrameReadCounts().sql == middle.sql + 1);
    CHECK(direct.rows() > 0);
    CheckSameFrame(direct, ran);
  };
  check(cohort, "SELECT * FROM wide_cohort", "SELECT * FROM wide_cohort WHERE 1", {"lmm", "sex", "site", "cbp"});
  check(cohort, "wide_cohort", "SELECT * FROM wide_cohort WHERE 1", {"sex", "age_years"});
  check(cohort, "SELECT participant_id AS pid, lmm, cbp, sex AS gender FROM wide_cohort;",
        "SELECT participant_id AS pid, lmm, cbp, sex AS gender FROM wide_cohort WHERE 1", {"pid", "gender", "lmm"});
  check(cohort, "select lmm, \"cbp\" outcome\nFROM \"wide_cohort\"", "select lmm, \"cbp\" outcome FROM wide_cohort WHERE 1",
        {"outcome", "lmm"});
  auto trial = TrialStore();
  check(trial, "SELECT participant_id AS participant, visit, pain_nrs AS pain, arm FROM wide_trial_visit",
        "SELECT participant_id AS participant, visit, pain_nrs AS pain, arm FROM wide_trial_visit WHERE 1",
        {"participant", "visit", "pain", "arm"});
  // An analysis over such a frame equals the views' result.
  CheckSameAsViews(trial, Request("describe", {{"frame", "SELECT participant_id AS pid, visit, pain_nrs AS pain "
                                                         "FROM wide_trial_visit"},
                                               {"vars", {"pain"}},
                                               {"group", "visit"}}));
  // Anything beyond a plain projection runs as SQL; so does a column with
  // censored values (marked after the SQL by participant and visit).
  for (const char* frame : {"SELECT DISTINCT lmm, cbp FROM wide_cohort", "SELECT lmm, cbp FROM wide_cohort w",
                            "SELECT lmm * 1 AS lmm, cbp FROM wide_cohort", "SELECT lmm, cbp FROM wide_cohort -- all",
                            "SELECT lmm, cbp FROM main.wide_cohort", "SELECT lmm, cbp FROM wide_cohort LIMIT 5",
                            "SELECT lmm, lmm AS cbp FROM wide_cohort"}) {
    INFO(frame);
    const FrameReadCounts before = GetFrameReadCounts();
    LoadFrame(cohort, Options(Request("describe", {{"frame", frame}, {"vars", {"lmm", "cbp"}}})));
    CHECK(GetFrameReadCounts().direct == before.direct);
    CHECK(GetFrameReadCounts().sql == before.sql + 1);
  }
  const FrameReadCounts before = GetFrameReadCounts();
  LoadFrame(trial, Options(Request("describe", {{"frame", "SELECT * FROM wide_trial"},
                                                {"vars", {"il6_baseline"}},
                                                {"censored", "half"}})));
  CHECK(GetFrameReadCounts().direct == before.direct);
}

}  // namespace cohortdb::analysis
