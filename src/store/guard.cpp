#include "store/guard.h"

#include <sqlite3.h>

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <memory>
#include <new>
#include <set>

#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb {
namespace {

// Reads the current row into "row" (cleared first; its capacity is reused).
void ReadRowInto(sqlite3_stmt* statement, std::vector<SqlValue>& row) {
  const int count = sqlite3_column_count(statement);
  row.clear();
  row.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    switch (sqlite3_column_type(statement, i)) {
      case SQLITE_NULL:
        row.emplace_back(std::monostate{});
        break;
      case SQLITE_INTEGER:
        row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, i)));
        break;
      case SQLITE_FLOAT:
        row.emplace_back(sqlite3_column_double(statement, i));
        break;
      case SQLITE_BLOB:
        row.emplace_back(fmt::format("<blob of {} bytes>", sqlite3_column_bytes(statement, i)));
        break;
      default: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
        row.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, i))));
      }
    }
  }
}

std::vector<SqlValue> ReadRow(sqlite3_stmt* statement) {
  std::vector<SqlValue> row;
  ReadRowInto(statement, row);
  return row;
}

void BindAll(sqlite3_stmt* statement, const std::vector<SqlValue>& params, const std::string& context) {
  const int expected = sqlite3_bind_parameter_count(statement);
  if (static_cast<int>(params.size()) != expected) {
    throw InputError(fmt::format("{}: statement takes {} parameter(s), {} given", context, expected, params.size()));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            sqlite3_bind_null(statement, index);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            sqlite3_bind_int64(statement, index, v);
          } else if constexpr (std::is_same_v<T, double>) {
            sqlite3_bind_double(statement, index, v);
          } else {
            sqlite3_bind_text(statement, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          }
        },
        params[i]);
  }
}

std::vector<std::string> Columns(sqlite3_stmt* statement) {
  std::vector<std::string> names;
  const int count = sqlite3_column_count(statement);
  for (int i = 0; i < count; ++i) names.emplace_back(sqlite3_column_name(statement, i));
  return names;
}

// PRAGMAs that only read. Those in kPragmaWithArgument may take an argument
// (a table or index name); the others are allowed only without one.
const std::set<std::string>& ReadOnlyPragmas() {
  static const std::set<std::string> kPragmas = {
      "application_id", "collation_list", "compile_options", "data_version", "database_list",
      "encoding",       "foreign_key_check", "foreign_key_list", "foreign_keys", "freelist_count",
      "function_list",  "index_info",    "index_list",    "index_xinfo",    "integrity_check",
      "journal_mode",   "module_list",   "page_count",    "page_size",      "pragma_list",
      "quick_check",    "schema_version", "table_info",   "table_list",     "table_xinfo",
      "user_version"};
  return kPragmas;
}

const std::set<std::string>& PragmasWithArgument() {
  static const std::set<std::string> kPragmas = {
      "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
      "integrity_check",   "quick_check",      "table_info", "table_list", "table_xinfo"};
  return kPragmas;
}

