#pragma once
// Helpers for the import tests: run the built cohortdb binary, hash a store
// the way the sqlite3 shell's .sha3sum does, read a store with SQLiteCpp, and
// make scratch directories.

#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace cohortdb::test {

inline const std::string kBinary = COHORTDB_BINARY;
inline const std::string kDataDir = COHORTDB_TEST_DATA_DIR;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh directory under the system temp dir, removed by the destructor.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("cohortdb_import_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs a shell command line in "cwd", capturing stdout and stderr.
inline RunResult RunShell(const std::string& command, const std::string& cwd) {
  static std::atomic<int> counter{0};
  const auto base = std::filesystem::temp_directory_path() /
                    ("cohortdb_run_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const std::string line = "cd '" + cwd + "' && " + command + " >'" + out + "' 2>'" + err + "'";
  int status = std::system(line.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadText(out);
  r.err = ReadText(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

// Runs `cohortdb ARGS` with the test data directory as working directory.
inline RunResult Cohortdb(const std::string& args, const std::string& cwd = kDataDir) {
  return RunShell("'" + kBinary + "' " + args, cwd);
}

// The content hash of a store as `sqlite3 STORE .sha3sum` prints it.
inline std::string StoreHash(const std::string& store) {
  RunResult r = RunShell("sqlite3 '" + store + "' .sha3sum", kDataDir);
  return r.exit_code == 0 ? r.out : "sqlite3 failed: " + r.err;
}

// One value of a query on a store (first column of the first row), as text;
// "NULL" for NULL, "" when there is no row.
inline std::string QueryOne(const std::string& store, const std::string& sql) {
  SQLite::Database db(store, SQLite::OPEN_READONLY);
  SQLite::Statement st(db, sql);
  if (!st.executeStep()) return "";
  if (st.getColumn(0).isNull()) return "NULL";
  return st.getColumn(0).getString();
}

inline double QueryDouble(const std::string& store, const std::string& sql) {
  SQLite::Database db(store, SQLite::OPEN_READONLY);
  SQLite::Statement st(db, sql);
  st.executeStep();
  return st.getColumn(0).getDouble();
}

}  // namespace cohortdb::test
