#pragma once
// Store: one cohortdb file, an SQLite database whose schema is built only by
// the embedded migrations. A Store owns one connection; it is not thread-safe
// (use one Store per thread). Every connection has foreign keys on, WAL
// journaling, and the statistical aggregates of aggregates.h registered.
//
// The one exception to "one thread" is SetConnectionGate below.
//
// Opening never changes the schema except through Create() and Migrate().
// Open() refuses a store written by a newer cohortdb and one whose applied
// migrations were edited afterwards (checksum mismatch), with a StoreError.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/value.h"

namespace SQLite {
class Database;
}

namespace cohortdb {

// The statements of one query text with their results (several statements may
// be given to the sql command; each yields one result, possibly without columns).
struct ScriptResult {
  std::vector<QueryResult> results;
  // The data_edit recorded for a writable script that changed the store.
  std::optional<std::int64_t> edit_id;
};

// Where the statements of a script hand their results, row by row: begin
// (the result columns; none for a statement that returns no rows), each row,
// end (rows changed by a statement without columns, else 0).
struct ResultSink {
  std::function<void(const std::vector<std::string>& columns)> begin;
  std::function<void(std::vector<SqlValue>&& row)> row;
  std::function<void(std::int64_t rows_changed)> end;
};

// The schema version that added data_edit (migrations/0006_data_edit.sql).
inline constexpr int kDataEditVersion = 6;
// The migration that adds the frame column cache (frame_column_cache.h).
inline constexpr int kFrameColumnVersion = 8;
// The SQL condition (over data_edit) of an edit that counts for the data
// fingerprint: it wrote an object other than the provenance tables.
inline constexpr const char* kDataEditCountsSql =
    "EXISTS (SELECT 1 FROM json_each(data_edit.objects) "
    "WHERE value NOT IN ('analysis_run', 'analysis_result', 'recipe'))";

enum class OpenMode {
  kReadWrite,  // normal use: imports, analyses
  kReadOnly,   // read-only connection plus the write-denying guard (see GuardedQuery)
};

// Where a store's schema stands relative to this build.
struct SchemaStatus {
  int store_version = 0;     // PRAGMA user_version of the file
  int current_version = 0;   // the newest embedded migration
  std::vector<std::string> pending;  // names of migrations not yet applied
};

// Whether a guarded statement (GuardedScript, GuardedQuery) still running a
// second past its time limit ends the process: exit code 3 with "query
// stopped" on stderr. SQLite cannot interrupt one step of quadratic work
// (instr() or trim() over long text); an open transaction is never
// committed, so the store keeps its old content. The CLI turns this on;
// library users (tests) leave it off, and such a statement then runs to its
// end before the time limit is reported. Thread-safe.
void SetOverrunExit(bool on);

class Store {
 public:
  // Creates a new store at "path" (refuses an existing non-empty file) and
  // applies every migration. ":memory:" creates a private in-memory store.
  static Store Create(const std::string& path);

  // Opens an existing store. Throws StoreError if the file does not exist, is
  // not a cohortdb store, was written by a newer cohortdb, or has an edited
  // migration. An older store opens read-only (kReadOnly) but kReadWrite
  // requires it to be migrated first (the error says `cohortdb migrate`).
  static Store Open(const std::string& path, OpenMode mode = OpenMode::kReadWrite);

  // StoreError unless "path" names an existing file: "no such store" (with
  // the init command) or "is a directory". Open checks it; cohortdb migrate
  // checks it before Migrate, which would create the file.
  static void RequireFile(const std::string& path);

  // Opens "path" (creating it if missing) and applies pending migrations up
  // to "target_version" (default: all), each in its own transaction. Returns
  // the names of the migrations applied (empty if none were pending).
  static std::vector<std::string> Migrate(const std::string& path,
                                          std::optional<int> target_version = std::nullopt);

  // Reports the schema status of a store file without changing it.
  static SchemaStatus Inspect(const std::string& path);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const;
  bool read_only() const;
  int schema_version() const;

  // Runs trusted SQL written by cohortdb itself (several statements allowed).
  void Exec(std::string_view sql);

