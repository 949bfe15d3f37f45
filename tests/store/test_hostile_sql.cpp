// The hostile-SQL corpus (tests/data/store/hostile_sql.txt): every case
// through the sql command (read-only, and --write where the corpus says), the
// store's guarded frame path, `describe --frame` and a recipe frame. Each is
// refused or stopped by a limit with a message saying why, within a bounded
// time, and the store's content hash is unchanged.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/sha256.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

struct HostileCase {
  std::string name;
  int line = 0;
  std::string sql_expect;    // the read-only sql command
  std::string write_expect;  // sql --write, if given
  bool slow = false;
  bool uninterruptible = false;
  std::string sql;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// <NUL> is a NUL byte, <SPACES N> N spaces, <REPEAT N TEXT> TEXT N times.
std::string Expand(std::string text) {
  for (std::size_t at; (at = text.find("<NUL>")) != std::string::npos;)
    text.replace(at, 5, std::string(1, '\0'));
  for (std::size_t at; (at = text.find("<SPACES ")) != std::string::npos;) {
    const std::size_t close = text.find('>', at);
    const std::size_t n = std::stoul(text.substr(at + 8, close - at - 8));
    text.replace(at, close - at + 1, std::string(n, ' '));
  }
  for (std::size_t at; (at = text.find("<REPEAT ")) != std::string::npos;) {
    const std::size_t space = text.find(' ', at + 8);
    const std::size_t close = text.find('>', space);
    const std::size_t n = std::stoul(text.substr(at + 8, space - at - 8));
    const std::string unit = text.substr(space + 1, close - space - 1);
    std::string repeated;
    for (std::size_t i = 0; i < n; ++i) repeated += unit;
    text.replace(at, close - at + 1, repeated);
  }
  return text;
}

std::vector<HostileCase> LoadCorpus() {
  std::ifstream in(std::string(COHORTDB_TEST_DATA_DIR) + "/store/hostile_sql.txt");
  std::vector<HostileCase> cases;
  std::string line;
  int number = 0;
  bool in_sql = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("=== ", 0) == 0) {
      cases.push_back({});
      cases.back().name = line.substr(4);
      cases.back().line = number;
      in_sql = false;
      continue;
    }
    if (cases.empty() || (!in_sql && (line.empty() || line[0] == '#'))) continue;
    HostileCase& c = cases.back();
    if (!in_sql && line.rfind("sql: ", 0) == 0) {
      c.sql_expect = line.substr(5);
    } else if (!in_sql && line.rfind("write: ", 0) == 0) {
      c.write_expect = line.substr(7);
    } else if (!in_sql && line == "slow") {
      c.slow = true;
    } else if (!in_sql && line == "uninterruptible") {
      c.uninterruptible = true;
    } else {
      in_sql = true;
      c.sql += (c.sql.empty() ? "" : "\n") + line;
    }
  }
  for (HostileCase& c : cases) {
    while (!c.sql.empty() && c.sql.back() == '\n') c.sql.pop_back();
    c.sql = Expand(c.sql);
  }
  return cases;
}

// The words a message must hold for each expectation.
std::vector<std::string> MessagesFor(const std::string& expect) {
  if (expect == "refused") return {"refused: "};
  if (expect == "error") return {"SQL error"};
  if (expect == "stopped") return {"stopped"};
  if (expect == "toobig") return {"string or blob too big", "bytes long: expected at most"};
  if (expect == "nul") return {"NUL byte"};
  if (expect == "bounded") return {"stopped"};
  return {};
}

bool HoldsOneOf(const std::string& text, const std::vector<std::string>& words) {
  for (const std::string& w : words) {
    if (text.find(w) != std::string::npos) return true;
  }
  return false;
}

// SHA-256 over the schema and every row of every table.
std::string ContentHash(const std::string& path) {
  Store store = Store::Open(path, OpenMode::kReadOnly);
  Sha256 sha;
  struct {
    Sha256& sha;
    void Update(const std::string& text) { sha.Update(text.data(), text.size()); }
    std::string FinishHex() { return sha.FinishHex(); }
  } hash{sha};
  const QueryResult schema =
      store.Query("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name");
  for (const auto& row : schema.rows) {
    for (const SqlValue& v : row) hash.Update(FormatSqlValue(v) + "\x1f");
    if (std::get<std::string>(row[0]) != "table") continue;
    const QueryResult rows = store.Query(fmt::format("SELECT * FROM \"{}\"", std::get<std::string>(row[1])));
    for (const auto& r : rows.rows) {
      for (const SqlValue& v : r) hash.Update(FormatSqlValue(v) + "\x1f");
      hash.Update("\n");
    }
  }
  return hash.FinishHex();
}

struct Run {
  int code = 0;
  std::string err;
  double seconds = 0;
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Run Cohortdb(const TempDir& dir, const std::string& args, const std::string& stdin_text = "") {
  const std::string in = dir.File("stdin.sql");
  {
    std::ofstream file(in, std::ios::binary);
    file << stdin_text;
  }
  const std::string command = fmt::format("{} {} <{} >{} 2>{}", Quote(COHORTDB_BINARY), args, Quote(in),
                                          Quote(dir.File("stdout.txt")), Quote(dir.File("stderr.txt")));
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());
  Run run;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = Slurp(dir.File("stderr.txt"));
  return run;
}

// A TOML basic string holding "text".
std::string TomlString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string MakeStore(const TempDir& dir) {
  const std::string path = dir.File("hostile.cohortdb");
  Store store = Store::Create(path);
  store.Exec(
      "INSERT INTO study (code, design) VALUES ('trial', 'trial');"
      "INSERT INTO participant (study_id, external_id, sex) VALUES (1, 'P01', 'female'), (1, 'P02', "
      "'male');");
  return path;
}

