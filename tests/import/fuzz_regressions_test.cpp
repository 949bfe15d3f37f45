// Inputs the libFuzzer harnesses (tools/fuzz, docs/FUZZING.md) found, kept
// under tests/data/fuzz/<harness>/: each is refused as an input error
// (exit code 3, FILE:LINE:COLUMN, store unchanged), never a crash, an internal
// error (1) or a store error (4).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "test_support.h"

using namespace cohortdb::test;

TEST_CASE("fuzz: a dictionary choice code given twice is an input error / not a store error", "[import][fuzz]") {
  ScratchDir dir;
  const std::string store = dir / "s.cohortdb";
  REQUIRE(Cohortdb("init '" + store + "'").exit_code == 0);
  const std::string before = StoreHash(store);
  // "2, Exercise + education | 2, Education" made two levels of code 2: the
  // store's UNIQUE constraint stopped it (exit 4, no line or column).
  RunResult r = Cohortdb("import-dictionary '" + store + "' --study fz fuzz/dictionary/duplicate_choice_code.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("cohortdb: fuzz/dictionary/duplicate_choice_code.csv:3:6: expected each choice code once, found "
                   "code '2' twice\n") == 0);
  CHECK(StoreHash(store) == before);
}

TEST_CASE("fuzz: every kept dictionary input loads or is an input error", "[import][fuzz]") {
  for (const auto& entry : std::filesystem::directory_iterator(kDataDir + "/fuzz/dictionary")) {
    ScratchDir dir;
    const std::string store = dir / "s.cohortdb";
    REQUIRE(Cohortdb("init '" + store + "'").exit_code == 0);
    RunResult r = Cohortdb("import-dictionary '" + store + "' --study fz '" + entry.path().string() + "'");
    INFO(entry.path().string() << ": " << r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 3));
  }
}
