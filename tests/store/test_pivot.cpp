// Pivots generated from the variable catalog: wide_<study> and
// wide_<study>_visit, and censored values under each rule.
#include <catch2/catch.hpp>

#include <cmath>

#include "store/pivot.h"
#include "store/store.h"

namespace cohortdb {
namespace {

Store MakeTrial() {
  Store store = Store::Create(":memory:");
  store.Exec(R"sql(
    INSERT INTO study (code, design) VALUES ('trial', 'trial');
    INSERT INTO site (study_id, code) VALUES (1, 'a');
    INSERT INTO participant (study_id, external_id, site_id, sex, arm) VALUES
      (1, 'P01', 1, 'female', 'exercise'), (1, 'P02', 1, 'male', 'control');
    INSERT INTO visit (study_id, code, visit_order, nominal_day) VALUES (1, 'baseline', 1, 0), (1, 'week12', 2, 84);
    INSERT INTO variable (study_id, code, record_kind, value_type, unit) VALUES
      (1, 'il6', 'biomarker', 'real', 'pg/mL'), (1, 'pain', 'outcome', 'real', NULL),
      (1, 'bmi', 'covariate', 'real', 'kg/m2'), (1, 'sex', 'covariate', 'categorical', NULL);
    INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)
      VALUES ('lab.csv', printf('%064d', 1), printf('%064d', 2), '2026-01-01', 'test');
    INSERT INTO biomarker (participant_id, visit_id, variable_id, value, source_value, source_unit, censoring, detection_limit, batch_id) VALUES
      (1, 1, 1, 2.0, '2.0', 'pg/mL', 'none', NULL, 1), (1, 2, 1, NULL, '<0.15', 'pg/mL', 'left', 0.15, 1),
      (2, 1, 1, 3.5, '3.5', 'pg/mL', 'none', NULL, 1);
    INSERT INTO outcome (participant_id, visit_id, variable_id, value, source_value, batch_id) VALUES
      (1, 1, 2, 6, '6', 1), (1, 2, 2, 3, '3', 1), (2, 1, 2, 5, '5', 1), (2, 2, 2, 5, '5', 1);
    INSERT INTO covariate (participant_id, visit_id, variable_id, value, source_value, batch_id) VALUES
      (1, NULL, 3, 24.5, '24.5', 1), (2, NULL, 4, 2, '2', 1);
  )sql");
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
  return store;
}

bool IsNull(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

}  // namespace

TEST_CASE("the per-participant pivot has a column per variable and visit", "[store][pivot]") {
  Store store = MakeTrial();
  const auto wide = store.Query("SELECT * FROM wide_trial");
  const std::vector<std::string> expected = {"participant_id", "external_id", "site", "sex", "age_years",
                                             "birth_year", "arm", "il6_baseline", "il6_week12",
                                             "pain_baseline", "pain_week12", "bmi", "sex_value"};
  CHECK(wide.columns == expected);
  REQUIRE(wide.rows.size() == 2);
  CHECK(std::get<double>(wide.rows[0][7]) == 2.0);
  CHECK(IsNull(wide.rows[0][8]));  // censored: excluded in the view
  CHECK(std::get<double>(wide.rows[0][10]) == 3.0);
  CHECK(std::get<double>(wide.rows[0][11]) == 24.5);
  CHECK(std::get<double>(wide.rows[1][12]) == 2.0);
  CHECK(std::get<std::string>(wide.rows[1][2]) == "a");
}

TEST_CASE("the per-visit pivot has one row per participant and visit", "[store][pivot]") {
  Store store = MakeTrial();
  const auto rows = store.Query("SELECT external_id, visit, il6, pain, bmi FROM wide_trial_visit");
  REQUIRE(rows.rows.size() == 4);
  CHECK(std::get<std::string>(rows.rows[1][1]) == "week12");
  CHECK(std::get<double>(rows.rows[1][3]) == 3.0);
  CHECK(std::get<double>(rows.rows[1][4]) == 24.5);  // participant-level value repeats on each visit
  CHECK(IsNull(rows.rows[3][2]));                    // P02 has no week-12 IL-6
}

TEST_CASE("censored values enter frames by the chosen rule", "[store][pivot]") {
  Store store = MakeTrial();
  auto value = [&](CensorRule rule) {
    return store.Query("SELECT il6_week12 FROM (" + WideSelectSql(store, "trial", false, rule) +
                       ") WHERE external_id = 'P01'")
        .rows[0][0];
  };
  CHECK(IsNull(value(CensorRule::kExclude)));
  CHECK(std::get<double>(value(CensorRule::kHalfLimit)) == 0.075);
  CHECK(std::get<double>(value(CensorRule::kLimitSqrt2)) == 0.15 / std::sqrt(2.0));
  CHECK(std::get<double>(value(CensorRule::kLimit)) == 0.15);
  CHECK(ParseCensorRule("half") == CensorRule::kHalfLimit);
  CHECK_FALSE(ParseCensorRule("drop").has_value());
}

TEST_CASE("a superseded record leaves the pivot", "[store][pivot]") {
  Store store = MakeTrial();
  store.Exec(R"sql(
    INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)
      VALUES ('lab2.csv', printf('%064d', 3), printf('%064d', 2), '2026-01-02', 'test');
    UPDATE biomarker SET superseded_by = 2 WHERE participant_id = 1 AND visit_id = 1;
    INSERT INTO biomarker (participant_id, visit_id, variable_id, value, source_value, batch_id)
      VALUES (1, 1, 1, 2.25, '2.25', 2);
  )sql");
  CHECK(std::get<double>(store.Query("SELECT il6_baseline FROM wide_trial WHERE external_id = 'P01'").rows[0][0]) ==
        2.25);
}

