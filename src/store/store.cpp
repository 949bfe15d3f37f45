#include "store/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"
#include "common/version.h"
#include "store/aggregates.h"
#include "store/embedded_migrations.h"
#include "store/guard.h"
#include "store/pivot.h"

namespace cohortdb {
namespace {

// 'CoHD': marks a file as a cohortdb store in the SQLite header.
constexpr int kApplicationId = 0x436F4844;
// A migration holding this line runs with foreign keys off (see ApplyMigrations).
constexpr std::string_view kForeignKeysOff = "-- cohortdb: foreign keys off";

constexpr const char* kMigrationTable =
    "CREATE TABLE IF NOT EXISTS schema_migration (\n"
    "  version     INTEGER PRIMARY KEY,\n"
    "  name        TEXT NOT NULL,\n"
    "  sha256      TEXT NOT NULL CHECK (length(sha256) = 64),\n"
    "  applied_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))\n"
    ")";

int LatestVersion() {
  const auto& all = EmbeddedMigrations();
  return all.empty() ? 0 : all.back().version;
}

bool IsMemory(const std::string& path) { return path == ":memory:" || path.empty(); }

std::string OpenName(const std::string& path) { return IsMemory(path) ? ":memory:" : path; }

// Process-wide SQLite settings, applied once before the first connection:
// no memory statistics (their mutex costs about a tenth of a bulk import).
void ConfigureLibraryOnce() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE if already initialised: harmless
    return true;
  }();
  (void)done;
}

