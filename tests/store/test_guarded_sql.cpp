// The read-only guard of ad-hoc SQL: writes, schema changes, ATTACH,
// load_extension, state-changing pragmas and writes hidden in a CTE are
// refused with a reason, and the store is unchanged. --write runs all
// statements in one transaction.
#include <catch2/catch.hpp>

#include "common/error.h"
#include "store/guard.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

// A store with one study and two participants, reopened as the sql command does.
std::string MakeStore(const TempDir& dir) {
  const std::string path = dir.File("guard.cohortdb");
  Store store = Store::Create(path);
  store.Exec(
      "INSERT INTO study (code, design) VALUES ('trial', 'trial');"
      "INSERT INTO participant (study_id, external_id, sex) VALUES (1, 'P01', 'female'), (1, 'P02', 'male');");
  return path;
}

std::int64_t Count(Store& store, const std::string& table) {
  return std::get<std::int64_t>(store.Query("SELECT count(*) FROM " + table).rows[0][0]);
}

const char* kWriteHint = "queries are read-only (the sql command takes --write to allow changes)";

}  // namespace

TEST_CASE("read-only SQL refuses every kind of write and leaves the store unchanged", "[store][guard]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  Store store = Store::Open(path, OpenMode::kReadOnly);
  const std::string before = store.DataFingerprint();

  struct Case {
    const char* sql;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"DELETE FROM participant", std::string("refused: DELETE on participant is not allowed: ") + kWriteHint},
      {"DROP TABLE participant", std::string("refused: DROP TABLE on participant is not allowed: ") + kWriteHint},
      {"UPDATE participant SET sex = 'male'", std::string("refused: UPDATE on participant is not allowed: ") + kWriteHint},
      {"WITH doomed AS (SELECT participant_id FROM participant) DELETE FROM participant "
       "WHERE participant_id IN (SELECT participant_id FROM doomed)",
       std::string("refused: DELETE on participant is not allowed: ") + kWriteHint},
      {"CREATE TABLE x (a)", std::string("refused: CREATE TABLE on x is not allowed: ") + kWriteHint},
      {"CREATE TEMP VIEW v AS SELECT 1", std::string("refused: CREATE VIEW on v is not allowed: ") + kWriteHint},
      {"ATTACH DATABASE 'other.db' AS other", "refused: ATTACH (and VACUUM, which attaches) is never allowed"},
      {"VACUUM", "refused: ATTACH (and VACUUM, which attaches) is never allowed"},
      {"SELECT load_extension('libevil')", "refused: load_extension() is never allowed"},
      {"PRAGMA foreign_keys = OFF", "refused: PRAGMA foreign_keys = OFF is not allowed (only read-only pragmas are)"},
      {"PRAGMA writable_schema = 1", "refused: PRAGMA writable_schema = 1 is not allowed (only read-only pragmas are)"},
      {"SELECT 1; DELETE FROM participant", std::string("refused: DELETE on participant is not allowed: ") + kWriteHint},
  };
  for (const Case& c : cases) {
    INFO(c.sql);
    REQUIRE_THROWS_WITH(store.GuardedScript(c.sql), c.message);
    try {
      store.GuardedScript(c.sql);
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::kInput);
    }
  }
  CHECK(Count(store, "participant") == 2);
  CHECK(store.DataFingerprint() == before);
}

