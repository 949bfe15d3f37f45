#include "store/frame_column_cache.h"

#include <sqlite3.h>

#include <SQLiteCpp/Database.h>

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"
#include "store/pivot_reader.h"
#include "store/store.h"

namespace cohortdb {
namespace {

static_assert(std::endian::native == std::endian::little, "the cache blobs are little-endian");

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) {
      const std::string message = sqlite3_errmsg(db);
      sqlite3_finalize(stmt_);
      throw StoreError(fmt::format("frame cache: {}", message));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(fmt::format("frame cache: {}", sqlite3_errmsg(db_)));
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string EncodeDictionary(const std::vector<std::string>& dictionary) {
  std::string out;
  for (const std::string& s : dictionary) {
    const auto n = static_cast<std::uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out += s;
  }
  return out;
}

bool DecodeDictionary(const unsigned char* p, std::size_t bytes, std::vector<std::string>& out) {
  std::size_t at = 0;
  while (at < bytes) {
    std::uint32_t n = 0;
    if (bytes - at < sizeof n) return false;
    std::memcpy(&n, p + at, sizeof n);
    at += sizeof n;
    if (bytes - at < n) return false;
    out.emplace_back(reinterpret_cast<const char*>(p + at), n);
    at += n;
  }
  return true;
}

}  // namespace

bool FrameCacheUsable(Store& store) {
  if (store.schema_version() < kFrameColumnVersion) return false;
  const QueryResult r = store.Query(
      "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'frame_cache_clear_*' "
      "AND tbl_name IN ('study', 'site', 'visit', 'participant', 'variable', 'variable_level', 'record_coverage', "
      "'biomarker', 'mri_metric', 'outcome', 'covariate')");
  return std::get<std::int64_t>(r.rows.at(0).at(0)) == kFrameCacheTriggerCount;
}

bool FrameCacheWritable(Store& store) {
  sqlite3* db = store.database().getHandle();
  return !store.read_only() && sqlite3_db_readonly(db, "main") == 0 && sqlite3_get_autocommit(db) != 0 &&
         FrameCacheUsable(store);
}

std::map<std::string, PivotColumnData> LoadCachedColumns(Store& store, std::int64_t study_id, bool per_visit,
                                                         CensorRule rule, const std::vector<std::string>& names,
                                                         std::size_t& rows) {
  std::map<std::string, PivotColumnData> out;
  rows = 0;
  if (names.empty()) return out;
  sqlite3* db = store.database().getHandle();
  Statement st(db,
               "SELECT name, row_count, is_text, is_integer, censored_count, data, dictionary, censored "
               "FROM frame_column WHERE study_id = ?1 AND per_visit = ?2 AND censor_rule = ?3 AND name = ?4");
  sqlite3_stmt* s = st.get();
  const std::string rule_name = CensorRuleName(rule);
  std::optional<std::size_t> common_rows;
  for (const std::string& name : names) {
    if (out.count(name)) continue;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int(s, 2, per_visit ? 1 : 0);
    sqlite3_bind_text(s, 3, rule_name.data(), static_cast<int>(rule_name.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    if (!st.Step()) continue;
    const auto n = static_cast<std::size_t>(sqlite3_column_int64(s, 1));
    if (common_rows && *common_rows != n) continue;  // cannot happen while the triggers hold
    PivotColumnData c;
    c.name = name;
    c.text = sqlite3_column_int(s, 2) != 0;
    c.integer = sqlite3_column_int(s, 3) != 0;
    c.censored_count = static_cast<std::size_t>(sqlite3_column_int64(s, 4));
    const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(s, 5));
    const auto data_bytes = static_cast<std::size_t>(sqlite3_column_bytes(s, 5));
    if (c.text) {
      if (data_bytes != n * sizeof(std::int32_t)) continue;
      c.codes.resize(n);
      if (n > 0) std::memcpy(c.codes.data(), data, data_bytes);
      const auto* dictionary = static_cast<const unsigned char*>(sqlite3_column_blob(s, 6));
      if (!DecodeDictionary(dictionary, static_cast<std::size_t>(sqlite3_column_bytes(s, 6)), c.dictionary)) continue;
    } else {
      if (data_bytes != n * sizeof(double)) continue;
      c.values.resize(n);
      if (n > 0) std::memcpy(c.values.data(), data, data_bytes);
    }
    if (c.censored_count > 0) {
      if (static_cast<std::size_t>(sqlite3_column_bytes(s, 7)) != n) continue;
      const auto* mask = static_cast<const unsigned char*>(sqlite3_column_blob(s, 7));
      c.censored.assign(mask, mask + n);
    }
    common_rows = n;
    out.emplace(name, std::move(c));
  }
  rows = common_rows.value_or(0);
  return out;
}

void FillCachedColumns(Store& store, std::int64_t study_id, bool per_visit, CensorRule rule, const PivotData& data,
                       std::int64_t data_version) {
  if (data.columns.empty()) return;
  sqlite3* db = store.database().getHandle();
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return;  // busy: skip
  try {
    // Another connection's commit since the read: the columns may be stale.
    if (std::get<std::int64_t>(store.Query("PRAGMA data_version").rows.at(0).at(0)) != data_version ||
        !FrameCacheUsable(store)) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return;
    }
    Statement st(db,
                 "INSERT OR REPLACE INTO frame_column (study_id, per_visit, censor_rule, name, row_count, is_text, "
                 "is_integer, censored_count, data, dictionary, censored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt* s = st.get();
    const std::string rule_name = CensorRuleName(rule);
    for (const PivotColumnData& c : data.columns) {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
      sqlite3_bind_int64(s, 1, study_id);
      sqlite3_bind_int(s, 2, per_visit ? 1 : 0);
      sqlite3_bind_text(s, 3, rule_name.data(), static_cast<int>(rule_name.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 4, c.name.data(), static_cast<int>(c.name.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(data.rows));
      sqlite3_bind_int(s, 6, c.text ? 1 : 0);
      sqlite3_bind_int(s, 7, c.integer ? 1 : 0);
      sqlite3_bind_int64(s, 8, static_cast<sqlite3_int64>(c.censored_count));
      std::string dictionary;
      if (c.text) {
        if (c.codes.size() != data.rows) continue;
        sqlite3_bind_blob64(s, 9, c.codes.empty() ? "" : static_cast<const void*>(c.codes.data()),
                            c.codes.size() * sizeof(std::int32_t), SQLITE_STATIC);
        dictionary = EncodeDictionary(c.dictionary);
        sqlite3_bind_blob64(s, 10, dictionary.data(), dictionary.size(), SQLITE_STATIC);
      } else {
        if (c.values.size() != data.rows) continue;
        sqlite3_bind_blob64(s, 9, c.values.empty() ? "" : static_cast<const void*>(c.values.data()),
                            c.values.size() * sizeof(double), SQLITE_STATIC);
      }
      if (c.censored_count > 0) {
        if (c.censored.size() != data.rows) continue;
        sqlite3_bind_blob64(s, 11, c.censored.data(), c.censored.size(), SQLITE_STATIC);
      }
      st.Step();
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void ClearFrameCache(Store& store) {
  if (store.schema_version() < kFrameColumnVersion) return;
  store.Exec("DELETE FROM frame_column");
}

FrameCacheSize FrameCacheStats(Store& store) {
  FrameCacheSize size;
  if (store.schema_version() < kFrameColumnVersion) return size;
  const QueryResult r = store.Query(
      "SELECT count(*), ifnull(sum(length(data) + ifnull(length(dictionary), 0) + ifnull(length(censored), 0)), 0) "
      "FROM frame_column");
  size.columns = std::get<std::int64_t>(r.rows.at(0).at(0));
  size.bytes = std::get<std::int64_t>(r.rows.at(0).at(1));
  return size;
}

FrameCacheSuspension::FrameCacheSuspension(Store& store) : store_(store) {
  if (store_.schema_version() < kFrameColumnVersion) return;
  const QueryResult r = store_.Query(
      "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'frame_cache_clear_*' ORDER BY name");
  std::string drop = "DELETE FROM frame_column;";
  for (const auto& row : r.rows) {
    drop += fmt::format(" DROP TRIGGER \"{}\";", std::get<std::string>(row[0]));
    trigger_sql_.push_back(std::get<std::string>(row[1]));
  }
  store_.Exec(drop);
}

void FrameCacheSuspension::Restore() {
  for (const std::string& sql : trigger_sql_) store_.Exec(sql);
  trigger_sql_.clear();
}

}  // namespace cohortdb
