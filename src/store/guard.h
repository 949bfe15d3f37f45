#pragma once
// Internal to src/store: prepared statements over the raw sqlite3 handle, and
// the guard that runs user-written SQL (authorizer, time limit).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <set>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cohortdb {

// One trusted statement. Errors throw StoreError naming "context".
class PreparedStatement {
 public:
  PreparedStatement(sqlite3* db, std::string_view sql, const std::string& context);
  ~PreparedStatement();
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;

  void Bind(const std::vector<SqlValue>& params);
  std::vector<std::string> ColumnNames() const;
  void Run(const std::function<void(const std::vector<SqlValue>&)>& on_row);

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
  std::string context_;
};

// State shared with the authorizer and progress callbacks while a GuardScope
// is alive.
struct Guard {
  bool allow_writes = false;
  std::string refusal;  // why the last statement was refused, if it was
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds limit{0};
  // Set by the progress handler or by the watchdog thread at the deadline.
  std::atomic<bool> timed_out{false};
  // A statement that inserts, updates or deletes rows of a record table was
  // allowed (record_coverage must then be recomputed).
  bool writes_records = false;
  // The objects of the main database a writable script inserts into,
  // updates, deletes from, creates, alters or drops (not temp objects):
  // recorded with its data_edit.
  std::set<std::string> written;
  // The SQL is an analysis frame, not the sql command's text: a refused
  // write says that frames only read instead of pointing at --write.
  bool frame = false;
};

// True for the tables, views and indexes the migrations create: under
// --write their rows may change, their definitions may not (no DROP, no
// ALTER TABLE).
bool IsStoreObject(const std::string& name);

// Longest LIKE/GLOB pattern guarded SQL may use (SQLite's default: 50,000).
inline constexpr int kGuardedLikePatternLength = 1000;
// Longest string or blob guarded SQL may make or read (SQLITE_LIMIT_LENGTH;
// SQLite's default: 1,000,000,000). Any one function call works on at most
// this much, so a single VM step stays short and small.
inline constexpr int kGuardedValueBytes = 10'000'000;
// Longest SQL text (all statements together) guarded SQL may be
// (SQLITE_LIMIT_SQL_LENGTH; SQLite's default: 1,000,000,000).
inline constexpr int kGuardedSqlBytes = 10'000'000;
// Most memory (estimated: values plus their text) the rows of collected
// results may take: a frame, or the sql command's grids and --write output.
inline constexpr std::size_t kGuardedResultBytes = std::size_t{1} << 30;
// How long past the time limit a statement that SQLite cannot interrupt (one
// step of quadratic work, such as instr() or trim() over long text) may run
// before the process ends, when SetOverrunExit(true) asked for it (store.h).
inline constexpr std::chrono::milliseconds kOverrunGrace{1000};


// Installs the authorizer, the progress handler, the limits above and a
// watchdog thread (which interrupts the connection at the deadline) on "db"
// for its lifetime.
class GuardScope {
 public:
  GuardScope(Guard& guard, sqlite3* db, bool allow_writes, std::chrono::milliseconds time_limit, bool frame = false);
  ~GuardScope();
  GuardScope(const GuardScope&) = delete;
  GuardScope& operator=(const GuardScope&) = delete;

 private:
  sqlite3* db_;
  // Restored when the scope ends.
  int like_limit_ = 0;
  int length_limit_ = 0;
  int sql_length_limit_ = 0;
  // The watchdog: waits for the deadline or the end of the scope.
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread watchdog_;
};

// A sink that collects each result whole and hands it to "on_result". The
// rows of all results it collects may take at most "max_bytes" (estimated);
// one more row throws InputError naming the limit and "what" ("frame",
// "query result").
ResultSink CollectingSink(std::function<void(QueryResult&&)> on_result,
                          std::size_t max_bytes = kGuardedResultBytes, std::string what = "query result");

// Prepares and runs each statement of "sql" in turn, handing each result to
// "on_result" (collected) or to "sink" (as the rows come). "params" bind to
// the last statement. User errors (syntax, refusal, time limit) throw
// InputError.
void RunScript(sqlite3* db, std::string_view sql, const std::vector<SqlValue>& params, Guard& guard,
               const std::string& context, const ResultSink& sink);
void RunScript(sqlite3* db, std::string_view sql, const std::vector<SqlValue>& params, Guard& guard,
               const std::string& context, const std::function<void(QueryResult&&)>& on_result);

// The result columns of "sql", which must be exactly one statement,
// prepared under the guard but not run. Errors as RunScript's; "what" names
// the text in the error for more or fewer than one statement ("--frame").
std::vector<std::string> PrepareColumns(sqlite3* db, std::string_view sql, Guard& guard, const std::string& what);

}  // namespace cohortdb