std::string Lower(const char* text) {
  std::string s = text == nullptr ? "" : text;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int Deny(Guard& guard, std::string what) {
  if (guard.refusal.empty()) guard.refusal = std::move(what);
  return SQLITE_DENY;
}

int Authorize(void* user, int action, const char* arg1, const char* arg2, const char* database, const char*) {
  Guard& guard = *static_cast<Guard*>(user);
  const std::string a1 = arg1 == nullptr ? "" : arg1;
  const bool temp = database != nullptr && std::string(database) == "temp";
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION: {
      const std::string name = Lower(arg2);
      if (name == "load_extension") return Deny(guard, "load_extension() is never allowed");
      // Returns, or with a second argument installs, a raw C pointer.
      if (name == "fts3_tokenizer") return Deny(guard, "fts3_tokenizer() is never allowed");
      return SQLITE_OK;
    }
    case SQLITE_ATTACH:  // VACUUM attaches too
      return Deny(guard, "ATTACH (and VACUUM, which attaches) is never allowed");
    case SQLITE_DETACH:
      return Deny(guard, "DETACH is never allowed");
    case SQLITE_PRAGMA: {
      const std::string name = Lower(arg1);
      if (ReadOnlyPragmas().count(name) && (arg2 == nullptr || PragmasWithArgument().count(name))) return SQLITE_OK;
      return Deny(guard, fmt::format("PRAGMA {}{} is not allowed (only read-only pragmas are)", name,
                                     arg2 == nullptr ? "" : fmt::format(" = {}", arg2)));
    }
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      if (guard.allow_writes) return Deny(guard, "transaction control is not allowed: cohortdb runs the whole text in one transaction");
      return SQLITE_OK;
    default:
      break;
  }
  // DDL first reports its write to the schema table, then its own action
  // code: let the schema-table write through so the refusal names the DDL.
  // (Direct writes to the schema table fail anyway: defensive mode.)
  if ((action == SQLITE_INSERT || action == SQLITE_UPDATE || action == SQLITE_DELETE) &&
      (a1 == "sqlite_master" || a1 == "sqlite_temp_master" || a1 == "sqlite_schema")) {
    return SQLITE_OK;
  }
  // Everything else writes: DML, DDL, ANALYZE, REINDEX, virtual tables.
  if (guard.allow_writes) {
    // ALTER TABLE names the database first and the table second.
    const std::string table = action == SQLITE_ALTER_TABLE ? (arg2 == nullptr ? "" : arg2) : a1;
    if (action == SQLITE_ANALYZE || action == SQLITE_REINDEX) return SQLITE_OK;  // statistics and indexes only
    if (table == "schema_migration" || table == "sqlite_sequence" || table == "data_edit") {
      return Deny(guard, fmt::format("changing {} is not allowed: it is managed by cohortdb", table));
    }
    if (action == SQLITE_CREATE_TRIGGER || action == SQLITE_CREATE_TEMP_TRIGGER) {
      // A trigger would run later inside cohortdb's own statements (imports,
      // analysis runs), where no guard checks what it does.
      return Deny(guard, fmt::format("CREATE TRIGGER {} is not allowed: a trigger would run later outside this "
                                     "guard", a1));
    }
    const bool drops = action == SQLITE_DROP_TABLE || action == SQLITE_DROP_VIEW || action == SQLITE_DROP_INDEX ||
                       action == SQLITE_DROP_TRIGGER;
    const std::string& object = action == SQLITE_DROP_INDEX || action == SQLITE_DROP_TRIGGER ? a1 : table;
    if ((drops || action == SQLITE_ALTER_TABLE) && IsStoreObject(object)) {
      const char* verb = action == SQLITE_ALTER_TABLE ? "ALTER TABLE"
                         : action == SQLITE_DROP_TABLE ? "DROP TABLE"
                         : action == SQLITE_DROP_VIEW  ? "DROP VIEW"
                         : action == SQLITE_DROP_INDEX ? "DROP INDEX"
                                                       : "DROP TRIGGER";
      return Deny(guard, fmt::format("{} {} is not allowed: it is part of the store's schema (migrations manage it)",
                                     verb, object));
    }
    // The frame column cache is not data: its triggers empty it on every
    // write to a table a pivot reads, and emptying it is no edit.
    if (!temp && !object.empty() && object != "frame_column") guard.written.insert(object);
    if ((action == SQLITE_INSERT || action == SQLITE_UPDATE || action == SQLITE_DELETE) &&
        (a1 == "biomarker" || a1 == "mri_metric" || a1 == "outcome" || a1 == "covariate")) {
      guard.writes_records = true;
    }
    return SQLITE_OK;
  }
  const char* verb = "a change";
  switch (action) {
    case SQLITE_INSERT: verb = "INSERT"; break;
    case SQLITE_UPDATE: verb = "UPDATE"; break;
    case SQLITE_DELETE: verb = "DELETE"; break;
    case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_TABLE: verb = "CREATE TABLE"; break;
    case SQLITE_CREATE_VIEW: case SQLITE_CREATE_TEMP_VIEW: verb = "CREATE VIEW"; break;
    case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TEMP_INDEX: verb = "CREATE INDEX"; break;
    case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_TEMP_TRIGGER: verb = "CREATE TRIGGER"; break;
    case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_TABLE: verb = "DROP TABLE"; break;
    case SQLITE_DROP_VIEW: case SQLITE_DROP_TEMP_VIEW: verb = "DROP VIEW"; break;
    case SQLITE_DROP_INDEX: case SQLITE_DROP_TEMP_INDEX: verb = "DROP INDEX"; break;
    case SQLITE_DROP_TRIGGER: case SQLITE_DROP_TEMP_TRIGGER: verb = "DROP TRIGGER"; break;
    case SQLITE_ALTER_TABLE: verb = "ALTER TABLE"; break;
    case SQLITE_ANALYZE: verb = "ANALYZE"; break;
    case SQLITE_REINDEX: verb = "REINDEX"; break;
    case SQLITE_CREATE_VTABLE: verb = "CREATE VIRTUAL TABLE"; break;
    case SQLITE_DROP_VTABLE: verb = "DROP VIRTUAL TABLE"; break;
    default: break;
  }
  const bool named = !a1.empty() && action != SQLITE_ANALYZE;
  return Deny(guard, fmt::format("{}{} is not allowed: queries are read-only{}", verb,
                                 named ? fmt::format(" on {}", a1) : "",
                                 guard.frame ? " (a frame only reads)"
                                             : " (the sql command takes --write to allow changes)"));
}

