// days() between date columns (values from tests/reference/common_dates.R),
// and the levels of a per-visit frame's visit column in the study's visit
// order (issue 13: a model listed visitm12 before visitm6).
#include <catch2/catch.hpp>

#include <cmath>

#include "analysis/analysis.h"
#include "analysis/frame.h"
#include "analysis/options.h"
#include "analysis_fixture.h"
#include "common/error.h"

using namespace cohortdb;
using namespace cohortdb::analysis;
using namespace cohortdb::testing;

namespace {

SqlValue Text(const char* s) { return s == nullptr ? SqlValue() : SqlValue(std::string(s)); }

}  // namespace

TEST_CASE("days(DATE / FROM) counts the days from FROM to DATE as R's difftime", "[analysis][derive][dates]") {
  QueryResult q;
  q.columns = {"visit_date", "baseline_date", "seen", "since", "n"};
  const char* visit[] = {"2023-03-01", "2024-02-29", nullptr, "2021-01-15"};
  const char* baseline[] = {"2020-02-28", "2020-02-28", "2020-02-29", "2021-03-01"};
  const char* seen[] = {"2023-03-02 06:00", nullptr, nullptr, nullptr};
  const char* since[] = {"2023-03-01 18:00", nullptr, nullptr, nullptr};
  for (int i = 0; i < 4; ++i) {
    q.rows.push_back({Text(visit[i]), Text(baseline[i]), Text(seen[i]), Text(since[i]), SqlValue(1.0 * i)});
  }
  Frame frame = Frame::FromQuery(q);
  ApplyDerive(frame, "fu=days(visit_date, baseline_date)");
  const Column& fu = frame.Get("fu");
  REQUIRE(fu.numeric);
  // as.numeric(difftime(visit, baseline, units = "days")): 1097 1462 NA -45
  CHECK(fu.values[0] == 1097);
  CHECK(fu.values[1] == 1462);
  CHECK(std::isnan(fu.values[2]));
  CHECK(fu.values[3] == -45);
  ApplyDerive(frame, "half = days( seen , since )");
  CHECK(frame.Get("half").values[0] == 0.5);
  CHECK(std::isnan(frame.Get("half").values[1]));
  REQUIRE_THROWS_WITH(ApplyDerive(frame, "x=days(visit_date, n)"),
                      "--derive x: days() needs date columns (ISO 8601 text such as 2023-02-28), found the numeric "
                      "column 'n'");
  QueryResult bad;
  bad.columns = {"a", "b"};
  bad.rows.push_back({Text("2023-01-01"), Text("2023-02-30")});
  Frame bad_frame = Frame::FromQuery(bad);
  REQUIRE_THROWS_WITH(ApplyDerive(bad_frame, "x=days(a, b)"),
                      "--derive x: days() needs date columns, found '2023-02-30' in column 'b' (row 1); expected a "
                      "date YYYY-MM-DD[ HH:MM[:SS]]");
  REQUIRE_THROWS_WITH(ApplyDerive(bad_frame, "x=days(a, c)"), Catch::Contains("unknown variable 'c'"));
}

TEST_CASE("a per-visit frame's visit column has its levels in visit order / not collation order",
          "[analysis][frame][visits]") {
  auto store = TrialStore();
  // Visits m6 and m12 after week12: collation would put m12 before m6.
  store.Exec(
      "INSERT INTO visit (visit_id, study_id, code, visit_order) VALUES (3, 1, 'm6', 3), (4, 1, 'm12', 4);"
      "INSERT INTO outcome (participant_id, visit_id, variable_id, value, source_value, batch_id) "
      "SELECT participant_id, 3, 3, 4, '4', 1 FROM participant;"
      "INSERT INTO outcome (participant_id, visit_id, variable_id, value, source_value, batch_id) "
      "SELECT participant_id, 4, 3, 3, '3', 1 FROM participant;");
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
  const std::vector<std::string> expected = {"baseline", "week12", "m6", "m12"};
  // By the frame's own visit_order column (no --study needed) ...
  // (a frame holds the columns the options name: visit is named as the group)
  auto request = Request("describe", {{"frame", "wide_trial_visit"}, {"vars", {"pain_nrs"}}, {"group", "visit"}});
  Frame frame = LoadFrame(store, Options(request));
  CHECK(frame.Get("visit").levels == expected);
  // ... or by the catalog of --study when the frame has no visit_order.
  request = Request("describe", {{"study", "trial"},
                                 {"frame", "SELECT external_id, visit, pain_nrs FROM wide_trial_visit"},
                                 {"vars", {"pain_nrs"}},
                                 {"group", "visit"}});
  frame = LoadFrame(store, Options(request));
  CHECK(frame.Get("visit").levels == expected);
  // The first level is the reference, as in R with factor(visit, levels = visit order).
  const auto result = RunAnalysis(store, Request("describe", {{"frame", "wide_trial_visit"},
                                                              {"vars", {"pain_nrs"}},
                                                              {"group", "visit"}}));
  std::vector<std::string> groups;
  for (const auto& r : result.rows) {
    if (r.section == "table1" && r.term == "n") groups.push_back(r.extra["group"].get<std::string>());
  }
  CHECK(groups == expected);
}