void Configure(SQLite::Database& db, bool read_only, bool memory) {
  sqlite3* handle = db.getHandle();
  sqlite3_db_config(handle, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(handle, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  // fts3_tokenizer(name, pointer) installs a tokenizer from a raw address
  // (Debian's SQLite is built with it on): off, like extensions.
  sqlite3_db_config(handle, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, nullptr);
  sqlite3_busy_timeout(handle, 5000);
  db.exec("PRAGMA foreign_keys = ON");
  if (!read_only && !memory) db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA cache_size = -65536");  // 64 MiB
  RegisterAggregates(handle);
}

int PragmaInt(SQLite::Database& db, const char* pragma) {
  SQLite::Statement statement(db, fmt::format("PRAGMA {}", pragma));
  statement.executeStep();
  return statement.getColumn(0).getInt();
}

bool HasTable(SQLite::Database& db, const char* name) {
  SQLite::Statement statement(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
  statement.bind(1, name);
  return statement.executeStep();
}

// Checks that "db" is a cohortdb store this build can read; returns its version.
int CheckSchema(SQLite::Database& db, const std::string& path) {
  const int version = PragmaInt(db, "user_version");
  const int app_id = PragmaInt(db, "application_id");
  const bool has_tables = PragmaInt(db, "schema_version") != 0;
  if (version == 0 && app_id == 0) {
    if (has_tables) throw StoreError(fmt::format("{}: not a cohortdb store (an SQLite file with other tables)", path));
    throw StoreError(fmt::format("{}: store is empty: create it with `cohortdb init {}`", path, path));
  }
  if (app_id != kApplicationId) throw StoreError(fmt::format("{}: not a cohortdb store", path));
  if (version > LatestVersion()) {
    throw StoreError(fmt::format(
        "{}: store has schema version {}, written by a newer cohortdb; this cohortdb knows versions up to {}: "
        "upgrade cohortdb",
        path, version, LatestVersion()));
  }
  if (!HasTable(db, "schema_migration")) {
    throw StoreError(fmt::format("{}: store has no migration history (schema_migration table missing)", path));
  }
  std::map<int, const EmbeddedMigration*> known;
  for (const auto& m : EmbeddedMigrations()) known[m.version] = &m;
  SQLite::Statement applied(db, "SELECT version, name, sha256 FROM schema_migration ORDER BY version");
  while (applied.executeStep()) {
    const int v = applied.getColumn(0).getInt();
    const std::string name = applied.getColumn(1).getString();
    const std::string sha = applied.getColumn(2).getString();
    auto it = known.find(v);
    if (it == known.end()) {
      throw StoreError(fmt::format("{}: applied migration {} ({}) is unknown to this cohortdb", path, v, name));
    }
    if (Sha256Hex(it->second->sql) != sha || name != it->second->name) {
      throw StoreError(fmt::format(
          "{}: migration {} was edited after it was applied to this store (checksum of {} differs); "
          "migrations are forward-only: restore the original file and add a new migration",
          path, v, it->second->name));
    }
  }
  return version;
}

}  // namespace

struct Store::Impl {
  std::string path;
  bool read_only = false;
  int version = 0;
  SQLite::Database db;
  Guard guard;
  std::function<void()> gate;  // see SetConnectionGate

  void Gate() {
    if (gate) gate();
  }

  // A Store is used by one thread at a time, so the connection needs no
  // mutex of its own (SQLITE_OPEN_NOMUTEX); locking it cost about 4% of a
  // bulk import.
  Impl(std::string p, int flags)
      : path(std::move(p)), db((ConfigureLibraryOnce(), OpenName(path)), flags | SQLite::OPEN_NOMUTEX) {}
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const { return impl_->path; }
bool Store::read_only() const { return impl_->read_only; }
int Store::schema_version() const { return impl_->version; }
SQLite::Database& Store::database() {
  impl_->Gate();
  return impl_->db;
}

void Store::SetConnectionGate(std::function<void()> gate) { impl_->gate = std::move(gate); }

namespace {

std::vector<std::string> ApplyMigrations(SQLite::Database& db, const std::string& path,
                                         std::optional<int> target) {
  const int latest = LatestVersion();
  const int goal = target.value_or(latest);
  if (goal < 0 || goal > latest) {
    throw UsageError(fmt::format("migration target {} is outside 0..{}", goal, latest));
  }
  int version = PragmaInt(db, "user_version");
  const bool fresh = version == 0 && PragmaInt(db, "application_id") == 0;
  if (fresh && PragmaInt(db, "schema_version") != 0) {
    throw StoreError(fmt::format("{}: not a cohortdb store (an SQLite file with other tables)", path));
  }
  if (!fresh) version = CheckSchema(db, path);
  std::vector<std::string> applied;
  for (const auto& m : EmbeddedMigrations()) {
    if (m.version <= version || m.version > goal) continue;
    // A migration that rebuilds a table other tables reference says so with
    // kForeignKeysOff: it then runs with foreign keys off (a pragma that only
    // works outside a transaction) and must leave PRAGMA foreign_key_check
    // empty, as SQLite's procedure for rebuilding a table prescribes.
    const bool foreign_keys_off = std::string_view(m.sql).find(kForeignKeysOff) != std::string_view::npos;
    const bool foreign_keys_were_on = PragmaInt(db, "foreign_keys") != 0;
    struct ForeignKeys {
      SQLite::Database& db;
      bool restore;
      ~ForeignKeys() {
        if (restore) sqlite3_exec(db.getHandle(), "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
      }
    } foreign_keys{db, foreign_keys_off && foreign_keys_were_on};
    if (foreign_keys_off) db.exec("PRAGMA foreign_keys = OFF");
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    if (fresh && applied.empty()) {
      db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
      db.exec(kMigrationTable);
    }
    try {
      db.exec(m.sql);
      // A later migration may change what a pivot holds: start the cache afresh.
      if (m.version >= kFrameColumnVersion) db.exec("DELETE FROM frame_column");
    } catch (const SQLite::Exception& e) {
      throw StoreError(fmt::format("{}: migration {} failed: {}", path, m.name, e.what()));
    }
    if (foreign_keys_off) {
      SQLite::Statement check(db, "PRAGMA foreign_key_check");
      if (check.executeStep()) {
        throw StoreError(fmt::format("{}: migration {} failed: a row of {} refers to a missing row of {}", path,
                                     m.name, check.getColumn(0).getString(), check.getColumn(2).getString()));
      }
    }
    SQLite::Statement record(db, "INSERT INTO schema_migration (version, name, sha256) VALUES (?, ?, ?)");
    record.bind(1, m.version);
    record.bind(2, m.name);
    record.bind(3, Sha256Hex(m.sql));
    record.exec();
    db.exec(fmt::format("PRAGMA user_version = {}", m.version));
    transaction.commit();
    applied.emplace_back(m.name);
  }
  return applied;
}

}  // namespace

Store Store::Create(const std::string& path) {
  if (!IsMemory(path)) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::is_directory(status)) {
      throw StoreError(fmt::format("{}: is a directory, not a store file; name a file to create", path));
    }
    if (std::filesystem::is_regular_file(status) && std::filesystem::file_size(path, ec) > 0) {
      throw StoreError(fmt::format("{}: file already exists; use `cohortdb migrate {}` to upgrade it", path, path));
    }
  }
  try {
    auto impl = std::make_unique<Impl>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    Configure(impl->db, false, IsMemory(path));
    ApplyMigrations(impl->db, path, std::nullopt);
    impl->version = LatestVersion();
    return Store(std::move(impl));
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("{}: cannot create store: {}", path, e.what()));
  }
}

void Store::RequireFile(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    throw StoreError(fmt::format("{}: no such store; create it with `cohortdb init {}`", path, path));
  }
  if (std::filesystem::is_directory(status)) {
    throw StoreError(fmt::format("{}: is a directory, not a store file", path));
  }
}