std::atomic<bool> overrun_exit{false};

int Progress(void* user) {
  Guard& guard = *static_cast<Guard*>(user);
  if (std::chrono::steady_clock::now() > guard.deadline) {
    guard.timed_out = true;
    return 1;
  }
  return 0;
}

}  // namespace

bool IsStoreObject(const std::string& name) {
  static const std::set<std::string> kObjects = {
      "analysis_result", "analysis_run",     "analysis_run_recipe", "biomarker",     "biomarker_current",
      "covariate",       "covariate_current", "data_edit",          "import_batch",  "import_batch_conversion",
      "import_error",    "import_error_batch",
      "meta_arm_summary", "meta_trial",       "mri_metric",          "mri_metric_current", "outcome",
      "outcome_current", "participant",       "recipe",              "record_all",    "record_coverage",
      "record_current",  "schema_migration",  "site",                "study",         "unit_conversion",
      "variable",        "variable_level",    "visit",         "frame_column"};
  // The frame column cache's triggers (migration 0008): dropping one would
  // switch the cache off.
  return kObjects.count(name) > 0 || name.rfind("frame_cache_clear_", 0) == 0;
}

PreparedStatement::PreparedStatement(sqlite3* db, std::string_view sql, const std::string& context)
    : db_(db), context_(context) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &statement_, nullptr) != SQLITE_OK) {
    throw StoreError(fmt::format("{}: {}", context_, sqlite3_errmsg(db)));
  }
  if (statement_ == nullptr) throw StoreError(fmt::format("{}: empty statement", context_));
}

PreparedStatement::~PreparedStatement() { sqlite3_finalize(statement_); }

void PreparedStatement::Bind(const std::vector<SqlValue>& params) { BindAll(statement_, params, context_); }

std::vector<std::string> PreparedStatement::ColumnNames() const { return Columns(statement_); }

void PreparedStatement::Run(const std::function<void(const std::vector<SqlValue>&)>& on_row) {
  for (;;) {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) throw StoreError(fmt::format("{}: {}", context_, sqlite3_errmsg(db_)));
    on_row(ReadRow(statement_));
  }
  sqlite3_reset(statement_);
}

void SetOverrunExit(bool on) { overrun_exit = on; }

