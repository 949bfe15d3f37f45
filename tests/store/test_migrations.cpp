// Migrations: fresh store, upgrade from an older version, an edited (tampered)
// migration, a store from a newer cohortdb, and schema/schema.sql equality.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "store/embedded_migrations.h"
#include "store/provenance.h"
#include "store/store.h"
#include "store/summary.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

int LatestVersion() { return EmbeddedMigrations().back().version; }

}  // namespace

TEST_CASE("a fresh store has every migration applied and recorded", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("fresh.cohortdb");
  Store store = Store::Create(path);
  CHECK(store.schema_version() == LatestVersion());
  const auto applied = store.Query("SELECT version, name FROM schema_migration ORDER BY version");
  REQUIRE(applied.rows.size() == EmbeddedMigrations().size());
  CHECK(std::get<std::string>(applied.rows[0][1]) == "0001_init.sql");
  CHECK(std::get<std::string>(store.Query("PRAGMA journal_mode").rows[0][0]) == "wal");
  CHECK(std::get<std::int64_t>(store.Query("PRAGMA foreign_keys").rows[0][0]) == 1);
}

TEST_CASE("init refuses an existing file", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("exists.cohortdb");
  Store::Create(path);
  REQUIRE_THROWS_WITH(Store::Create(path),
                      path + ": file already exists; use `cohortdb migrate " + path + "` to upgrade it");
}

