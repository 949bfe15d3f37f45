// `cohortdb import` of trial summaries (shape = "trial_summary") through the
// built binary: a trial's year, duration and attributes against what the
// store holds, attributes kept as delivered text, and duplicate rows with and
// without --replace.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "test_support.h"

using namespace cohortdb::test;

namespace {

// m.toml: study m with the given [trial_summary] keys (by default those of
// the reproduction: year and the attribute registry).
void WriteSpec(const ScratchDir& dir,
               const std::string& keys = "year = \"year\"\nattributes = [\"registry\"]\n") {
  std::ofstream(dir / "m.toml") << "study = \"m\"\nshape = \"trial_summary\"\nmissing = [\"\", \"NA\"]\n"
                                   "[trial_summary]\n"
                                << keys;
}

void WriteFile(const ScratchDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
}

// `cohortdb init` of a new store "name" in the scratch directory.
std::string NewStore(const ScratchDir& dir, const std::string& name = "s.cohortdb") {
  const std::string store = dir / name;
  REQUIRE(Cohortdb("init '" + store + "'").exit_code == 0);
  return store;
}

// `cohortdb import STORE --spec m.toml ARGS` run in the scratch directory.
RunResult Import(const ScratchDir& dir, const std::string& store, const std::string& args) {
  return Cohortdb("import '" + store + "' --spec m.toml " + args, dir.path().string());
}

const char* const kHeader = "trial,year,registry,outcome,arm,n,mean,sd\n";

}  // namespace

TEST_CASE("trial summary: a year contradicting the trial's earlier row is an error unless --replace",
          "[import][trial_summary]") {
  ScratchDir dir;
  WriteSpec(dir);
  WriteFile(dir, "m.csv",
            std::string(kHeader) +
                "T1,2014,007,pain,treatment,10,4.5,1.2\n"
                "T1,2019,,pain,control,12,5.5,1.3\n"
                "T2,2015,1e3,pain,control,12,5.5,1.3\n");
  const std::string message =
      "m.csv:3:2: expected year '2014' for trial 'T1' as loaded before, found '2019' (use --replace to "
      "overwrite)";
  const std::string store = NewStore(dir);
  const std::string before = StoreHash(store);

  RunResult r = Import(dir, store, "m.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err == "cohortdb: " + message + "\nimport failed: 1 error; the store is unchanged\n");
  CHECK(StoreHash(store) == before);

  r = Import(dir, store, "m.csv --dry-run");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find(message) != std::string::npos);
  CHECK(StoreHash(store) == before);

  const std::string quarantined = NewStore(dir, "q.cohortdb");
  r = Import(dir, quarantined, "m.csv --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out.find("3 rows read, 2 loaded, 1 rejected") != std::string::npos);
  CHECK(
      QueryOne(quarantined,
               "SELECT line || ':' || column_index || ' ' || message || ' | ' || raw_row FROM "
               "import_error") ==
      "3:2 expected year '2014' for trial 'T1' as loaded before, found '2019' (use --replace to overwrite) | "
      "T1,2019,,pain,control,12,5.5,1.3");
  CHECK(QueryOne(quarantined, "SELECT year FROM meta_trial WHERE label = 'T1'") == "2014");
  CHECK(QueryOne(quarantined, "SELECT count(*) FROM meta_arm_summary") == "2");

  const std::string replaced = NewStore(dir, "r.cohortdb");
  r = Import(dir, replaced, "m.csv --replace");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(replaced, "SELECT group_concat(label || ':' || year, ' ') FROM meta_trial") ==
        "T1:2019 T2:2015");
  CHECK(QueryOne(replaced, "SELECT count(*) FROM meta_arm_summary") == "3");
}