Store Store::Open(const std::string& path, OpenMode mode) {
  if (IsMemory(path)) throw StoreError("an in-memory store can only be created, not opened");
  RequireFile(path);
  const bool read_only = mode == OpenMode::kReadOnly;
  try {
    auto impl = std::make_unique<Impl>(path, read_only ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE);
    impl->read_only = read_only;
    Configure(impl->db, read_only, false);
    impl->version = CheckSchema(impl->db, path);
    if (!read_only && impl->version < LatestVersion()) {
      throw StoreError(fmt::format("{}: store has schema version {}, this cohortdb uses {}: run `cohortdb migrate {}`",
                                   path, impl->version, LatestVersion(), path));
    }
    return Store(std::move(impl));
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("{}: cannot open store: {}", path, e.what()));
  }
}

std::vector<std::string> Store::Migrate(const std::string& path, std::optional<int> target_version) {
  try {
    ConfigureLibraryOnce();
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    Configure(db, false, IsMemory(path));
    return ApplyMigrations(db, path, target_version);
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("{}: cannot migrate store: {}", path, e.what()));
  }
}

SchemaStatus Store::Inspect(const std::string& path) {
  if (!std::filesystem::exists(path)) throw StoreError(fmt::format("{}: no such store", path));
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SchemaStatus status;
    status.current_version = LatestVersion();
    status.store_version = PragmaInt(db, "user_version");
    for (const auto& m : EmbeddedMigrations()) {
      if (m.version > status.store_version) status.pending.emplace_back(m.name);
    }
    return status;
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("{}: cannot read store: {}", path, e.what()));
  }
}

void Store::Exec(std::string_view sql) {
  impl_->Gate();
  try {
    impl_->db.exec(std::string(sql));
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("{}: {}", impl_->path, e.what()));
  }
}

QueryResult Store::Query(std::string_view sql, const std::vector<SqlValue>& params) {
  QueryResult result;
  ForEachRow(sql, params, [&](const std::vector<SqlValue>& row) { result.rows.push_back(row); },
             &result.columns);
  return result;
}

void Store::ForEachRow(std::string_view sql, const std::vector<SqlValue>& params,
                       const std::function<void(const std::vector<SqlValue>&)>& on_row,
                       std::vector<std::string>* columns) {
  impl_->Gate();
  PreparedStatement statement(impl_->db.getHandle(), sql, impl_->path);
  statement.Bind(params);
  if (columns != nullptr) *columns = statement.ColumnNames();
  statement.Run(on_row);
}

ScriptResult Store::GuardedScript(std::string_view sql, bool allow_writes, std::chrono::milliseconds time_limit,
                                  const std::vector<SqlValue>& params) {
  ScriptResult script;
  script.edit_id = GuardedScript(
      sql, allow_writes, time_limit,
      CollectingSink([&](QueryResult&& result) { script.results.push_back(std::move(result)); }), params);
  return script;
}