TEST_CASE("opening a missing store says how to create one", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("missing.cohortdb");
  REQUIRE_THROWS_WITH(Store::Open(path), path + ": no such store; create it with `cohortdb init " + path + "`");
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("an older store is refused for writing and upgraded by migrate", "[store][migrations]") {
  REQUIRE(LatestVersion() >= 2);
  TempDir dir;
  const std::string path = dir.File("old.cohortdb");
  const auto first = Store::Migrate(path, 1);
  REQUIRE(first == std::vector<std::string>{"0001_init.sql"});
  CHECK(Store::Inspect(path).store_version == 1);

  REQUIRE_THROWS_WITH(Store::Open(path, OpenMode::kReadWrite),
                      Catch::Contains("store has schema version 1") && Catch::Contains("run `cohortdb migrate"));
  // Reading an older store is fine.
  CHECK(Store::Open(path, OpenMode::kReadOnly).schema_version() == 1);

  const auto rest = Store::Migrate(path);
  CHECK(rest.size() == EmbeddedMigrations().size() - 1);
  CHECK(Store::Inspect(path).store_version == LatestVersion());
  Store store = Store::Open(path);
  CHECK(std::get<std::int64_t>(store.Query("SELECT count(*) FROM unit_conversion").rows[0][0]) > 0);
  CHECK(Store::Migrate(path).empty());  // nothing left to do
}

TEST_CASE("migrations 0004 and 0005 rebuild the record and participant tables keeping every row",
          "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("v3.cohortdb");
  Store::Migrate(path, 3);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO study (code) VALUES ('s');"
        "INSERT INTO visit (study_id, code, visit_order) VALUES (1, 'v1', 1);"
        "INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'crp', 'biomarker', 'real'),"
        "  (1, 'bmi', 'covariate', 'real');"
        "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)"
        "  VALUES ('f', printf('%064d', 1), printf('%064d', 2), 'now', 'test');"
        "INSERT INTO participant (study_id, external_id) VALUES (1, 'P1');"
        "INSERT INTO biomarker (record_id, participant_id, visit_id, variable_id, value, source_value, batch_id,"
        "  superseded_by) VALUES (7, 1, 1, 1, 2.5, '2.5', 1, 1);"
        "INSERT INTO biomarker (record_id, participant_id, visit_id, variable_id, source_value, censoring,"
        "  detection_limit, assay, batch_id) VALUES (9, 1, 1, 1, '<0.15', 'left', 0.15, 'elisa', 1);"
        "INSERT INTO covariate (record_id, participant_id, variable_id, value, source_value, batch_id)"
        "  VALUES (3, 1, 2, 24, '24', 1);");
  }
  const auto applied = Store::Migrate(path);  // 0004, 0005 and any later ones
  REQUIRE(applied.size() >= 2);
  CHECK(std::vector<std::string>(applied.begin(), applied.begin() + 2) ==
        std::vector<std::string>{"0004_lean_record_tables.sql", "0005_lean_participant.sql"});
  Store store = Store::Open(path);
  const auto rows = store.Query(
      "SELECT record_id, value, censoring, detection_limit, assay, superseded_by FROM biomarker ORDER BY record_id");
  REQUIRE(rows.rows.size() == 2);
  CHECK(std::get<std::int64_t>(rows.rows[0][0]) == 7);
  CHECK(std::get<double>(rows.rows[0][1]) == 2.5);
  CHECK(std::get<std::int64_t>(rows.rows[0][5]) == 1);
  CHECK(std::get<std::int64_t>(rows.rows[1][0]) == 9);
  CHECK(std::get<std::string>(rows.rows[1][2]) == "left");
  CHECK(std::get<std::string>(rows.rows[1][4]) == "elisa");
  CHECK(std::get<std::int64_t>(store.Query("SELECT record_id FROM covariate").rows[0][0]) == 3);
  // Only current records count; the covariate has no visit (key 0).
  const auto coverage = store.Query("SELECT variable_id, visit_key FROM record_coverage ORDER BY variable_id");
  REQUIRE(coverage.rows.size() == 2);
  CHECK(std::get<std::int64_t>(coverage.rows[0][1]) == 1);
  CHECK(std::get<std::int64_t>(coverage.rows[1][1]) == 0);
  // The checks still hold, the current-value index still refuses duplicates.
  CHECK_THROWS_WITH(store.Exec("UPDATE biomarker SET censoring = 'middle' WHERE record_id = 9"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(store.Exec("INSERT INTO biomarker (participant_id, visit_id, variable_id, value, source_value,"
                               " batch_id) VALUES (1, 1, 1, 3, '3', 1)"),
                    Catch::Contains("UNIQUE constraint failed"));
  CHECK(store.Query("SELECT name FROM sqlite_schema WHERE name LIKE '%_variable' AND type = 'index'").rows.empty());
  // 0005: the participant keeps its id, its records still join, the checks hold.
  CHECK(std::get<std::int64_t>(
            store.Query("SELECT count(*) FROM record_all WHERE external_id = 'P1' AND participant_id = 1").rows[0][0]) == 3);
  CHECK(store.Query("PRAGMA foreign_key_check").rows.empty());
  CHECK(std::get<std::int64_t>(store.Query("PRAGMA foreign_keys").rows[0][0]) == 1);
  CHECK_THROWS_WITH(store.Exec("UPDATE participant SET sex = 'f' WHERE participant_id = 1"),
                    Catch::Contains("CHECK constraint failed"));
  store.Exec("UPDATE participant SET sex = 'female' WHERE participant_id = 1");
  CHECK_THROWS_WITH(store.Exec("INSERT INTO participant (study_id, external_id) VALUES (1, 'P1')"),
                    Catch::Contains("UNIQUE constraint failed"));
}

TEST_CASE("migration 0006 adds the edit log and keeps the fingerprints of earlier runs", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("v5.cohortdb");
  Store::Migrate(path, 5);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)"
        "  VALUES ('f', printf('%064d', 1), printf('%064d', 2), 'now', 'test');"
        "INSERT INTO analysis_run (command, parameters, data_fingerprint, tool_version, started_at)"
        "  VALUES ('regress', '{\"predictors\": [\"a,b\"]}', 'x', 'test', 'now');");
  }
  std::string old_fingerprint;
  {
    // An older store opens read-only: its fingerprint and runs read without data_edit.
    Store old = Store::Open(path, OpenMode::kReadOnly);
    old_fingerprint = old.DataFingerprint();
    const auto runs = ListAnalysisRuns(old);
    REQUIRE(runs.size() == 1);
    CHECK_FALSE(runs[0].data_edit_id);
  }
  const auto applied = Store::Migrate(path);  // 0006 and any later ones
  REQUIRE_FALSE(applied.empty());
  CHECK(applied.front() == "0006_data_edit.sql");
  Store store = Store::Open(path);
  CHECK(store.DataFingerprint() == old_fingerprint);
  REQUIRE(ListAnalysisRuns(store).size() == 1);
  store.GuardedScript("DELETE FROM import_batch", true);
  CHECK(store.DataFingerprint() != old_fingerprint);
}

