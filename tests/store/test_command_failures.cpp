// Failures of the sql and init commands through the built binary (issue 17):
// output that cannot be written, a busy store, a directory given to init, a
// NUL byte on standard input and a step SQLite cannot interrupt. Each exits
// with its documented code and a message; none leaves the store changed
// unless the message says so.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "store/store.h"
#include "support/temp_dir.h"

using Catch::Matchers::Contains;

namespace cohortdb {
namespace {

struct Run {
  int code = 0;
  std::string out;
  std::string err;
  double seconds = 0;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `cohortdb ARGS` with stdout sent to "out" (a file name or /dev/full).
Run Cohortdb(const TempDir& dir, const std::string& args, const std::string& out = "") {
  const std::string out_file = out.empty() ? dir.File("stdout.txt") : out;
  const std::string command =
      Quote(COHORTDB_BINARY) + " " + args + " >" + Quote(out_file) + " 2>" + Quote(dir.File("stderr.txt"));
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());
  Run run;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (out.empty()) run.out = Slurp(out_file);
  run.err = Slurp(dir.File("stderr.txt"));
  return run;
}

std::string MakeStore(const TempDir& dir) {
  const std::string path = dir.File("failures.cohortdb");
  Store store = Store::Create(path);
  store.Exec(
      "INSERT INTO study (code, design) VALUES ('trial', 'trial');"
      "INSERT INTO participant (study_id, external_id, sex) VALUES (1, 'P01', 'female'), (1, 'P02', "
      "'male');");
  return path;
}

std::int64_t Participants(const std::string& path) {
  Store store = Store::Open(path, OpenMode::kReadOnly);
  return std::get<std::int64_t>(store.Query("SELECT count(*) FROM participant").rows[0][0]);
}

}  // namespace

TEST_CASE("sql output that cannot be written is an output error", "[store][cli][output]") {
  TempDir dir;
  const std::string store = MakeStore(dir);
  for (const char* format : {"table", "csv", "json", "list", "box"}) {
    INFO(format);
    const Run run = Cohortdb(dir, "sql " + Quote(store) + " \"SELECT * FROM participant\" --format " + format,
                             "/dev/full");
    CHECK(run.code == 6);
    CHECK(run.err == "cohortdb: standard output: write failed: No space left on device\n");
  }
  // A --write script prints after it commits: the message says so.
  const Run write = Cohortdb(
      dir, "sql " + Quote(store) + " \"DELETE FROM participant WHERE external_id = 'P02'; SELECT 1\" --write",
      "/dev/full");
  CHECK(write.code == 6);
  CHECK_THAT(write.err,
             Contains("standard output: write failed: No space left on device; the script's changes were "
                      "committed; only its output was lost"));
  CHECK(Participants(store) == 1);
  // Dot commands too.
  CHECK(Cohortdb(dir, "sql " + Quote(store) + " .tables", "/dev/full").code == 6);
}

TEST_CASE("init of a directory is a store error", "[store][cli]") {
  TempDir dir;
  const Run run = Cohortdb(dir, "init " + Quote(dir.File("")));
  CHECK(run.code == 4);
  CHECK_THAT(run.err, Contains("is a directory, not a store file"));
}

TEST_CASE("sql --write on a busy store is a store error and changes nothing", "[store][cli]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  Store holder = Store::Open(path);
  Store::Transaction lock(holder);
  holder.Exec("UPDATE participant SET sex = 'other' WHERE external_id = 'P01'");
  const Run run = Cohortdb(dir, "sql " + Quote(path) + " \"DELETE FROM participant\" --write");
  CHECK(run.code == 4);
  CHECK_THAT(run.err, Contains("the store is busy: another process is writing to it"));
  CHECK_THAT(run.err, Contains("the store is unchanged"));
}

TEST_CASE("a NUL byte on standard input ends sql at once", "[store][cli][limits]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  {
    std::ofstream in(dir.File("nul.sql"), std::ios::binary);
    in << std::string("SELECT 1;\0", 10);
  }
  const Run run = Cohortdb(dir, "sql " + Quote(path) + " - --timeout 1 <" + Quote(dir.File("nul.sql")));
  CHECK(run.code == 3);
  CHECK(run.err ==
        "cohortdb: SQL text holds a NUL byte at line 1, column 10: expected SQL text, found binary data\n");
  CHECK(run.seconds < 10);
}

TEST_CASE("a step SQLite cannot interrupt ends the process a second past the time limit",
          "[store][cli][limits]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  // trim() by a 50,001-character list compares each of 2,000,000 characters
  // with the list in one step: minutes of work.
  const Run run =
      Cohortdb(dir, "sql " + Quote(path) +
                        " \"SELECT length(trim(printf('%.*c', 2000000, 'a'), printf('%.*c', 50000, 'b') "
                        "|| 'a'))\" --timeout 0.5");
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("query stopped: it ran longer than the time limit of 0.5 s and could not be "
                               "interrupted"));
  CHECK_THAT(run.err, Contains("nothing of this query was written to the store"));
  CHECK(run.seconds < 15);  // 0.5 s and 1 s of grace, on a busy machine
  CHECK(Participants(path) == 2);
}

}  // namespace cohortdb