TEST_CASE("read-only SQL allows reads / read-only pragmas and several statements", "[store][guard]") {
  TempDir dir;
  Store store = Store::Open(MakeStore(dir), OpenMode::kReadOnly);
  const ScriptResult script = store.GuardedScript(
      "SELECT external_id FROM participant ORDER BY 1; PRAGMA table_info(study); -- trailing comment\n"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT sum(i) AS s FROM n;");
  REQUIRE(script.results.size() == 3);
  CHECK(script.results[0].rows.size() == 2);
  CHECK(std::get<std::string>(script.results[0].rows[1][0]) == "P02");
  CHECK(script.results[1].columns[1] == "name");
  CHECK(std::get<std::int64_t>(script.results[2].rows[0][0]) == 6);
}

TEST_CASE("a syntax error names line and column", "[store][guard]") {
  Store store = Store::Create(":memory:");
  REQUIRE_THROWS_WITH(store.GuardedScript("SELECT 1;\nSELEC 2"), "SQL error (line 2, column 1): near \"SELEC\": syntax error");
}

TEST_CASE("a query running past the time limit is stopped", "[store][guard]") {
  Store store = Store::Create(":memory:");
  REQUIRE_THROWS_WITH(store.GuardedScript("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                                          "SELECT count(*) FROM n",
                                          false, std::chrono::milliseconds(100)),
                      "query stopped: it ran longer than the time limit of 0.1 s");
}

TEST_CASE("writes allowed by --write run in one transaction", "[store][guard]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  Store store = Store::Open(path, OpenMode::kReadWrite);
  const auto ok = store.GuardedScript("INSERT INTO participant (study_id, external_id) VALUES (1, 'P03')", true);
  CHECK(ok.results[0].rows_changed == 1);
  CHECK(Count(store, "participant") == 3);

  // The second statement fails a CHECK: the first one is rolled back too.
  REQUIRE_THROWS_WITH(store.GuardedScript("INSERT INTO participant (study_id, external_id) VALUES (1, 'P04');"
                                          "INSERT INTO participant (study_id, external_id, age_years) VALUES (1, 'P05', -3)",
                                          true),
                      Catch::StartsWith("SQL error in the statement starting at line 1, column 67: CHECK constraint "
                                        "failed"));
  CHECK(Count(store, "participant") == 3);

  // The position is where the failing statement's text starts (past blanks
  // and comments), also for a statement that does not compile.
  REQUIRE_THROWS_WITH(store.GuardedScript("INSERT INTO participant (study_id, external_id) VALUES (1, 'P04');\n"
                                          "  -- the next one fails\n"
                                          "  INSERT INTO participant (study_id, external_id, age_years) "
                                          "VALUES (1, 'P05', -3)",
                                          true),
                      Catch::StartsWith("SQL error in the statement starting at line 3, column 3: CHECK constraint"));
  REQUIRE_THROWS_WITH(store.GuardedScript("SELECT 1;\nSELECT * FROM nosuch", true),
                      "SQL error in the statement starting at line 2, column 1: no such table: nosuch");
  REQUIRE_THROWS_WITH(store.GuardedScript("SELECT * FROM nosuch", true), "SQL error: no such table: nosuch");
  CHECK(Count(store, "participant") == 3);

  // Even with --write: no ATTACH, no tampering with the migration history.
  REQUIRE_THROWS_WITH(store.GuardedScript("ATTACH DATABASE 'x.db' AS x", true), "refused: ATTACH (and VACUUM, which attaches) is never allowed");
  REQUIRE_THROWS_WITH(store.GuardedScript("DELETE FROM schema_migration", true),
                      "refused: changing schema_migration is not allowed: it is managed by cohortdb");
  REQUIRE_THROWS_WITH(store.GuardedScript("COMMIT", true),
                      "refused: transaction control is not allowed: cohortdb runs the whole text in one transaction");
}

TEST_CASE("guarded SQL refuses raw pointers / triggers and changes to the store's schema", "[store][guard]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  Store store = Store::Open(path, OpenMode::kReadWrite);
  for (bool write : {false, true}) {
    REQUIRE_THROWS_WITH(store.GuardedScript("SELECT hex(fts3_tokenizer('simple'))", write),
                        "refused: fts3_tokenizer() is never allowed");
  }
  REQUIRE_THROWS_WITH(store.GuardedScript("ALTER TABLE schema_migration RENAME TO history", true),
                      "refused: changing schema_migration is not allowed: it is managed by cohortdb");
  REQUIRE_THROWS_WITH(store.GuardedScript("ALTER TABLE participant RENAME COLUMN arm TO group_arm", true),
                      "refused: ALTER TABLE participant is not allowed: it is part of the store's schema (migrations "
                      "manage it)");
  REQUIRE_THROWS_WITH(store.GuardedScript("DROP TABLE biomarker", true),
                      "refused: DROP TABLE biomarker is not allowed: it is part of the store's schema (migrations "
                      "manage it)");
  REQUIRE_THROWS_WITH(store.GuardedScript("DROP VIEW record_current", true),
                      "refused: DROP VIEW record_current is not allowed: it is part of the store's schema (migrations "
                      "manage it)");
  REQUIRE_THROWS_WITH(
      store.GuardedScript("CREATE TRIGGER later AFTER INSERT ON analysis_run BEGIN SELECT 1; END", true),
      "refused: CREATE TRIGGER later is not allowed: a trigger would run later outside this guard");
  // The user's own tables, statistics and indexes are fine.
  store.GuardedScript("CREATE TABLE mine (x); CREATE INDEX mine_x ON mine (x); ANALYZE; DROP TABLE mine", true);
  // Every table, view and index of a fresh store is protected, and nothing else.
  const auto objects = store.Query(
      "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view', 'index') AND name NOT LIKE 'sqlite_%'");
  REQUIRE(objects.rows.size() > 20);
  for (const auto& row : objects.rows) {
    const std::string name = std::get<std::string>(row[0]);
    INFO(name);
    CHECK(cohortdb::IsStoreObject(name));
  }
  CHECK_FALSE(cohortdb::IsStoreObject("mine"));
  CHECK_FALSE(cohortdb::IsStoreObject("wide_trial"));
}

TEST_CASE("guarded SQL keeps LIKE patterns short / and only while it runs", "[store][guard]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  Store store = Store::Open(path, OpenMode::kReadWrite);
  const auto like = [](int pattern_length) {
    return "SELECT printf('%.*c', 5000, 'a') LIKE printf('%.*c', " + std::to_string(pattern_length) + ", '%')";
  };
  CHECK(store.GuardedScript(like(cohortdb::kGuardedLikePatternLength), false).results.size() == 1);
  REQUIRE_THROWS_WITH(store.GuardedScript(like(cohortdb::kGuardedLikePatternLength + 1), false),
                      Catch::EndsWith("LIKE or GLOB pattern too complex"));
  // cohortdb's own statements keep SQLite's limit.
  CHECK(store.Query(like(cohortdb::kGuardedLikePatternLength + 1)).rows.size() == 1);
}

TEST_CASE("a --write script that changes records recomputes record_coverage", "[store][guard]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  Store store = Store::Open(path, OpenMode::kReadWrite);
  store.Exec(
      "INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'bmi', 'covariate', 'real');"
      "INSERT INTO visit (study_id, code, visit_order) VALUES (1, 'baseline', 1);"
      "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)"
      "  VALUES ('f', printf('%064d', 1), printf('%064d', 2), 'now', 'test');");
  const auto coverage = [&] {
    return store.Query("SELECT variable_id, visit_key FROM record_coverage ORDER BY visit_key").rows;
  };
  store.GuardedScript("INSERT INTO covariate (participant_id, visit_id, variable_id, value, source_value, batch_id) "
                      "VALUES (1, 1, 1, 24, '24', 1), (2, NULL, 1, 22, '22', 1)",
                      true);
  REQUIRE(coverage().size() == 2);
  CHECK(std::get<std::int64_t>(coverage()[0][1]) == 0);
  CHECK(std::get<std::int64_t>(coverage()[1][1]) == 1);
  store.GuardedScript("DELETE FROM covariate WHERE visit_id IS NULL", true);
  REQUIRE(coverage().size() == 1);
  CHECK(std::get<std::int64_t>(coverage()[0][1]) == 1);
  // A superseded record no longer counts.
  store.GuardedScript("UPDATE covariate SET superseded_by = 1", true);
  CHECK(coverage().empty());
}

TEST_CASE("a read-only store refuses --write", "[store][guard]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  Store store = Store::Open(path, OpenMode::kReadOnly);
  REQUIRE_THROWS_WITH(store.GuardedScript("DELETE FROM participant", true),
                      path + ": store was opened read-only; cannot run with --write");
}

TEST_CASE("a frame query must be one statement and read-only", "[store][guard]") {
  TempDir dir;
  Store store = Store::Open(MakeStore(dir), OpenMode::kReadWrite);
  const QueryResult rows = store.GuardedQuery("SELECT external_id FROM participant WHERE sex = ?", {std::string("male")});
  REQUIRE(rows.rows.size() == 1);
  CHECK(std::get<std::string>(rows.rows[0][0]) == "P02");
  // A bound value is data, never SQL.
  CHECK(store.GuardedQuery("SELECT count(*) FROM participant WHERE sex = ?",
                           {std::string("x'; DROP TABLE participant; --")})
            .rows[0][0] == SqlValue(std::int64_t{0}));
  REQUIRE_THROWS_WITH(store.GuardedQuery("SELECT 1; SELECT 2"),
                      "frame query: expected one SELECT statement, found another starting at line 1, column 11");
  // Nothing but the SELECT runs: a transaction statement is refused before it runs.
  REQUIRE_THROWS_WITH(store.GuardedQuery("BEGIN"), "frame query: expected one SELECT statement, found BEGIN at line 1, "
                                                   "column 1");
  CHECK(store.GuardedQuery("SELECT count(*) FROM participant").rows[0][0] == SqlValue(std::int64_t{2}));
  // A frame's refusal does not point at the sql command's --write.
  REQUIRE_THROWS_WITH(store.GuardedQuery("DELETE FROM participant"),
                      "refused: DELETE on participant is not allowed: queries are read-only (a frame only reads)");
  CHECK(Count(store, "participant") == 2);
}

}  // namespace cohortdb