TEST_CASE("a migration run with foreign keys off refuses to commit a dangling reference", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("dangling.cohortdb");
  Store::Migrate(path, 4);
  {
    // Foreign keys are off on a plain connection: a record of a participant
    // that does not exist can be written.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO study (code) VALUES ('s');"
        "INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'bmi', 'covariate', 'real');"
        "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)"
        "  VALUES ('f', printf('%064d', 1), printf('%064d', 2), 'now', 'test');"
        "INSERT INTO covariate (participant_id, variable_id, value, source_value, batch_id) VALUES (99, 1, 24, '24', 1);");
  }
  REQUIRE_THROWS_WITH(Store::Migrate(path), path + ": migration 0005_lean_participant.sql failed: a row of covariate "
                                                   "refers to a missing row of participant");
  CHECK(Store::Inspect(path).store_version == 4);
}

TEST_CASE("an edited migration is detected and the store refused", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("tampered.cohortdb");
  Store::Create(path);
  {
    // What an edited 0001_init.sql looks like from the store: the applied
    // checksum no longer matches the embedded text.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE schema_migration SET sha256 = '" + std::string(64, '0') + "' WHERE version = 1");
  }
  REQUIRE_THROWS_WITH(Store::Open(path),
                      Catch::Contains("migration 1 was edited after it was applied") &&
                          Catch::Contains("0001_init.sql"));
  REQUIRE_THROWS_AS(Store::Migrate(path), StoreError);
}

TEST_CASE("a store written by a newer cohortdb is refused", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("newer.cohortdb");
  Store::Create(path);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = 999");
  }
  const std::string expected = path + ": store has schema version 999, written by a newer cohortdb; " +
                               "this cohortdb knows versions up to " + std::to_string(LatestVersion()) +
                               ": upgrade cohortdb";
  REQUIRE_THROWS_WITH(Store::Open(path), expected);
  REQUIRE_THROWS_WITH(Store::Open(path, OpenMode::kReadOnly), expected);
  REQUIRE_THROWS_WITH(Store::Migrate(path), expected);
}

TEST_CASE("a foreign SQLite file is not taken for a store", "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("other.sqlite");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE t (x)");
  }
  REQUIRE_THROWS_WITH(Store::Open(path), path + ": not a cohortdb store (an SQLite file with other tables)");
  REQUIRE_THROWS_WITH(Store::Migrate(path), path + ": not a cohortdb store (an SQLite file with other tables)");
}

TEST_CASE("migrating an empty store produces exactly schema/schema.sql", "[store][schema]") {
  Store store = Store::Create(":memory:");
  std::ifstream in(std::string(COHORTDB_SOURCE_DIR) + "/schema/schema.sql");
  REQUIRE(in);
  std::stringstream expected;
  expected << in.rdbuf();
  // On mismatch: run tools/dump-schema after adding a migration.
  CHECK(SchemaSql(store) == expected.str());
}