  // Runs one trusted statement with bound parameters (?1, ?2, ... or ?) and
  // returns its rows.
  QueryResult Query(std::string_view sql, const std::vector<SqlValue>& params = {});

  // Streams the rows of one trusted statement to "on_row" without
  // materialising them (for large frames).
  void ForEachRow(std::string_view sql, const std::vector<SqlValue>& params,
                  const std::function<void(const std::vector<SqlValue>&)>& on_row,
                  std::vector<std::string>* columns = nullptr);

  // Runs user-written SQL (several statements allowed) under the guard: an
  // authorizer that refuses every write, schema change, ATTACH/DETACH, PRAGMA
  // that changes state, and load_extension; SQLite's defensive flag; and a
  // time limit. Refusals throw StoreError saying what was refused and that
  // `--write` allows writes. With "allow_writes" the authorizer still refuses
  // ATTACH and load_extension, and the statements run in one transaction
  // that rolls back on any error. Parameters bind to the last statement only
  // when given. A writable script that changed rows or the schema of the
  // main database is recorded, in its transaction, as one data_edit row
  // (time, the script's text, rows changed, the objects written); its id is
  // returned (see DataFingerprint).
  ScriptResult GuardedScript(std::string_view sql, bool allow_writes = false,
                             std::chrono::milliseconds time_limit = std::chrono::seconds(60),
                             const std::vector<SqlValue>& params = {});
  // The same, handing each result to "sink" row by row instead of holding it.
  std::optional<std::int64_t> GuardedScript(std::string_view sql, bool allow_writes, std::chrono::milliseconds time_limit,
                     const ResultSink& sink, const std::vector<SqlValue>& params = {});

  // One user-written SELECT under the read-only guard, with bound parameters.
  // For analysis frames: throws InputError if "sql" is not a single
  // read-only statement.
  QueryResult GuardedQuery(std::string_view sql, const std::vector<SqlValue>& params = {},
                           std::chrono::milliseconds time_limit = std::chrono::seconds(300));

  // The same, handing the rows to "sink" as they come instead of holding
  // them (analysis frames at biobank scale).
  void GuardedQueryRows(std::string_view sql, const ResultSink& sink,
                    std::chrono::milliseconds time_limit = std::chrono::seconds(300));

  // The columns of one user-written SELECT, prepared under the read-only
  // guard but not run; errors give positions in "sql" itself. More or fewer
  // than one statement: InputError naming "what" ("--frame").
  std::vector<std::string> GuardedColumns(std::string_view sql, const std::string& what);

  // A transaction on this store: rolls back in its destructor unless Commit()
  // ran. Nested transactions are not supported.
  class Transaction {
   public:
    explicit Transaction(Store& store);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void Commit();

   private:
    Store& store_;
    bool done_ = false;
  };

  // Regenerates the pivot views of one study from its variable catalog:
  //   wide_<study>        one row per participant;
  //   wide_<study>_visit  one row per participant and visit.
  // Call after the catalog or the visits of a study change. Inside an open
  // transaction the views change with it (and roll back with it).
  void RefreshPivots(const std::string& study_code);
  // Rebuilds record_coverage (which variable/visit pairs hold current
  // records) from the record tables; GuardedScript calls it after a writable
  // script changed a record table. One scan of each table's current index.
  void RecomputeCoverage();

  // A fingerprint of the store's data: SHA-256 over every import batch's
  // identity (file and spec digests, counts) and every data_edit (id, time,
  // the SHA-256 of its text, rows changed) that wrote more than the
  // provenance tables (analysis_run, analysis_result, recipe). Equal
  // fingerprints mean the same data was loaded and edited alike. A store
  // without edits keeps the fingerprint it had before edits were recorded.
  std::string DataFingerprint();

  // For src/store internals only (other layers must not include SQLiteCpp).
  SQLite::Database& database();

  // Hand-over of the connection to a helper thread (ImportWriter writes
  // record chunks on one while the import reads on): while a gate is set,
  // every method above that touches the connection, database() included,
  // first calls it, and the gate returns once the helper is idle. The gate
  // must not throw. Pass nullptr to remove it.
  void SetConnectionGate(std::function<void()> gate);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cohortdb