constexpr double kBound = 15.0;  // seconds a case may take (limit 1 s, overrun exit 1 s, a busy machine)

}  // namespace

TEST_CASE("the hostile-SQL corpus has at least 60 cases / each with an expectation",
          "[store][guard][hostile]") {
  const std::vector<HostileCase> cases = LoadCorpus();
  CHECK(cases.size() >= 60);
  for (const HostileCase& c : cases) {
    INFO(c.name << " (line " << c.line << ")");
    CHECK(!c.sql.empty());
    CHECK((c.sql_expect == "ok" || !MessagesFor(c.sql_expect).empty()));
    CHECK(c.sql.find("<REPEAT") == std::string::npos);
    if (!c.write_expect.empty()) CHECK(!MessagesFor(c.write_expect).empty());
  }
}

TEST_CASE("hostile SQL through the guarded frame path is refused or stopped", "[store][guard][hostile]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  const std::string before = ContentHash(path);
  Store store = Store::Open(path, OpenMode::kReadOnly);
  for (const HostileCase& c : LoadCorpus()) {
    if (c.uninterruptible) continue;
    INFO(c.name << " (line " << c.line << ")");
    const auto start = std::chrono::steady_clock::now();
    std::string message;
    try {
      store.GuardedQuery(c.sql, {}, std::chrono::seconds(1));
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::kInput);
      message = e.what();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(message);
    // A frame is one read-only SELECT: every case but the harmless ones
    // fails, for the corpus's reason where it is about the text itself.
    const bool may_succeed = c.sql_expect == "ok" || c.sql_expect == "bounded";
    if (!may_succeed) CHECK(!message.empty());
    if (c.sql_expect != "ok" && c.sql_expect != "error" && !message.empty()) {
      // A statement other than SELECT may be refused as such first.
      std::vector<std::string> reasons = MessagesFor(c.sql_expect);
      reasons.emplace_back("frame query: expected one SELECT statement");
      CHECK(HoldsOneOf(message, reasons));
    }
    CHECK(seconds < kBound);
  }
  CHECK(ContentHash(path) == before);
}

TEST_CASE("hostile SQL through the sql command is refused or stopped and the store is unchanged",
          "[store][guard][hostile][cli]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  const std::string before = ContentHash(path);
  for (const HostileCase& c : LoadCorpus()) {
    INFO(c.name << " (line " << c.line << ")");
    const Run run = Cohortdb(dir, fmt::format("sql {} - --timeout 1", Quote(path)), c.sql);
    INFO(run.err);
    CHECK(run.seconds < kBound);
    if (c.sql_expect == "ok") {
      CHECK(run.code == 0);
    } else if (c.sql_expect == "bounded") {
      CHECK((run.code == 0 || (run.code == 3 && HoldsOneOf(run.err, MessagesFor("stopped")))));
    } else {
      CHECK(run.code == 3);
      CHECK(HoldsOneOf(run.err, MessagesFor(c.sql_expect)));
      CHECK(run.err.rfind("cohortdb: ", 0) == 0);
    }
    if (!c.write_expect.empty()) {
      const Run write = Cohortdb(dir, fmt::format("sql {} - --write --timeout 1", Quote(path)), c.sql);
      INFO("--write: " << write.err);
      CHECK(write.code == 3);
      CHECK(HoldsOneOf(write.err, MessagesFor(c.write_expect)));
      CHECK(write.seconds < kBound);
    }
    CHECK(ContentHash(path) == before);
  }
}

TEST_CASE("hostile SQL as a --frame and as a recipe frame is refused and the store is unchanged",
          "[store][guard][hostile][cli]") {
  TempDir dir;
  const std::string path = MakeStore(dir);
  std::string before = ContentHash(path);
  int recipes = 0;
  for (const HostileCase& c : LoadCorpus()) {
    if (c.slow || c.uninterruptible) continue;  // frames have a 300 s limit: the frame path above covers them
    INFO(c.name << " (line " << c.line << ")");
    if (c.sql.find('\0') == std::string::npos && c.sql.size() < 100000) {  // argv holds neither
      const Run frame = Cohortdb(
          dir, fmt::format("describe {} --frame {} --vars x --no-record", Quote(path), Quote(c.sql)));
      INFO("--frame: " << frame.err);
      CHECK(frame.code == 3);
      CHECK(frame.err.rfind("cohortdb: ", 0) == 0);
      CHECK(frame.seconds < kBound);
      CHECK(ContentHash(path) == before);
    }
    const std::string recipe = dir.File("hostile.toml");
    {
      std::ofstream file(recipe, std::ios::binary);
      file << fmt::format(
          "name = \"hostile{}\"\n\n[[step]]\nname = \"s\"\nanalysis = \"describe\"\n[step.options]\n"
          "frame = {}\nvars = [\"x\"]\n",
          ++recipes, TomlString(c.sql));
    }
    const Run add = Cohortdb(dir, fmt::format("recipe add {} {}", Quote(path), Quote(recipe)));
    INFO("recipe add: " << add.err);
    CHECK(add.seconds < kBound);
    if (add.code == 0) {
      // Compiled, so only running it can fail (a value too long): nothing of
      // the run is recorded.
      before = ContentHash(path);
      const Run run = Cohortdb(dir, fmt::format("recipe run {} hostile{}", Quote(path), recipes));
      INFO("recipe run: " << run.err);
      CHECK(run.code == 3);
      CHECK(HoldsOneOf(run.err, MessagesFor(c.sql_expect)));
      CHECK(run.seconds < kBound);
    } else {
      CHECK(add.code == 3);
      CHECK(add.err.rfind("cohortdb: ", 0) == 0);
    }
    CHECK(ContentHash(path) == before);
  }
}

}  // namespace cohortdb