TEST_CASE("the schema enforces its closed sets and ranges", "[store][schema]") {
  Store store = Store::Create(":memory:");
  store.Exec("INSERT INTO study (code, design) VALUES ('trial', 'trial')");
  CHECK_THROWS_WITH(store.Exec("INSERT INTO study (code) VALUES ('Has Space')"), Catch::Contains("CHECK constraint"));
  CHECK_THROWS_WITH(store.Exec("INSERT INTO study (code, design) VALUES ('x', 'survey')"),
                    Catch::Contains("CHECK constraint"));
  CHECK_THROWS_WITH(store.Exec("INSERT INTO participant (study_id, external_id, age_years) VALUES (1, 'p1', 200)"),
                    Catch::Contains("CHECK constraint"));
  CHECK_THROWS_WITH(store.Exec("INSERT INTO participant (study_id, external_id) VALUES (42, 'p1')"),
                    Catch::Contains("FOREIGN KEY constraint"));
  CHECK_THROWS_WITH(store.Exec("INSERT INTO variable (study_id, code, record_kind, value_type, min_value, max_value) "
                               "VALUES (1, 'il6', 'biomarker', 'real', 10, 1)"),
                    Catch::Contains("CHECK constraint"));
}

TEST_CASE("migration 0007 rebuilds the variable table keeping ids / levels and records / and allows dates",
          "[store][migrations]") {
  TempDir dir;
  const std::string path = dir.File("v5.cohortdb");
  Store::Migrate(path, 5);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO study (code) VALUES ('s');"
        "INSERT INTO variable (variable_id, study_id, code, record_kind, value_type, unit, min_value, max_value) "
        "  VALUES (4, 1, 'sex', 'covariate', 'categorical', NULL, NULL, NULL), (7, 1, 'crp', 'biomarker', 'real', "
        "  'mg/L', 0, 300);"
        "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (4, 1, 'female', '1'),"
        "  (4, 2, 'male', '2');"
        "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)"
        "  VALUES ('f', printf('%064d', 1), printf('%064d', 2), 'now', 'test');"
        "INSERT INTO participant (study_id, external_id) VALUES (1, 'P1');"
        "INSERT INTO biomarker (participant_id, variable_id, value, source_value, batch_id) VALUES (1, 7, 2.5, '2.5', 1);"
        "INSERT INTO record_coverage (variable_id, visit_key) VALUES (7, 0);");
    // Before 0007 a date variable cannot be declared.
    CHECK_THROWS_WITH(db.exec("INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'd', "
                              "'covariate', 'date')"),
                      Catch::Contains("CHECK constraint failed"));
  }
  const auto applied = Store::Migrate(path);
  CHECK(std::find(applied.begin(), applied.end(), "0007_dates_and_batch_conversions.sql") != applied.end());
  Store store = Store::Open(path);
  CHECK(std::get<std::string>(store.Query("SELECT group_concat(variable_id || ':' || code || ':' || value_type || ':' "
                                          "|| ifnull(unit, '-') || ':' || ifnull(max_value, '-'), ' ') FROM variable")
                                  .rows[0][0]) == "4:sex:categorical:-:- 7:crp:real:mg/L:300.0");
  CHECK(std::get<std::int64_t>(store.Query("SELECT count(*) FROM variable_level WHERE variable_id = 4").rows[0][0]) == 2);
  CHECK(std::get<std::string>(store.Query("SELECT variable FROM record_all").rows[0][0]) == "crp");
  CHECK(store.Query("PRAGMA foreign_key_check").rows.empty());
  store.Exec("INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'visit_date', 'covariate', "
             "'date'), (1, 'drawn_at', 'biomarker', 'datetime')");
  CHECK_THROWS_WITH(store.Exec("INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'x', "
                               "'covariate', 'time')"),
                    Catch::Contains("CHECK constraint failed"));
  // The level table still cascades from its variable, and the catalog keeps its unique codes.
  CHECK_THROWS_WITH(store.Exec("INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'crp', "
                               "'covariate', 'real')"),
                    Catch::Contains("UNIQUE constraint failed"));
  store.Exec("INSERT INTO import_batch_conversion VALUES (1, 7, 'mg/dL', 'mg/L', 10, 0, 'spec', 3)");
  CHECK_THROWS_WITH(store.Exec("INSERT INTO import_batch_conversion VALUES (1, 7, 'g/L', 'mg/L', 0, 0, 'spec', 3)"),
                    Catch::Contains("CHECK constraint failed"));
}

}  // namespace cohortdb