TEST_CASE("a variable named like an SQL keyword gets a usable pivot column", "[store][pivot]") {
  Store store = MakeTrial();
  store.Exec("INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'group', 'covariate', 'integer');"
             "INSERT INTO covariate (participant_id, variable_id, value, source_value, batch_id) VALUES (2, 5, 7, '7', 1);");
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
  CHECK(std::get<double>(store.Query("SELECT \"group\" FROM wide_trial WHERE external_id = 'P02'").rows[0][0]) == 7.0);
  CHECK(std::get<double>(store.Query("SELECT \"group\" FROM wide_trial_visit WHERE external_id = 'P02'").rows[0][0]) ==
        7.0);
}

TEST_CASE("a pivot whose columns would share a name is refused", "[store][pivot]") {
  Store store = MakeTrial();
  // A participant-level "pain_baseline" beside "pain" at visit "baseline".
  store.Exec("INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'pain_baseline', 'outcome', "
             "'real');"
             "INSERT INTO outcome (participant_id, variable_id, value, source_value, batch_id) VALUES (1, 5, 7, '7', 1);");
  store.RecomputeCoverage();
  CHECK_THROWS_WITH(store.RefreshPivots("trial"),
                    "study 'trial': the pivot wide_trial would have two columns named 'pain_baseline', variable 'pain' "
                    "at visit 'baseline' and variable 'pain_baseline'; rename one of the variables");
  // Only at week 12 it has a column of its own, pain_baseline_week12.
  store.Exec("UPDATE outcome SET visit_id = 2 WHERE variable_id = 5");
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
  CHECK(std::get<double>(store.Query("SELECT pain_baseline_week12 FROM wide_trial WHERE external_id = 'P01'")
                             .rows[0][0]) == 7.0);
}

TEST_CASE("pivots refreshed inside a transaction roll back with it", "[store][pivot]") {
  Store store = MakeTrial();
  {
    Store::Transaction transaction(store);
    store.Exec("INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'crp', 'biomarker', 'real')");
    store.RefreshPivots("trial");
    CHECK(store.Query("SELECT crp FROM wide_trial").rows.size() == 2);
  }  // rolled back
  CHECK_THROWS_WITH(store.Query("SELECT crp FROM wide_trial"), Catch::Contains("no such column: crp"));
}

TEST_CASE("an unknown study is an input error", "[store][pivot]") {
  Store store = Store::Create(":memory:");
  REQUIRE_THROWS_WITH(store.RefreshPivots("nope"), "unknown study 'nope'");
}

}  // namespace cohortdb