GuardScope::GuardScope(Guard& guard, sqlite3* db, bool allow_writes, std::chrono::milliseconds time_limit,
                       bool frame)
    : db_(db) {
  guard.allow_writes = allow_writes;
  guard.frame = frame;
  guard.refusal.clear();
  guard.timed_out = false;
  guard.writes_records = false;
  guard.written.clear();
  guard.limit = time_limit;
  guard.deadline = std::chrono::steady_clock::now() + time_limit;
  sqlite3_set_authorizer(db, Authorize, &guard);
  sqlite3_progress_handler(db, 1000, Progress, &guard);
  // One LIKE or GLOB runs inside a single VM step, out of the progress
  // handler's reach, in time proportional to text length times pattern
  // length: a shorter pattern limit keeps it within the time limit's spirit.
  like_limit_ = sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, kGuardedLikePatternLength);
  // The same holds for every function over one value: bound the values.
  length_limit_ = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, kGuardedValueBytes);
  sql_length_limit_ = sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, kGuardedSqlBytes);
  // The progress handler runs between VM steps only; the watchdog also
  // stops parsing, sorting and other long steps that check for interrupts.
  const auto deadline = guard.deadline;
  const double seconds = static_cast<double>(time_limit.count()) / 1000.0;
  watchdog_ = std::thread([this, &guard, deadline, seconds] {
    std::unique_lock<std::mutex> lock(mutex_);
    if (wake_.wait_until(lock, deadline, [this] { return done_; })) return;
    guard.timed_out = true;
    sqlite3_interrupt(db_);
    if (!overrun_exit) return;
    if (wake_.wait_for(lock, kOverrunGrace, [this] { return done_; })) return;
    // One step SQLite cannot interrupt (quadratic work over long text) is
    // still running: end the process. An open transaction is not committed,
    // so the store keeps its old content.
    const std::string message = fmt::format(
        "cohortdb: query stopped: it ran longer than the time limit of {:g} s and could not be interrupted "
        "(one step of work over long text), so cohortdb ended; nothing of this query was written to the store\n",
        seconds);
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(static_cast<int>(ExitCode::kInput));
  });
}

GuardScope::~GuardScope() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
  sqlite3_set_authorizer(db_, nullptr, nullptr);
  sqlite3_progress_handler(db_, 0, nullptr, nullptr);
  sqlite3_limit(db_, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, like_limit_);
  sqlite3_limit(db_, SQLITE_LIMIT_LENGTH, length_limit_);
  sqlite3_limit(db_, SQLITE_LIMIT_SQL_LENGTH, sql_length_limit_);
}