TEST_CASE(
    "trial summary: a duration or attribute contradicting an earlier import is an error, an empty cell is "
    "not",
    "[import][trial_summary]") {
  ScratchDir dir;
  WriteSpec(dir, "year = \"year\"\nduration_weeks = \"weeks\"\nattributes = [\"registry\", \"country\"]\n");
  const std::string header = "trial,year,weeks,registry,country,outcome,arm,n,mean,sd\n";
  WriteFile(dir, "first.csv", header + "T1,2014,12,007,UK,pain,treatment,10,4.5,1.2\n");
  WriteFile(dir, "second.csv",
            header +
                "T1,,,,NA,pain,control,12,5.5,1.3\n"
                "T1,2014,8,007,UK,fatigue,treatment,10,2.5,1.2\n"
                "T1,2014,12.0,7,UK,fatigue,control,12,2.9,1.1\n");
  const std::string store = NewStore(dir);
  RunResult r = Import(dir, store, "first.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string before = StoreHash(store);

  r = Import(dir, store, "second.csv");
  CHECK(r.exit_code == 3);
  CHECK(
      r.err ==
      "cohortdb: second.csv:3:3: expected duration in weeks '12' for trial 'T1' as loaded before, found '8' "
      "(use --replace to overwrite)\n"
      "second.csv:4:4: expected registry '007' for trial 'T1' as loaded before, found '7' (use --replace to "
      "overwrite)\n"
      "import failed: 2 errors; the store is unchanged\n");
  CHECK(StoreHash(store) == before);

  // The row of empty and missing cells loads and changes nothing of the trial.
  r = Import(dir, store, "second.csv --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out.find("3 rows read, 1 loaded, 2 rejected") != std::string::npos);
  CHECK(QueryOne(store, "SELECT year || ':' || duration_weeks || ':' || attributes FROM meta_trial") ==
        "2014:12.0:{\"registry\":\"007\",\"country\":\"UK\"}");

  // --replace overwrites, row by row.
  const std::string replaced = NewStore(dir, "r.cohortdb");
  r = Import(dir, replaced, "first.csv");
  REQUIRE(r.exit_code == 0);
  r = Import(dir, replaced, "second.csv --replace");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(replaced, "SELECT year || ':' || duration_weeks || ':' || attributes FROM meta_trial") ==
        "2014:12.0:{\"registry\":\"7\",\"country\":\"UK\"}");
  CHECK(QueryOne(replaced, "SELECT count(*) FROM meta_arm_summary") == "4");
}

TEST_CASE("trial summary: attribute columns keep the delivered text", "[import][trial_summary]") {
  ScratchDir dir;
  WriteSpec(dir);
  WriteFile(dir, "m.csv",
            std::string(kHeader) +
                "T1,2014,007,pain,treatment,10,4.5,1.2\n"
                "T1,2014,,pain,control,12,5.5,1.3\n"
                "T2,2015,1e3,pain,control,12,5.5,1.3\n"
                "T3,2016,4.50,pain,control,12,5.5,1.3\n"
                "T4,2016,NA,pain,control,12,5.5,1.3\n");
  const std::string store = NewStore(dir);
  RunResult r = Import(dir, store, "m.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(
      QueryOne(store, "SELECT group_concat(label || '=' || ifnull(attributes, '-'), ' ') FROM meta_trial") ==
      "T1={\"registry\":\"007\"} T2={\"registry\":\"1e3\"} T3={\"registry\":\"4.50\"} T4=-");
  CHECK(QueryOne(store,
                 "SELECT group_concat(DISTINCT json_type(attributes, '$.registry')) FROM meta_trial "
                 "WHERE attributes IS NOT NULL") == "text");
}

TEST_CASE(
    "trial summary: a second row for a trial, outcome and arm in one file is an error even with --replace",
    "[import][trial_summary]") {
  ScratchDir dir;
  WriteSpec(dir);
  WriteFile(dir, "dup.csv",
            std::string(kHeader) +
                "T1,2014,007,pain,treatment,10,4.5,1.2\n"
                "T1,2014,007,pain,treatment,11,4.6,1.2\n");
  const std::string message =
      "dup.csv:3:4: expected one row per trial, outcome and arm, found a second row for trial 'T1', outcome "
      "'pain', "
      "arm treatment in this file";
  const std::string store = NewStore(dir);
  const std::string before = StoreHash(store);
  for (const char* options : {"", " --replace"}) {
    INFO(options);
    RunResult r = Import(dir, store, std::string("dup.csv") + options);
    CHECK(r.exit_code == 3);
    CHECK(r.err == "cohortdb: " + message + "\nimport failed: 1 error; the store is unchanged\n");
    CHECK(StoreHash(store) == before);
  }
  RunResult r = Import(dir, store, "dup.csv --replace --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out.find("2 rows read, 1 loaded, 1 rejected") != std::string::npos);
  CHECK(QueryOne(store, "SELECT n FROM meta_arm_summary") == "10");
  CHECK(
      QueryOne(store, "SELECT line || ' ' || message FROM import_error") ==
      "3 expected one row per trial, outcome and arm, found a second row for trial 'T1', outcome 'pain', arm "
      "treatment in this file");
}

TEST_CASE("trial summary: --replace overwrites a row loaded by an earlier batch", "[import][trial_summary]") {
  ScratchDir dir;
  WriteSpec(dir);
  WriteFile(dir, "first.csv", std::string(kHeader) + "T1,2014,007,pain,treatment,10,4.5,1.2\n");
  WriteFile(dir, "second.csv", std::string(kHeader) + "T1,2014,007,pain,treatment,20,4.0,1.1\n");
  const std::string store = NewStore(dir);
  RunResult r = Import(dir, store, "first.csv");
  REQUIRE(r.exit_code == 0);
  const std::string before = StoreHash(store);
  r = Import(dir, store, "second.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: second.csv:2:4: expected one row per trial, outcome and arm, found trial 'T1', outcome "
        "'pain', arm treatment already loaded by batch 1 (use --replace to overwrite it)\n"
        "import failed: 1 error; the store is unchanged\n");
  CHECK(StoreHash(store) == before);
  r = Import(dir, store, "second.csv --replace");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT n || '@' || batch_id FROM meta_arm_summary") == "20@2");

  // The earlier file of the same command counts as an earlier batch.
  const std::string both = NewStore(dir, "both.cohortdb");
  r = Import(dir, both, "first.csv second.csv --replace");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(both, "SELECT n || '@' || batch_id FROM meta_arm_summary") == "20@2");
}
