// The pivot reader against the pivot views it replaces for analyses: every
// column, every row, every censor rule, per participant and per visit, on a
// store that holds the cases the views' SQL decides (coalesced visit and
// participant records, superseded values, censored values both ways, text
// and categorical variables, participants without records, a variable code
// equal to a participant column, NULL participant columns).

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "common/value.h"
#include "store/frame_source.h"
#include "store/pivot.h"
#include "store/pivot_reader.h"
#include "store/store.h"
#include "edge_store.h"

namespace cohortdb {
namespace {

using testing::EdgeStore;
using testing::SameCell;


void CheckEqualToView(Store& store, const std::string& study, bool per_visit, CensorRule rule) {
  const PivotDefinition pivot = LoadPivotDefinition(store, study);
  const QueryResult view = store.Query(WideSelectSql(pivot, per_visit, rule));
  const PivotData data = ReadPivot(store, pivot, per_visit, rule, std::nullopt);
  INFO("study " << study << (per_visit ? " per visit" : "") << ", rule " << CensorRuleName(rule));
  REQUIRE(data.rows == view.rows.size());
  REQUIRE(data.columns.size() == view.columns.size());
  CHECK(PivotColumnNames(pivot, per_visit) == view.columns);
  for (std::size_t c = 0; c < view.columns.size(); ++c) {
    REQUIRE(data.columns[c].name == view.columns[c]);
    for (std::size_t r = 0; r < view.rows.size(); ++r) {
      INFO("column " << view.columns[c] << ", row " << r << ": view " << FormatSqlValue(view.rows[r][c]));
      CHECK(SameCell(view.rows[r][c], data.columns[c], r));
    }
  }
}

}  // namespace

TEST_CASE("the pivot reader gives the pivot views' rows and values", "[store][pivot]") {
  Store store = EdgeStore();
  for (const char* study : {"long", "flat"}) {
    for (bool per_visit : {false, true}) {
      for (CensorRule rule :
           {CensorRule::kExclude, CensorRule::kHalfLimit, CensorRule::kLimitSqrt2, CensorRule::kLimit}) {
        CheckEqualToView(store, study, per_visit, rule);
      }
    }
  }
}

TEST_CASE("the pivot reader reads only the columns asked for / in the view's order", "[store][pivot]") {
  Store store = EdgeStore();
  const PivotDefinition pivot = LoadPivotDefinition(store, "long");
  const PivotData data =
      ReadPivot(store, pivot, false, CensorRule::kExclude, std::vector<std::string>{"il6_m6", "site", "nope"});
  REQUIRE(data.columns.size() == 2);
  CHECK(data.columns[0].name == "site");
  CHECK(data.columns[1].name == "il6_m6");
  CHECK(data.rows == 4);
  CHECK(data.columns[1].values[0] == 4.0);  // the superseding value, not the superseded 9
}

TEST_CASE("the pivot reader marks censored values per rule", "[store][pivot]") {
  Store store = EdgeStore();
  const PivotDefinition pivot = LoadPivotDefinition(store, "long");
  const std::vector<std::string> il6 = {"il6_m0", "il6_m12", "il6"};
  const PivotData half = ReadPivot(store, pivot, false, CensorRule::kHalfLimit, il6);
  // il6 (participant level): participant 13 censored; il6_m0: participant 11
  // (right, set to the limit); il6_m12: participant 10 (left, limit / 2).
  REQUIRE(half.columns.size() == 3);
  CHECK(half.columns[0].name == "il6");
  CHECK(half.columns[0].censored_count == 1);
  CHECK(half.columns[0].values[3] == 0.075);
  CHECK(half.columns[1].censored_count == 1);
  CHECK(half.columns[1].values[1] == 50);
  CHECK(half.columns[2].censored_count == 1);
  CHECK(half.columns[2].values[0] == 0.075);
  const PivotData excluded = ReadPivot(store, pivot, false, CensorRule::kExclude, il6);
  CHECK(excluded.columns[2].censored_count == 1);
  CHECK(std::isnan(excluded.columns[2].values[0]));
}

TEST_CASE("shadow tables make a frame over a pivot view read the reader's data", "[store][pivot]") {
  Store store = EdgeStore();
  const PivotDefinition pivot = LoadPivotDefinition(store, "long");
  {
    ShadowPivots shadows(store);
    shadows.Add("wide_long",
                ReadPivot(store, pivot, false, CensorRule::kHalfLimit, std::vector<std::string>{"il6_m12", "arm"}));
    const QueryResult r = store.GuardedQuery("SELECT * FROM wide_long WHERE il6_m12 IS NOT NULL");
    REQUIRE(r.columns == std::vector<std::string>{"arm", "il6_m12"});
    REQUIRE(r.rows.size() == 2);
    CHECK(std::get<double>(r.rows[0][1]) == 0.075);
  }
  // Gone with the object: the view answers again.
  const QueryResult r = store.GuardedQuery("SELECT count(*) FROM wide_long WHERE il6_m12 IS NOT NULL");
  CHECK(std::get<std::int64_t>(r.rows[0][0]) == 1);
}

TEST_CASE("a shadow table keeps integers text and NULLs and cannot be made from SQL", "[store][pivot]") {
  Store store = EdgeStore();
  PivotData data;
  data.rows = 3;
  PivotColumnData id{"participant_id", false, true, {1, 2, std::numeric_limits<double>::quiet_NaN()}, {}, {}, {}, 0};
  PivotColumnData arm{"arm \"x\"", true, false, {}, {1, -1, 0}, {"control", "exercise"}, {}, 0};
  PivotColumnData il6{"il6", false, false, {0.5, 1.25, 2.0}, {}, {}, {}, 0};
  data.columns = {id, arm, il6};
  {
    ShadowPivots shadows(store);
    const PivotData& kept = shadows.Add("wide_edge", std::move(data));
    CHECK(kept.rows == 3);
    const QueryResult r = store.GuardedQuery(
        "SELECT typeof(participant_id), participant_id, \"arm \"\"x\"\"\", il6 FROM wide_edge ORDER BY il6 DESC");
    REQUIRE(r.rows.size() == 3);
    CHECK(std::get<std::string>(r.rows[0][0]) == "null");
    CHECK(std::get<std::string>(r.rows[0][2]) == "control");
    CHECK(std::get<double>(r.rows[0][3]) == 2.0);
    CHECK(std::get<std::string>(r.rows[1][0]) == "integer");
    CHECK(std::get<std::int64_t>(r.rows[1][1]) == 2);
    CHECK(std::holds_alternative<std::monostate>(r.rows[1][2]));
    CHECK(std::get<std::string>(r.rows[2][2]) == "exercise");
    // A join and an aggregate read it as a table.
    const QueryResult n = store.GuardedQuery("SELECT count(*), sum(il6) FROM wide_edge a JOIN wide_edge b USING (il6)");
    CHECK(std::get<std::int64_t>(n.rows[0][0]) == 3);
    CHECK(std::get<double>(n.rows[0][1]) == 3.75);
  }
  // SQL cannot make one (a name without the reader's data behind it).
  CHECK_THROWS_WITH(store.Exec("CREATE VIRTUAL TABLE temp.x USING cohortdb_pivot"),
                    Catch::Matchers::Contains("frame reader only"));
  CHECK(store.Query("SELECT count(*) FROM sqlite_temp_schema WHERE name = 'wide_edge'").rows.at(0).at(0) ==
        SqlValue(std::int64_t{0}));
}

}  // namespace cohortdb