namespace {

// "line L, column C" (1-based) of byte "offset" in "text".
std::string LineColumn(std::string_view text, int offset) {
  int line = 1, column = 1;
  for (int i = 0; i < offset; ++i) {
    if (text[static_cast<std::size_t>(i)] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {}", line, column);
}

// " (line L, column C)", or "" for an offset outside "text".
std::string Position(std::string_view text, int offset) {
  if (offset < 0 || static_cast<std::size_t>(offset) > text.size()) return "";
  return fmt::format(" ({})", LineColumn(text, offset));
}

bool OnlySpaceLeft(const char* p, const char* end) {
  while (p < end && std::isspace(static_cast<unsigned char>(*p))) ++p;
  return p == end;
}

// Where a statement's own text starts: past blanks and comments.
const char* StatementStart(const char* p, const char* end) {
  for (;;) {
    while (p < end && std::isspace(static_cast<unsigned char>(*p))) ++p;
    if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
      while (p < end && *p != '\n') ++p;
    } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
      const char* close = p + 2;
      while (end - close >= 2 && !(close[0] == '*' && close[1] == '/')) ++close;
      p = end - close >= 2 ? close + 2 : end;
    } else {
      return p;
    }
  }
}

// The error of a statement that did not prepare: a refusal, or SQLite's
// message with the position it names, else the statement's start.
// The message of a statement stopped at the time limit.
std::string TimeLimitMessage(const Guard& guard) {
  return fmt::format("query stopped: it ran longer than the time limit of {:g} s",
                     static_cast<double>(guard.limit.count()) / 1000.0);
}

// SQLite's message, with the limit behind it where one was hit.
std::string SqliteMessage(sqlite3* db) {
  const int code = sqlite3_errcode(db);
  if (code == SQLITE_TOOBIG) {
    return fmt::format("{} (guarded SQL may make or read strings and blobs of at most {} bytes and run SQL text of "
                       "at most {} bytes)",
                       sqlite3_errmsg(db), kGuardedValueBytes, kGuardedSqlBytes);
  }
  if (code == SQLITE_NOMEM) return "out of memory (the query needs more memory than this machine gives it)";
  return sqlite3_errmsg(db);
}

// A failure of the store rather than of the SQL (another process holds the
// write lock, the disk is full, an I/O error) is a StoreError, as in every
// other command; the caller's transaction rolls back.
void ThrowIfStoreFailure(sqlite3* db, const std::string& context) {
  switch (sqlite3_errcode(db) & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw StoreError(fmt::format("{}: the store is busy: another process is writing to it (waited 5 s); try again "
                                   "when it is done; the store is unchanged",
                                   context));
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw StoreError(fmt::format("{}: cannot use the store: {}; the store is unchanged", context,
                                   sqlite3_errmsg(db)));
    default:
      break;
  }
}

[[noreturn]] void ThrowPrepareError(sqlite3* db, std::string_view sql, const char* tail, const Guard& guard) {
  if (guard.timed_out) throw InputError(TimeLimitMessage(guard));
  if (!guard.refusal.empty()) throw InputError(fmt::format("refused: {}", guard.refusal));
  if (sqlite3_errcode(db) == SQLITE_TOOBIG) throw InputError(fmt::format("SQL error: {}", SqliteMessage(db)));
  const int offset = sqlite3_error_offset(db);
  const int start = static_cast<int>(tail - sql.data());
  if (offset >= 0) throw InputError(fmt::format("SQL error{}: {}", Position(sql, start + offset), sqlite3_errmsg(db)));
  const auto first = static_cast<int>(StatementStart(tail, sql.data() + sql.size()) - sql.data());
  const auto opening = static_cast<int>(StatementStart(sql.data(), sql.data() + sql.size()) - sql.data());
  if (first == opening) throw InputError(fmt::format("SQL error: {}", sqlite3_errmsg(db)));  // the first statement
  throw InputError(
      fmt::format("SQL error in the statement starting at {}: {}", LineColumn(sql, first), sqlite3_errmsg(db)));
}

// Prepares each statement of "sql" in turn under the guard and hands it to
// "on_statement" with its text (tail: where it and the blanks before it
// start; next: just past it); blank or comment-only text is skipped. A
// statement that does not prepare throws: a refusal, or the SQL error. For
// a frame ("frame" names the option) a refusal is prefixed with it.
void ForEachStatement(sqlite3* db, std::string_view sql, Guard& guard, const std::string& frame,
                      const std::function<void(sqlite3_stmt*, const char* tail, const char* next)>& on_statement) {
  const char* tail = sql.data();
  const char* end = sql.data() + sql.size();
  // SQLite reads text up to its first NUL byte only, and does not move past
  // one: refuse it rather than loop or run part of the text.
  if (const auto nul = sql.find('\0'); nul != std::string_view::npos) {
    throw InputError(fmt::format("{}SQL text holds a NUL byte at {}: expected SQL text, found binary data",
                                 frame.empty() ? "" : frame + ": ", LineColumn(sql, static_cast<int>(nul))));
  }
  if (sql.size() > static_cast<std::size_t>(kGuardedSqlBytes)) {
    throw InputError(fmt::format("{}SQL text is {} bytes long: expected at most {} bytes",
                                 frame.empty() ? "" : frame + ": ", sql.size(), kGuardedSqlBytes));
  }
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    guard.refusal.clear();
    const int rc = sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &raw, &next);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
    if (rc != SQLITE_OK) {
      if (!frame.empty() && !guard.refusal.empty()) {
        throw InputError(fmt::format("{}: refused: {}", frame, guard.refusal));
      }
      ThrowPrepareError(db, sql, tail, guard);
    }
    if (raw != nullptr) on_statement(raw, tail, next);
    if (next == nullptr || next <= tail) break;  // no progress: nothing more SQLite can read
    tail = next;
  }
}

}  // namespace

namespace {

// A frame is rows: SELECT, WITH ... SELECT or VALUES, not a PRAGMA or a
// transaction statement that happens to prepare, and only one of them.
// "statements" counts the statements seen, this one included.
void RequireOneSelect(std::string_view sql, const char* tail, int statements, const std::string& what) {
  const char* end = sql.data() + sql.size();
  const char* first = StatementStart(tail, end);
  std::string keyword;
  for (const char* p = first; p < end && std::isalpha(static_cast<unsigned char>(*p)); ++p) {
    keyword.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(*p))));
  }
  const std::string where = LineColumn(sql, static_cast<int>(first - sql.data()));
  if (statements > 1) {
    throw InputError(fmt::format("{}: expected one SELECT statement, found another starting at {}", what, where));
  }
  if (keyword != "SELECT" && keyword != "WITH" && keyword != "VALUES") {
    throw InputError(fmt::format("{}: expected one SELECT statement, found {} at {}", what,
                                 keyword.empty() ? std::string("something else") : keyword, where));
  }
}

}  // namespace

