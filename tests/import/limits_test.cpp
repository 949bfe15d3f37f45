// Import limits and edge cases of issue 17: an ICD-10-sized code list imports
// in linear time, a pipe is refused before it is opened, two [extra] columns
// cannot be kept as one field, a NUL byte in a field is shown escaped, and
// --max-errors bounds the printed errors with --quarantine too.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

#include "test_support.h"

using namespace cohortdb::test;
using Catch::Matchers::Contains;

namespace {

const char* kWideSpec = R"(study = "w"
shape = "wide"
record_kind = "biomarker"
defines_participants = true
[participant]
id = "id"
[variables.crp]
unit = "mg/L"
)";

std::string Write(const ScratchDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name, std::ios::binary) << text;
  return dir / name;
}

std::string NewStore(const ScratchDir& dir) {
  const std::string store = dir / "limits.cohortdb";
  REQUIRE(Cohortdb("init '" + store + "'").exit_code == 0);
  return store;
}

}  // namespace

TEST_CASE("import: an ICD-10-sized categorical code list imports in linear time", "[import][limits]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  constexpr int kCodes = 70000;
  std::string spec =
      "study = \"icd\"\nshape = \"wide\"\nrecord_kind = \"covariate\"\ndefines_participants = true\n"
      "[participant]\nid = \"id\"\n[variables.dx]\ncodes = {";
  for (int i = 0; i < kCodes; ++i)
    spec += (i ? ", " : "") + std::string("\"C") + std::to_string(i) + "\" = \"Diagnosis " +
            std::to_string(i) + "\"";
  spec += "}\n";
  std::string csv = "id,dx\n";
  for (int i = 0; i < 500; ++i)
    csv += "P" + std::to_string(i) + ",C" + std::to_string(i * 131 % kCodes) + "\n";
  const std::string spec_file = Write(dir, "icd.toml", spec);
  const std::string csv_file = Write(dir, "icd.csv", csv);
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = Cohortdb("import '" + store + "' --spec '" + spec_file + "' '" + csv_file + "'");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // About a second on an idle machine; the quadratic matching took ~40 s.
  CHECK(seconds < 10);
  SQLite::Database db(store);
  CHECK(db.execAndGet("SELECT count(*) FROM variable_level").getInt() == kCodes);
  CHECK(db.execAndGet("SELECT l.label FROM covariate c JOIN participant p USING (participant_id) "
                      "JOIN variable_level l ON l.variable_id = c.variable_id AND l.level = c.value "
                      "WHERE p.external_id = 'P7'")
            .getString() == "Diagnosis 917");
}

TEST_CASE("import: a pipe or FIFO is refused before it is opened", "[import][limits]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = Write(dir, "w.toml", kWideSpec);
  const std::string csv = Write(dir, "w.csv", "id,crp\nP1,1.5\n");
  const std::string before = StoreHash(store);
  const RunResult piped = RunShell(
      "cat '" + csv + "' | '" + kBinary + "' import '" + store + "' --spec '" + spec + "' /dev/stdin",
      kDataDir);
  CHECK(piped.exit_code == 3);
  CHECK_THAT(piped.err,
             Contains("/dev/stdin: expected a regular file, found a pipe (FIFO): import reads a file twice "
                      "(to hash it, then to load it); save the data to a file first"));
  CHECK_THAT(piped.err, Contains("the store is unchanged"));
  // A FIFO nobody writes to: the old import blocked opening it, holding the write lock.
  const std::string fifo = dir / "fifo.csv";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const RunResult blocked = RunShell(
      "timeout 20 '" + kBinary + "' import '" + store + "' --spec '" + spec + "' '" + fifo + "'", kDataDir);
  CHECK(blocked.exit_code == 3);
  CHECK_THAT(blocked.err, Contains("fifo.csv: expected a regular file, found a pipe (FIFO)"));
  CHECK(StoreHash(store) == before);
}

TEST_CASE("import: two [extra] columns kept as one field are a spec error", "[import][limits]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec =
      Write(dir, "x.toml", std::string(kWideSpec) + "[extra]\nlab_a = \"lab\"\nlab_b = \"lab\"\n");
  const std::string csv = Write(dir, "x.csv", "id,crp,lab_a,lab_b\nP1,1.5,north,south\n");
  const RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + csv + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: " + spec +
            ":11:9: extra.lab_b: expected one column per field, found columns 'lab_a' and 'lab_b' both "
            "kept as 'lab'\n");
}

TEST_CASE("import: a NUL byte in a field is shown escaped / the message whole", "[import][limits]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = Write(dir, "w.toml", kWideSpec);
  const std::string csv = Write(dir, "nul.csv", std::string("id,crp\nP1,1.5\nP2,ab\0cd\n", 23));
  const RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + csv + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err == "cohortdb: " + csv +
                     ":3:2: column 'crp': expected a number (or <limit, >limit) for variable 'crp', found "
                     "'ab\\0cd'\nimport failed: 1 error; the store is unchanged\n");
}

TEST_CASE("import: --max-errors bounds the printed errors with --quarantine too", "[import][limits]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = Write(dir, "w.toml", kWideSpec);
  std::string header = "id,crp", row = "P1,1";
  for (int i = 0; i < 100000; ++i) {
    header += ",u" + std::to_string(i);
    row += ",1";
  }
  const std::string csv = Write(dir, "wide.csv", header + "\n" + row + "\n");
  const std::string before = StoreHash(store);
  for (const char* quarantine : {"", " --quarantine"}) {
    INFO(quarantine);
    const RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + csv + "'" + quarantine);
    CHECK(r.exit_code == 3);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 21);
  }
  const RunResult q = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + csv + "' --quarantine");
  CHECK_THAT(q.err,
             Contains("import failed: 100000 errors (the first 20 shown; --max-errors 20); the store is "
                      "unchanged"));
  CHECK(StoreHash(store) == before);
}
