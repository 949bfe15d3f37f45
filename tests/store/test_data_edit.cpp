// sql --write is seen by provenance: a script that changes rows or the schema
// is recorded as one data_edit (time, text, rows changed, objects written)
// in its own transaction, and the data fingerprint changes with it. Regression
// for issue 13 item 3: an UPDATE through `sql --write` left the fingerprint
// (and `results --diff`'s "data: unchanged") as it was.
#include <catch2/catch.hpp>

#include "common/error.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

std::string MakeStore(const TempDir& dir) {
  const std::string path = dir.File("edits.cohortdb");
  Store store = Store::Create(path);
  store.Exec(
      "INSERT INTO study (code, design) VALUES ('trial', 'trial');"
      "INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'pain', 'outcome', 'real');"
      "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)"
      "  VALUES ('f', printf('%064d', 1), printf('%064d', 2), 'now', 'test');"
      "INSERT INTO participant (study_id, external_id, sex) VALUES (1, 'P01', 'female'), (1, 'P02', 'male');"
      "INSERT INTO outcome (participant_id, variable_id, value, source_value, batch_id) VALUES"
      "  (1, 1, 3, '3', 1), (2, 1, 5, '5', 1);");
  return path;
}

std::int64_t Edits(Store& store) {
  return std::get<std::int64_t>(store.Query("SELECT count(*) FROM data_edit").rows[0][0]);
}

}  // namespace

TEST_CASE("an UPDATE through sql --write is recorded and changes the data fingerprint", "[store][provenance]") {
  TempDir dir;
  Store store = Store::Open(MakeStore(dir));
  const std::string before = store.DataFingerprint();
  const std::string text = "UPDATE outcome SET value = value + 5 WHERE variable_id = 1";
  const ScriptResult script = store.GuardedScript(text, true);
  CHECK(script.results.at(0).rows_changed == 2);
  REQUIRE(script.edit_id == 1);
  const std::string after = store.DataFingerprint();
  CHECK(after != before);
  const auto edit = store.Query("SELECT statement, rows_changed, objects, edited_at FROM data_edit");
  REQUIRE(edit.rows.size() == 1);
  CHECK(std::get<std::string>(edit.rows[0][0]) == text);
  CHECK(std::get<std::int64_t>(edit.rows[0][1]) == 2);
  CHECK(std::get<std::string>(edit.rows[0][2]) == "[\"outcome\"]");
  CHECK(std::get<std::string>(edit.rows[0][3]).size() == 24);  // 2026-12-04T05:01:02.345Z

  // The same statement again changes the data again: another fingerprint.
  store.GuardedScript(text, true);
  CHECK(store.DataFingerprint() != after);
  CHECK(Edits(store) == 2);
}

TEST_CASE("every kind of write counts: INSERT / DELETE / participant / variable / a view", "[store][provenance]") {
  TempDir dir;
  Store store = Store::Open(MakeStore(dir));
  std::string last = store.DataFingerprint();
  for (const char* sql : {"INSERT INTO participant (study_id, external_id) VALUES (1, 'P03')",
                          "DELETE FROM outcome WHERE participant_id = 2",
                          "UPDATE participant SET sex = 'other' WHERE external_id = 'P01'",
                          "UPDATE variable SET unit = 'points' WHERE code = 'pain'",
                          "CREATE VIEW my_frame AS SELECT * FROM participant",
                          "DROP VIEW my_frame"}) {
    INFO(sql);
    const ScriptResult script = store.GuardedScript(sql, true);
    CHECK(script.edit_id.has_value());
    const std::string now = store.DataFingerprint();
    CHECK(now != last);
    last = now;
  }
  CHECK(Edits(store) == 6);
  CHECK(std::get<std::string>(store.Query("SELECT objects FROM data_edit WHERE edit_id = 5").rows[0][0]) ==
        "[\"my_frame\"]");
}

TEST_CASE("scripts that change nothing in the store record no edit", "[store][provenance]") {
  TempDir dir;
  Store store = Store::Open(MakeStore(dir));
  const std::string before = store.DataFingerprint();
  CHECK_FALSE(store.GuardedScript("SELECT * FROM participant", true).edit_id);
  CHECK_FALSE(store.GuardedScript("UPDATE outcome SET value = 1 WHERE 0", true).edit_id);
  CHECK_FALSE(store.GuardedScript("CREATE TEMP TABLE scratch AS SELECT * FROM outcome; DROP TABLE scratch", true).edit_id);
  // A script that fails is rolled back with its edit.
  CHECK_THROWS_AS(store.GuardedScript("UPDATE outcome SET value = 9; SELECT * FROM nosuch", true), InputError);
  CHECK(Edits(store) == 0);
  CHECK(store.DataFingerprint() == before);
  CHECK(std::get<double>(store.Query("SELECT value FROM outcome WHERE participant_id = 1").rows[0][0]) == 3);
}

TEST_CASE("edits of the provenance tables alone leave the data fingerprint", "[store][provenance]") {
  TempDir dir;
  Store store = Store::Open(MakeStore(dir));
  const std::string before = store.DataFingerprint();
  store.Exec(
      "INSERT INTO analysis_run (command, parameters, data_fingerprint, tool_version, started_at) "
      "VALUES ('regress', '{}', 'x', 'test', 'now')");
  const ScriptResult script = store.GuardedScript("DELETE FROM analysis_run", true);
  CHECK(script.edit_id == 1);  // recorded all the same
  CHECK(store.DataFingerprint() == before);
}

TEST_CASE("the edit log cannot be changed through sql --write", "[store][provenance][guard]") {
  TempDir dir;
  Store store = Store::Open(MakeStore(dir));
  store.GuardedScript("UPDATE outcome SET value = 4 WHERE participant_id = 1", true);
  for (const char* sql : {"DELETE FROM data_edit", "UPDATE data_edit SET statement = 'nothing'",
                          "INSERT INTO data_edit (edited_at, statement, rows_changed, objects, tool_version) "
                          "VALUES ('x', 'y', 0, '[]', 'z')",
                          "DROP TABLE data_edit"}) {
    INFO(sql);
    REQUIRE_THROWS_WITH(store.GuardedScript(sql, true),
                        "refused: changing data_edit is not allowed: it is managed by cohortdb");
  }
  CHECK(Edits(store) == 1);
}

}  // namespace cohortdb