namespace cohortdb {
namespace {

std::set<std::string> AsSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

TEST_CASE("participant column levels: the values of one study, NULLs and other studies left out", "[store][pivot]") {
  Store store = EdgeStore();
  CHECK(AsSet(ParticipantColumnLevels(store, 1, "sex")) == std::set<std::string>{"female", "male"});
  CHECK(AsSet(ParticipantColumnLevels(store, 1, "arm")) == std::set<std::string>{"control", "exercise"});
  CHECK(AsSet(ParticipantColumnLevels(store, 1, "site")) == std::set<std::string>{"north", "south"});
  CHECK(AsSet(ParticipantColumnLevels(store, 2, "site")) == std::set<std::string>{"x"});
  CHECK(ParticipantColumnLevels(store, 2, "sex").empty());
  CHECK_THROWS_WITH(ParticipantColumnLevels(store, 1, "age_years; DROP TABLE participant"),
                    Catch::Matchers::Contains("not a participant column with levels"));
}

TEST_CASE("a frame projection is recognised only when it is nothing but column names of one view",
          "[store][pivot]") {
  using Items = std::vector<std::pair<std::string, std::string>>;
  const auto all = ParseFrameProjection("SELECT * FROM wide_edge");
  REQUIRE(all);
  CHECK(all->all);
  CHECK(all->view == "wide_edge");
  CHECK(all->items.empty());
  const auto named = ParseFrameProjection(
      "select participant_id AS pid,\n  age_years, \"sex\" gender ,visit FROM \"wide_edge_visit\";");
  REQUIRE(named);
  CHECK_FALSE(named->all);
  CHECK(named->view == "wide_edge_visit");
  CHECK(named->items ==
        Items{{"pid", "participant_id"}, {"age_years", "age_years"}, {"gender", "sex"}, {"visit", "visit"}});
  for (const char* sql : {"SELECT DISTINCT a FROM v", "SELECT ALL a FROM v", "SELECT a FROM v WHERE a > 1",
                          "SELECT a FROM v w", "SELECT a FROM main.v", "SELECT a + 1 AS b FROM v",
                          "SELECT a FROM v -- note", "SELECT a FROM v /* note */", "SELECT a FROM v LIMIT 3",
                          "SELECT a FROM v ORDER BY a", "SELECT a, FROM v", "SELECT a b c FROM v",
                          "SELECT a FROM v, w", "SELECT a FROM v JOIN w", "SELECT \"a\"\"b\" FROM v",
                          "SELECT \"\" FROM v", "SELECT \"a FROM v", "SELECT a FROM v; SELECT 1",
                          "WITH x AS (SELECT 1) SELECT * FROM x", "SELECT *, a FROM v", "SELECT a AS FROM v",
                          "SELECT a FROM", "SELECT", "", "VALUES (1)", "SELECT a FROM v UNION SELECT a FROM w"}) {
    INFO(sql);
    CHECK_FALSE(ParseFrameProjection(sql));
  }
}

}  // namespace
}  // namespace cohortdb