std::vector<std::string> PrepareColumns(sqlite3* db, std::string_view sql, Guard& guard, const std::string& what) {
  std::vector<std::string> columns;
  int statements = 0;
  ForEachStatement(db, sql, guard, what, [&](sqlite3_stmt* raw, const char* tail, const char*) {
    RequireOneSelect(sql, tail, ++statements, what);
    columns = Columns(raw);
  });
  if (statements == 0) throw InputError(fmt::format("{}: expected one SELECT statement, found none", what));
  return columns;
}

namespace {

// Roughly what one row takes in memory: the vector, its values and their text.
std::size_t RowBytes(const std::vector<SqlValue>& row) {
  std::size_t bytes = sizeof(row) + row.capacity() * sizeof(SqlValue);
  for (const SqlValue& value : row) {
    if (const auto* text = std::get_if<std::string>(&value)) bytes += text->capacity() + 1;
  }
  return bytes;
}

}  // namespace

ResultSink CollectingSink(std::function<void(QueryResult&&)> on_result, std::size_t max_bytes, std::string what) {
  auto result = std::make_shared<QueryResult>();
  auto used = std::make_shared<std::size_t>(0);
  ResultSink sink;
  sink.begin = [result](const std::vector<std::string>& columns) {
    *result = QueryResult();
    result->columns = columns;
  };
  sink.row = [result, used, max_bytes, what = std::move(what)](std::vector<SqlValue>&& row) {
    *used += RowBytes(row);
    if (*used > max_bytes) {
      throw InputError(fmt::format("{} stopped: its rows would take more than {} MiB of memory ({} rows held so "
                                   "far); select fewer rows or columns",
                                   what, max_bytes >> 20, result->rows.size()));
    }
    try {
      result->rows.push_back(std::move(row));
    } catch (const std::bad_alloc&) {
      throw InputError(fmt::format("{} stopped: out of memory after {} rows; select fewer rows or columns", what,
                                   result->rows.size()));
    }
  };
  sink.end = [result, on_result = std::move(on_result)](std::int64_t rows_changed) {
    result->rows_changed = rows_changed;
    on_result(std::move(*result));
  };
  return sink;
}

void RunScript(sqlite3* db, std::string_view sql, const std::vector<SqlValue>& params, Guard& guard,
               const std::string& context, const std::function<void(QueryResult&&)>& on_result) {
  RunScript(db, sql, params, guard, context, CollectingSink(on_result));
}

void RunScript(sqlite3* db, std::string_view sql, const std::vector<SqlValue>& params, Guard& guard,
               const std::string& context, const ResultSink& sink) {
  const char* end = sql.data() + sql.size();
  int statements = 0;
  ForEachStatement(db, sql, guard, "", [&](sqlite3_stmt* raw, const char* tail, const char* next) {
    // A frame runs nothing but its one SELECT (BEGIN would prepare and run).
    if (guard.frame) RequireOneSelect(sql, tail, ++statements, "frame query");
    if (!params.empty() && OnlySpaceLeft(next, end)) BindAll(raw, params, context);
    const std::vector<std::string> columns = Columns(raw);
    sink.begin(columns);
    // One row vector for all rows: a sink that does not move it out leaves
    // its capacity to the next row (no allocation per row).
    std::vector<SqlValue> row;
    for (;;) {
      const int step = sqlite3_step(raw);
      if (step == SQLITE_DONE) break;
      if (step == SQLITE_ROW) {
        ReadRowInto(raw, row);
        sink.row(std::move(row));
        continue;
      }
      if (guard.timed_out) throw InputError(TimeLimitMessage(guard));
      if (!guard.refusal.empty()) throw InputError(fmt::format("refused: {}", guard.refusal));
      ThrowIfStoreFailure(db, context);
      throw InputError(fmt::format("SQL error in the statement starting at {}: {}",
                                   LineColumn(sql, static_cast<int>(StatementStart(tail, end) - sql.data())),
                                   SqliteMessage(db)));
    }
    sink.end(columns.empty() ? sqlite3_changes64(db) : 0);
  });
}

}  // namespace cohortdb