std::optional<std::int64_t> Store::GuardedScript(std::string_view sql, bool allow_writes,
                                                 std::chrono::milliseconds time_limit, const ResultSink& sink,
                                                 const std::vector<SqlValue>& params) {
  impl_->Gate();
  if (allow_writes && impl_->read_only) {
    throw StoreError(fmt::format("{}: store was opened read-only; cannot run with --write", impl_->path));
  }
  // The savepoint is opened and closed outside the guard, which refuses
  // transaction control inside a writable script.
  sqlite3* db = impl_->db.getHandle();
  const bool transaction = allow_writes;
  if (transaction) Exec("SAVEPOINT cohortdb_user_script");
  // A writable script empties the frame column cache first (rolled back with
  // the script): the cache triggers then delete nothing, so the rows the
  // script changed are its own (data_edit.rows_changed).
  if (transaction && impl_->version >= kFrameColumnVersion &&
      sqlite3_exec(db, "DELETE FROM frame_column", nullptr, nullptr, nullptr) != SQLITE_OK) {
    const int code = sqlite3_errcode(db) & 0xff;
    const std::string message = sqlite3_errmsg(db);
    sqlite3_exec(db, "ROLLBACK TO cohortdb_user_script; RELEASE cohortdb_user_script", nullptr, nullptr, nullptr);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      throw StoreError(fmt::format("{}: the store is busy: another process is writing to it (waited 5 s); try again "
                                   "when it is done; the store is unchanged",
                                   impl_->path));
    }
    throw StoreError(fmt::format("{}: {}; the store is unchanged", impl_->path, message));
  }
  const sqlite3_int64 changes_before = sqlite3_total_changes64(db);
  const int schema_before = transaction ? PragmaInt(impl_->db, "schema_version") : 0;
  try {
    GuardScope scope(impl_->guard, db, allow_writes, time_limit);
    RunScript(db, sql, params, impl_->guard, impl_->path, sink);
  } catch (...) {
    if (transaction) {
      sqlite3_exec(db, "ROLLBACK TO cohortdb_user_script; RELEASE cohortdb_user_script", nullptr, nullptr, nullptr);
    }
    throw;
  }
  if (!transaction) return std::nullopt;
  std::optional<std::int64_t> edit_id;
  try {
    // Rows changed by the script's statements (and their foreign-key
    // actions), before cohortdb's own bookkeeping below.
    const std::int64_t changed = sqlite3_total_changes64(db) - changes_before;
    const bool schema_changed = PragmaInt(impl_->db, "schema_version") != schema_before;
    const std::set<std::string>& written = impl_->guard.written;
    if (impl_->guard.writes_records) RecomputeCoverage();
    if ((changed > 0 || schema_changed) && !written.empty()) {
      const std::string objects = nlohmann::json(written).dump();
      const QueryResult inserted = Query(
          "INSERT INTO data_edit (edited_at, statement, rows_changed, objects, tool_version) "
          "VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?1, ?2, ?3, ?4) RETURNING edit_id",
          {std::string(sql), changed, objects, std::string(kVersion)});
      edit_id = std::get<std::int64_t>(inserted.rows.at(0).at(0));
    }
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK TO cohortdb_user_script; RELEASE cohortdb_user_script", nullptr, nullptr, nullptr);
    throw;
  }
  Exec("RELEASE cohortdb_user_script");
  return edit_id;
}

QueryResult Store::GuardedQuery(std::string_view sql, const std::vector<SqlValue>& params,
                                std::chrono::milliseconds time_limit) {
  impl_->Gate();
  GuardScope scope(impl_->guard, impl_->db.getHandle(), false, time_limit, /*frame=*/true);
  QueryResult result;
  int statements = 0;
  RunScript(impl_->db.getHandle(), sql, params, impl_->guard, impl_->path, CollectingSink([&](QueryResult&& r) {
              ++statements;
              result = std::move(r);
            }, kGuardedResultBytes, "frame"));
  if (statements != 1) {
    throw InputError(fmt::format("frame query must be exactly one SELECT statement, found {}", statements));
  }
  return result;
}

