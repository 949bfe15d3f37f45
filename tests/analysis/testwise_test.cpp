// compare and correlate test each variable (pair) on the rows that hold it,
// as t.test and cor.test on one variable (pair) at a time: a value missing in
// one variable does not change another's test. Expected values:
// tests/reference/analysis_testwise.R.
#include <catch2/catch.hpp>

#include "analysis/analysis.h"
#include "analysis_fixture.h"
#include "result_helpers.h"

using Catch::Matchers::WithinRel;
using cohortdb::analysis::RunAnalysis;
using namespace cohortdb::testing;

namespace {

const char* kFrame =
    "SELECT column1 AS g, column2 AS y, column3 AS x FROM (VALUES ('a',5.1,1.2),('a',4.8,1.9),('a',NULL,1.4),"
    "('a',6.0,2.2),('a',5.5,NULL),('a',5.9,1.1),('b',6.8,2.5),('b',7.1,2.0),('b',6.2,2.9),('b',7.4,2.4),"
    "('b',6.9,3.1),('b',7.7,1.8),('b',6.0,2.6))";

}  // namespace

TEST_CASE("compare tests each variable on the rows that hold it", "[analysis][compare]") {
  auto store = CohortStore();
  const auto both = RunAnalysis(
      store, Request("compare", {{"frame", kFrame}, {"vars", {"y", "x"}}, {"group", "g"}, {"test", {"t"}}}));
  const auto& y = FindRow(both, "tests", "y");
  CHECK(*y.n == 12);
  CHECK(y.extra["missing"] == 1);
  CHECK_THAT(y.statistic, WithinRel(-4.20484163944073, 1e-10));
  CHECK_THAT(y.p_value, WithinRel(0.0018147045424112, 1e-8));
  const auto& x = FindRow(both, "tests", "x");
  CHECK(*x.n == 12);
  CHECK_THAT(x.statistic, WithinRel(-3.34432264845409, 1e-10));
  CHECK_THAT(x.p_value, WithinRel(0.00743613205023238, 1e-8));
  CHECK(both.rows_used == 13);
  CHECK(both.summary["difference"] == "a minus b");
  CHECK(both.rows_excluded == 0);
  CHECK(both.diagnostics["excluded_because"]["missing y"] == 1);
  const auto alone = RunAnalysis(
      store, Request("compare", {{"frame", kFrame}, {"vars", {"y"}}, {"group", "g"}, {"test", {"t"}}}));
  CHECK(alone.rows_used == 12);
  CHECK(alone.rows_excluded == 1);
}

TEST_CASE("compare --min-cell hides a group of one beside an empty group / and the missing count", "[analysis][compare]") {
  auto store = CohortStore();
  // Stratum s = 1: z is missing for both 'a' rows, so its groups hold 0 and 1.
  const auto result = RunAnalysis(
      store, Request("compare", {{"frame", "SELECT 'a' AS g, 1.0 AS y, NULL AS z, 1 AS s UNION ALL SELECT 'a', 2.0, "
                                           "NULL, 1 UNION ALL SELECT 'b', 3.0, 4.0, 2 UNION ALL SELECT 'b', 5.0, 1.0, "
                                           "2 UNION ALL SELECT 'a', 2.2, 3.0, 2 UNION ALL SELECT 'b', 2.2, 3.0, 1 "
                                           "UNION ALL SELECT 'a', 2.2, 7.0, 2"},
                                 {"vars", {"y", "z"}}, {"group", "g"}, {"by", "s"}, {"test", {"t"}}, {"min-cell", 2}}));
  const auto& z = FindRow(result, "tests", "z", "s=1");
  CHECK(z.extra["suppressed"] == true);
  CHECK_FALSE(z.n.has_value());
  const auto& y = FindRow(result, "tests", "y", "s=1");
  CHECK(y.extra["suppressed"] == true);
  CHECK(y.extra["missing"].is_null());  // n would follow from the stratum's rows minus it
  CHECK(y.extra["mean2"].is_null());    // the one 'b' row's value
}

TEST_CASE("correlate tests each pair on the rows that hold both", "[analysis][correlate]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("correlate", {{"frame", kFrame}, {"x", {"x"}}, {"y", {"y"}}}));
  const auto& r = FindRow(result, "correlations", "x ~ y");
  CHECK(*r.n == 11);
  CHECK_THAT(r.estimate, WithinRel(0.361644305961847, 1e-10));
  CHECK_THAT(r.p_value, WithinRel(0.274468960190825, 1e-8));
  CHECK(result.rows_used == 11);
  CHECK(result.rows_excluded == 2);
}

TEST_CASE("describe --min-cell hides the summary of a group with fewer values than N", "[analysis][describe]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(
      store, Request("describe", {{"frame", "SELECT 'a' AS g, 1.0 AS y UNION ALL SELECT 'a', 2.0 UNION ALL SELECT 'a', "
                                            "3.0 UNION ALL SELECT 'b', 7.5 UNION ALL SELECT 'b', NULL"},
                                  {"vars", {"y"}}, {"group", "g"}, {"min-cell", 2}}));
  const auto& b = FindRow(result, "table1", "y", "", "b");
  CHECK(b.extra["suppressed"] == true);
  CHECK(b.extra["mean"].is_null());  // the one value, 7.5
  CHECK(b.extra["missing"].is_null());
  CHECK_FALSE(FindRow(result, "table1", "y", "", "a").extra.contains("suppressed"));
}
