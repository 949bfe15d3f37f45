#pragma once
// Internal to src/store: prepared statements over the raw sqlite3 handle, and
// the guard that runs user-written SQL (authorizer, time limit).

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>
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
  bool timed_out = false;
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

// Installs the authorizer and progress handler on "db" for its lifetime.
// Longest LIKE/GLOB pattern guarded SQL may use (SQLite's default: 50,000).
inline constexpr int kGuardedLikePatternLength = 1000;

class GuardScope {
 public:
  GuardScope(Guard& guard, sqlite3* db, bool allow_writes, std::chrono::milliseconds time_limit, bool frame = false);
  ~GuardScope();
  GuardScope(const GuardScope&) = delete;
  GuardScope& operator=(const GuardScope&) = delete;

 private:
  sqlite3* db_;
  int like_limit_ = 0;  // restored when the scope ends
};

// A sink that collects each result whole and hands it to "on_result".
ResultSink CollectingSink(std::function<void(QueryResult&&)> on_result);

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