void Store::GuardedQueryRows(std::string_view sql, const ResultSink& sink, std::chrono::milliseconds time_limit) {
  impl_->Gate();
  GuardScope scope(impl_->guard, impl_->db.getHandle(), false, time_limit, /*frame=*/true);
  int statements = 0;
  ResultSink counting = sink;
  counting.begin = [&](const std::vector<std::string>& columns) {
    if (++statements > 1) {
      throw InputError("frame query must be exactly one SELECT statement, found more than one");
    }
    if (sink.begin) sink.begin(columns);
  };
  RunScript(impl_->db.getHandle(), sql, {}, impl_->guard, impl_->path, counting);
  if (statements != 1) {
    throw InputError(fmt::format("frame query must be exactly one SELECT statement, found {}", statements));
  }
}

std::vector<std::string> Store::GuardedColumns(std::string_view sql, const std::string& what) {
  impl_->Gate();
  GuardScope scope(impl_->guard, impl_->db.getHandle(), false, std::chrono::seconds(60), /*frame=*/true);
  return PrepareColumns(impl_->db.getHandle(), sql, impl_->guard, what);
}

Store::Transaction::Transaction(Store& store) : store_(store) { store_.Exec("BEGIN IMMEDIATE"); }

Store::Transaction::~Transaction() {
  if (!done_) sqlite3_exec(store_.database().getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Store::Transaction::Commit() {
  store_.Exec("COMMIT");
  done_ = true;
}

void Store::RefreshPivots(const std::string& study_code) {
  impl_->Gate();
  const PivotDefinition pivot = LoadPivotDefinition(*this, study_code);
  // Joins the caller's transaction when there is one (an import refreshes
  // the views before it commits), else runs in its own.
  const bool own_transaction = sqlite3_get_autocommit(impl_->db.getHandle()) != 0;
  std::optional<Transaction> transaction;
  if (own_transaction) transaction.emplace(*this);
  Exec(fmt::format("DROP VIEW IF EXISTS wide_{0}; DROP VIEW IF EXISTS wide_{0}_visit;", study_code));
  Exec(fmt::format("CREATE VIEW wide_{} AS\n{}", study_code, WideSelectSql(pivot, false, CensorRule::kExclude)));
  Exec(fmt::format("CREATE VIEW wide_{}_visit AS\n{}", study_code, WideSelectSql(pivot, true, CensorRule::kExclude)));
  if (transaction) transaction->Commit();
}

void Store::RecomputeCoverage() {
  std::string sql = "DELETE FROM record_coverage;";
  for (const char* table : {"biomarker", "mri_metric", "outcome", "covariate"}) {
    sql += fmt::format(
        " INSERT OR IGNORE INTO record_coverage (variable_id, visit_key)"
        " SELECT DISTINCT variable_id, ifnull(visit_id, 0) FROM {} WHERE superseded_by IS NULL;",
        table);
  }
  Exec(sql);
}

std::string Store::DataFingerprint() {
  Sha256 hash;
  auto add_row = [&](const std::vector<SqlValue>& row) {
    for (const SqlValue& v : row) {
      const std::string text = FormatSqlValue(v);
      hash.Update(text.data(), text.size());
      hash.Update("|", 1);
    }
    hash.Update("\n", 1);
  };
  ForEachRow(
      "SELECT batch_id, file_sha256, spec_sha256, rows_loaded, rows_rejected, status FROM import_batch "
      "ORDER BY batch_id",
      {}, add_row);
  // Older stores (opened read-only before `migrate`) have no edits.
  if (impl_->version >= kDataEditVersion) {
    ForEachRow(
        "SELECT 'edit', edit_id, edited_at, statement, rows_changed FROM data_edit WHERE " +
            std::string(kDataEditCountsSql) + " ORDER BY edit_id",
        {}, [&](const std::vector<SqlValue>& row) {
          add_row({row[0], row[1], row[2], Sha256Hex(std::get<std::string>(row[3])), row[4]});
        });
  }
  return hash.FinishHex();
}

}  // namespace cohortdb
