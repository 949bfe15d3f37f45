#include "store/pivot_reader.h"

#include <sqlite3.h>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"
#include "store/frame_column_cache.h"
#include "store/store.h"

namespace cohortdb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uint8_t kNoValue = 255;
constexpr std::uint8_t kChosenCensored = 1;  // the value is a censored record's substitute
constexpr std::uint8_t kCensoredNull = 2;    // a censored record was left NULL (rule exclude)

const std::set<std::string>& ParticipantColumnNames() {
  static const std::set<std::string> kColumns = {"participant_id", "external_id", "site",  "sex",
                                                 "age_years",      "birth_year",  "arm",   "visit",
                                                 "visit_order"};
  return kColumns;
}

std::string VariableColumnName(const std::string& code) {
  return ParticipantColumnNames().count(code) ? code + "_value" : code;
}

// One column of the pivot and where its values come from.
struct Target {
  std::string name;
  std::string participant_column;             // non-empty: a participant (or visit) column
  const PivotVariable* variable = nullptr;    // else: this variable's records
  std::vector<std::int64_t> visit_keys;       // per participant: coalesce order (0 = participant level)
};

std::vector<Target> Targets(const PivotDefinition& pivot, bool per_visit) {
  std::vector<Target> out;
  for (const char* name : {"participant_id", "external_id", "site", "sex", "age_years", "birth_year", "arm"}) {
    out.push_back({name, name, nullptr, {}});
  }
  if (per_visit) {
    out.push_back({"visit", "visit", nullptr, {}});
    out.push_back({"visit_order", "visit_order", nullptr, {}});
  }
  const bool multi_visit = pivot.visits.size() > 1;
  for (const PivotVariable& v : pivot.variables) {
    if (per_visit) {
      out.push_back({VariableColumnName(v.code), "", &v, {}});
      continue;
    }
    bool has_participant_level = false;
    std::vector<std::int64_t> visits;
    for (const auto& visit : v.visits_with_data) {
      if (visit) {
        visits.push_back(*visit);
      } else {
        has_participant_level = true;
      }
    }
    if (!multi_visit) {
      Target t{VariableColumnName(v.code), "", &v, {0}};
      t.visit_keys.insert(t.visit_keys.end(), visits.begin(), visits.end());
      out.push_back(std::move(t));
      continue;
    }
    if (has_participant_level || visits.empty()) out.push_back({VariableColumnName(v.code), "", &v, {0}});
    for (const auto& [id, code] : pivot.visits) {
      if (std::find(visits.begin(), visits.end(), id) == visits.end()) continue;
      out.push_back({fmt::format("{}_{}", v.code, code), "", &v, {id}});
    }
  }
  return out;
}

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) {
      const std::string message = sqlite3_errmsg(db);
      sqlite3_finalize(stmt_);
      throw StoreError(fmt::format("reading the pivot: {}", message));
    }
    db_ = db;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(fmt::format("reading the pivot: {}", sqlite3_errmsg(db_)));
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// A text column under construction: codes into a first-seen dictionary.
void PutText(PivotColumnData& column, std::unordered_map<std::string, std::int32_t>& index, std::size_t row,
             const unsigned char* text, int bytes) {
  std::string value(reinterpret_cast<const char*>(text), static_cast<std::size_t>(bytes));
  auto [it, added] = index.emplace(std::move(value), static_cast<std::int32_t>(column.dictionary.size()));
  if (added) column.dictionary.push_back(it->first);
  column.codes[row] = it->second;
}

// Maps participant ids (ascending) to their row: a dense table when the ids
// are compact, else a binary search.
class ParticipantIndex {
 public:
  explicit ParticipantIndex(std::vector<std::int64_t> ids) : ids_(std::move(ids)) {
    if (ids_.empty()) return;
    const std::int64_t span = ids_.back() - ids_.front() + 1;
    if (span <= static_cast<std::int64_t>(ids_.size()) * 4 + 1024) {
      dense_.assign(static_cast<std::size_t>(span), -1);
      for (std::size_t i = 0; i < ids_.size(); ++i) {
        dense_[static_cast<std::size_t>(ids_[i] - ids_.front())] = static_cast<std::int64_t>(i);
      }
    }
  }
  // The row of "id", or -1.
  std::int64_t Find(std::int64_t id) const {
    if (ids_.empty()) return -1;
    if (!dense_.empty()) {
      const std::int64_t k = id - ids_.front();
      if (k < 0 || k >= static_cast<std::int64_t>(dense_.size())) return -1;
      return dense_[static_cast<std::size_t>(k)];
    }
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    return it != ids_.end() && *it == id ? it - ids_.begin() : -1;
  }
  std::size_t size() const { return ids_.size(); }

 private:
  std::vector<std::int64_t> ids_;
  std::vector<std::int64_t> dense_;
};

double Substitute(CensorRule rule, bool left, double limit) {
  switch (rule) {
    case CensorRule::kExclude:
      return kNaN;
    case CensorRule::kHalfLimit:
      return left ? limit / 2.0 : limit;
    case CensorRule::kLimitSqrt2:
      return left ? limit / 1.4142135623730951 : limit;
    case CensorRule::kLimit:
      return limit;
  }
  return kNaN;
}

// Where one record lands: a column, a priority (lower wins, as coalesce's
// argument order) and, per visit, which visit row.
struct Slot {
  std::size_t column = 0;
  std::uint8_t priority = 0;
  std::int64_t visit_key = 0;
};

// Keeps SQLite's page cache at 2 MiB while alive and gives its pages back
// after: a scan, or a read or write of the cache's blobs, gains nothing from
// the store's 64 MiB cache, and it would count against the peak memory.
class SmallPageCache {
 public:
  explicit SmallPageCache(Store& store)
      : store_(store), previous_(std::get<std::int64_t>(store.Query("PRAGMA cache_size").rows.at(0).at(0))) {
    store_.Exec("PRAGMA cache_size = -2048");
  }
  ~SmallPageCache() {
    sqlite3* handle = store_.database().getHandle();
    sqlite3_db_release_memory(handle);
    const std::string sql = fmt::format("PRAGMA cache_size = {}", previous_);
    sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, nullptr);
  }
  SmallPageCache(const SmallPageCache&) = delete;
  SmallPageCache& operator=(const SmallPageCache&) = delete;

 private:
  Store& store_;
  std::int64_t previous_;
};

}  // namespace

std::vector<std::string> PivotColumnNames(const PivotDefinition& pivot, bool per_visit) {
  (void)WideSelectSql(pivot, per_visit, CensorRule::kExclude);  // refuses two columns of one name
  std::vector<std::string> names;
  for (const Target& t : Targets(pivot, per_visit)) names.push_back(t.name);
  return names;
}

PivotData ReadPivot(Store& store, const PivotDefinition& pivot, bool per_visit, CensorRule rule,
                    const std::optional<std::vector<std::string>>& wanted, PivotCacheUse cache) {
  if (cache == PivotCacheUse::kBypass || !FrameCacheUsable(store)) {
    return ScanPivot(store, pivot, per_visit, rule, wanted);
  }
  // The pivot's columns that are wanted, in the view's order.
  std::vector<std::string> names;
  for (const std::string& name : PivotColumnNames(pivot, per_visit)) {
    if (!wanted || std::find(wanted->begin(), wanted->end(), name) != wanted->end()) names.push_back(name);
  }
  sqlite3* db = store.database().getHandle();
  const bool writable = FrameCacheWritable(store);
  SmallPageCache small_cache(store);  // the blobs pass through it too
  // One snapshot for the cached columns and the scan of the others.
  const bool own_transaction = sqlite3_get_autocommit(db) != 0;
  if (own_transaction) store.Exec("BEGIN");
  struct EndRead {
    sqlite3* db;
    bool active;
    void End() {
      if (active) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      active = false;
    }
    ~EndRead() { End(); }
  } end_read{db, own_transaction};
  std::size_t cached_rows = 0;
  std::map<std::string, PivotColumnData> cached =
      LoadCachedColumns(store, pivot.study_id, per_visit, rule, names, cached_rows);
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    if (!cached.count(name)) missing.push_back(name);
  }
  PivotData data;
  if (!missing.empty() || names.empty()) {
    data = ScanPivot(store, pivot, per_visit, rule, missing);
    if (!cached.empty() && data.rows != cached_rows) {  // cannot happen while the triggers hold
      cached.clear();
      missing = names;
      data = ScanPivot(store, pivot, per_visit, rule, names);
    }
  } else {
    data.rows = cached_rows;
  }
  const std::int64_t data_version = std::get<std::int64_t>(store.Query("PRAGMA data_version").rows.at(0).at(0));
  end_read.End();
  if (writable && own_transaction && !missing.empty()) {
    FillCachedColumns(store, pivot.study_id, per_visit, rule, data, data_version);
  }
  if (cached.empty()) return data;
  PivotData out;
  out.rows = data.rows;
  std::size_t scanned = 0;
  for (const std::string& name : names) {
    const auto it = cached.find(name);
    if (it != cached.end()) {
      out.columns.push_back(std::move(it->second));
    } else {
      out.columns.push_back(std::move(data.columns.at(scanned++)));
    }
  }
  return out;
}

PivotData ScanPivot(Store& store, const PivotDefinition& pivot, bool per_visit, CensorRule rule,
                    const std::optional<std::vector<std::string>>& wanted) {
  (void)WideSelectSql(pivot, per_visit, rule);  // refuses two columns of one name, as the view does
  std::vector<Target> targets;
  for (Target& t : Targets(pivot, per_visit)) {
    if (wanted && std::find(wanted->begin(), wanted->end(), t.name) == wanted->end()) continue;
    targets.push_back(std::move(t));
  }
  sqlite3* db = store.database().getHandle();
  // One snapshot for every scan below.
  const bool own_transaction = sqlite3_get_autocommit(db) != 0;
  if (own_transaction) store.Exec("BEGIN");
  struct EndRead {
    Store& store;
    bool active;
    ~EndRead() {
      if (active) sqlite3_exec(store.database().getHandle(), "COMMIT", nullptr, nullptr, nullptr);
    }
  } end_read{store, own_transaction};

  // A scan gains nothing from a large page cache: keep it small while the
  // reader runs and give its pages back after (the store's default is 64 MiB).
  SmallPageCache small_cache(store);
  PivotData data;
  data.columns.resize(targets.size());
  for (std::size_t c = 0; c < targets.size(); ++c) data.columns[c].name = targets[c].name;

  // Participants (and, per visit, the study's visits), in the view's order.
  const std::vector<std::pair<std::int64_t, std::string>>& visits = pivot.visits;
  const std::size_t visit_count = per_visit ? visits.size() : 1;
  std::map<std::int64_t, std::size_t> visit_row;  // visit_id -> offset within a participant's rows
  for (std::size_t k = 0; k < visits.size(); ++k) visit_row[visits[k].first] = k;

  static const std::vector<std::string> kParticipantSql = {
      "p.participant_id", "p.external_id", "s.code", "p.sex", "p.age_years", "p.birth_year", "p.arm"};
  static const std::vector<std::string> kParticipantNames = {"participant_id", "external_id", "site", "sex",
                                                             "age_years",      "birth_year",  "arm"};
  std::vector<std::int64_t> ids;
  {
    // Participants in rowid order (a scan, no sort); sites from their own
    // small table, not joined per row.
    std::unordered_map<std::int64_t, std::string> site_code;
    for (const auto& row : store.Query("SELECT site_id, code FROM site WHERE study_id = ?", {pivot.study_id}).rows) {
      site_code.emplace(std::get<std::int64_t>(row[0]), std::get<std::string>(row[1]));
    }
    std::string sql = "SELECT p.participant_id";
    for (const std::string& e : kParticipantSql) sql += ", " + (e == "s.code" ? std::string("p.site_id") : e);
    sql += fmt::format(" FROM participant p NOT INDEXED WHERE p.study_id = {} ORDER BY p.participant_id",
                       pivot.study_id);
    // Which participant columns are wanted, and where.
    std::vector<std::optional<std::size_t>> where(kParticipantNames.size());
    for (std::size_t c = 0; c < targets.size(); ++c) {
      const auto it = std::find(kParticipantNames.begin(), kParticipantNames.end(), targets[c].participant_column);
      if (it != kParticipantNames.end()) where[static_cast<std::size_t>(it - kParticipantNames.begin())] = c;
    }
    std::vector<std::unordered_map<std::string, std::int32_t>> text_index(targets.size());
    Statement st(db, sql);
    std::size_t participant = 0;
    while (st.Step()) {
      ids.push_back(sqlite3_column_int64(st.get(), 0));
      for (std::size_t k = 0; k < kParticipantNames.size(); ++k) {
        if (!where[k]) continue;
        PivotColumnData& column = data.columns[*where[k]];
        const int col = static_cast<int>(k) + 1;
        int type = sqlite3_column_type(st.get(), col);
        const std::string* site = nullptr;
        if (k == 2 && type != SQLITE_NULL) {  // site: the code of site_id
          const auto found = site_code.find(sqlite3_column_int64(st.get(), col));
          if (found != site_code.end()) site = &found->second;
          type = site != nullptr ? SQLITE_TEXT : SQLITE_NULL;
        }
        for (std::size_t v = 0; v < visit_count; ++v) {
          const std::size_t row = participant * visit_count + v;
          if (column.values.size() <= row) column.values.resize(row + 1, kNaN);
          if (column.codes.size() <= row) column.codes.resize(row + 1, -1);
          if (type == SQLITE_NULL) continue;
          if (type == SQLITE_TEXT) {
            column.text = true;
            if (site != nullptr) {
              PutText(column, text_index[*where[k]], row, reinterpret_cast<const unsigned char*>(site->data()),
                      static_cast<int>(site->size()));
            } else {
              PutText(column, text_index[*where[k]], row, sqlite3_column_text(st.get(), col),
                      sqlite3_column_bytes(st.get(), col));
            }
          } else {
            column.values[row] = sqlite3_column_double(st.get(), col);
            if (type == SQLITE_INTEGER) column.integer = true;
          }
        }
      }
      ++participant;
    }
  }
  const ParticipantIndex index(ids);
  data.rows = ids.size() * visit_count;
  if (per_visit && visits.empty()) data.rows = 0;

  // Size every column; visit columns are known from the row position.
  for (std::size_t c = 0; c < targets.size(); ++c) {
    PivotColumnData& column = data.columns[c];
    column.values.resize(data.rows, kNaN);
    column.codes.resize(data.rows, -1);
    if (targets[c].participant_column == "participant_id" || targets[c].participant_column == "birth_year") {
      column.integer = true;
    }
    if (targets[c].participant_column == "visit") {
      column.text = true;
      for (const auto& [id, code] : visits) column.dictionary.push_back(code);
      for (std::size_t r = 0; r < data.rows; ++r) column.codes[r] = static_cast<std::int32_t>(r % visit_count);
    } else if (targets[c].participant_column == "visit_order") {
      column.integer = true;
      std::vector<double> order;
      for (const auto& row :
           store.Query("SELECT visit_order FROM visit WHERE study_id = ? ORDER BY visit_order", {pivot.study_id}).rows) {
        order.push_back(static_cast<double>(std::get<std::int64_t>(row[0])));
      }
      for (std::size_t r = 0; r < data.rows; ++r) column.values[r] = order[r % visit_count];
    }
  }

  // Record scans: one per record table that holds a wanted variable.
  std::map<std::string, std::vector<std::size_t>> by_table;  // table -> target columns
  for (std::size_t c = 0; c < targets.size(); ++c) {
    if (targets[c].variable) by_table[targets[c].variable->table].push_back(c);
  }
  std::map<std::string, std::size_t> table_variables;  // variables of every study per record table
  for (const auto& row : store.Query("SELECT record_kind, count(*) FROM variable GROUP BY record_kind").rows) {
    table_variables[std::get<std::string>(row[0])] = static_cast<std::size_t>(std::get<std::int64_t>(row[1]));
  }
  std::vector<std::vector<std::uint8_t>> priority(targets.size());
  std::vector<std::vector<std::uint8_t>> flags(targets.size());
  for (const auto& [table, columns] : by_table) {
    static const std::set<std::string> kTables = {"biomarker", "mri_metric", "outcome", "covariate"};
    if (!kTables.count(table)) throw StoreError(fmt::format("reading the pivot: unknown record table '{}'", table));
    std::unordered_map<std::int64_t, std::vector<Slot>> slots;  // variable_id -> where its records go
    std::set<std::int64_t> variable_ids;
    bool any_text = false;
    for (std::size_t c : columns) {
      const Target& t = targets[c];
      variable_ids.insert(t.variable->variable_id);
      any_text = any_text || t.variable->text;
      priority[c].assign(data.rows, kNoValue);
      flags[c].assign(data.rows, 0);
      if (per_visit) {
        slots[t.variable->variable_id].push_back({c, 0, -1});  // -1: the record's own visit, else all
      } else {
        for (std::size_t k = 0; k < t.visit_keys.size(); ++k) {
          slots[t.variable->variable_id].push_back({c, static_cast<std::uint8_t>(k), t.visit_keys[k]});
        }
      }
    }
    std::string id_list;
    for (std::int64_t id : variable_ids) {
      if (!id_list.empty()) id_list += ',';
      id_list += std::to_string(id);
    }
    const std::string sql = fmt::format(
        "SELECT participant_id, variable_id, visit_id, value, detection_limit, censoring, {} "
        "FROM {} NOT INDEXED WHERE superseded_by IS NULL{}",
        any_text ? "value_text" : "NULL", table,
        // Every variable of the table: no filter to evaluate per row.
        variable_ids.size() == table_variables[table] ? "" : fmt::format(" AND variable_id IN ({})", id_list));
    std::vector<std::unordered_map<std::string, std::int32_t>> text_index(targets.size());
    Statement st(db, sql);
    sqlite3_stmt* s = st.get();
    while (st.Step()) {
      const std::int64_t p = index.Find(sqlite3_column_int64(s, 0));
      if (p < 0) continue;
      const auto found = slots.find(sqlite3_column_int64(s, 1));
      if (found == slots.end()) continue;
      const std::int64_t visit_key = sqlite3_column_int64(s, 2);  // NULL reads as 0
      for (const Slot& slot : found->second) {
        PivotColumnData& column = data.columns[slot.column];
        const bool text_variable = targets[slot.column].variable->text;
        // The rows this record fills, and its priority there.
        std::size_t first = 0, last = 0;
        std::uint8_t prio = slot.priority;
        if (per_visit) {
          if (visit_key == 0) {
            first = static_cast<std::size_t>(p) * visit_count;
            last = first + visit_count;
            prio = 1;  // coalesce(visit record, participant record)
          } else {
            const auto v = visit_row.find(visit_key);
            if (v == visit_row.end()) continue;
            first = static_cast<std::size_t>(p) * visit_count + v->second;
            last = first + 1;
            prio = 0;
          }
        } else {
          if (visit_key != slot.visit_key) continue;
          first = static_cast<std::size_t>(p);
          last = first + 1;
        }
        // The value as the view's expression gives it (NULL: no candidate).
        bool is_null = true;
        bool censored = false;
        double value = kNaN;
        const unsigned char* text = nullptr;
        int text_bytes = 0;
        if (text_variable) {
          if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
            text = sqlite3_column_text(s, 6);
            text_bytes = sqlite3_column_bytes(s, 6);
            is_null = false;
          }
        } else if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
          value = sqlite3_column_double(s, 3);
          is_null = false;
        } else if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
          censored = true;
          const auto* censoring = reinterpret_cast<const char*>(sqlite3_column_text(s, 5));
          const bool left = censoring != nullptr && std::string_view(censoring) == "left";
          value = Substitute(rule, left, sqlite3_column_double(s, 4));
          is_null = std::isnan(value);
        }
        for (std::size_t row = first; row < last; ++row) {
          if (is_null) {
            if (censored) flags[slot.column][row] |= kCensoredNull;
            continue;
          }
          if (priority[slot.column][row] <= prio) continue;
          priority[slot.column][row] = prio;
          if (text_variable) {
            column.text = true;
            PutText(column, text_index[slot.column], row, text, text_bytes);
          } else {
            column.values[row] = value;
          }
          flags[slot.column][row] = static_cast<std::uint8_t>(
              (flags[slot.column][row] & kCensoredNull) | (censored ? kChosenCensored : 0));
        }
      }
    }
  }
  for (std::size_t c = 0; c < targets.size(); ++c) {
    PivotColumnData& column = data.columns[c];
    if (!column.text) column.codes.clear();
    if (column.text) column.values.clear();
    if (flags[c].empty()) continue;
    std::vector<std::uint8_t> censored(data.rows, 0);
    for (std::size_t r = 0; r < data.rows; ++r) {
      const bool has_value = priority[c][r] != kNoValue;
      const bool is_censored = has_value ? (flags[c][r] & kChosenCensored) != 0 : (flags[c][r] & kCensoredNull) != 0;
      if (is_censored) {
        censored[r] = 1;
        ++column.censored_count;
      }
    }
    if (column.censored_count > 0) column.censored = std::move(censored);
  }
  return data;
}

namespace {

// The PivotData behind each shadow table, by connection and table name:
// xCreate finds its data here (a table name is all SQL can give it).
std::mutex& ShadowMutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<std::pair<sqlite3*, std::string>, const PivotData*>& ShadowData() {
  static std::map<std::pair<sqlite3*, std::string>, const PivotData*> data;
  return data;
}

struct ShadowTable {
  sqlite3_vtab base{};
  const PivotData* data = nullptr;
};

struct ShadowCursor {
  sqlite3_vtab_cursor base{};
  std::size_t row = 0;
};

const PivotData& DataOf(sqlite3_vtab_cursor* cursor) {
  return *reinterpret_cast<ShadowTable*>(cursor->pVtab)->data;
}

int ShadowConnect(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** table, char** error) {
  const PivotData* data = nullptr;
  if (argc >= 3) {
    const std::lock_guard<std::mutex> lock(ShadowMutex());
    const auto found = ShadowData().find({db, argv[2]});
    if (found != ShadowData().end()) data = found->second;
  }
  if (data == nullptr) {
    *error = sqlite3_mprintf("cohortdb_pivot tables are made by cohortdb's frame reader only");
    return SQLITE_ERROR;
  }
  std::string declaration = "CREATE TABLE x(";
  for (std::size_t c = 0; c < data->columns.size(); ++c) {
    if (c > 0) declaration += ", ";
    declaration += '"';
    for (const char ch : data->columns[c].name) {
      if (ch == '"') declaration += '"';  // a quote inside an identifier is doubled
      declaration += ch;
    }
    declaration += '"';
  }
  declaration += ")";
  const int rc = sqlite3_declare_vtab(db, declaration.c_str());
  if (rc != SQLITE_OK) return rc;
  auto* shadow = new ShadowTable;
  shadow->data = data;
  *table = &shadow->base;
  return SQLITE_OK;
}

int ShadowBestIndex(sqlite3_vtab* table, sqlite3_index_info* info) {
  const auto rows = static_cast<double>(reinterpret_cast<ShadowTable*>(table)->data->rows);
  info->estimatedCost = rows;
  info->estimatedRows = static_cast<sqlite3_int64>(rows);
  return SQLITE_OK;
}

int ShadowDisconnect(sqlite3_vtab* table) {
  delete reinterpret_cast<ShadowTable*>(table);
  return SQLITE_OK;
}

int ShadowOpen(sqlite3_vtab*, sqlite3_vtab_cursor** cursor) {
  *cursor = &(new ShadowCursor)->base;
  return SQLITE_OK;
}

int ShadowClose(sqlite3_vtab_cursor* cursor) {
  delete reinterpret_cast<ShadowCursor*>(cursor);
  return SQLITE_OK;
}

int ShadowFilter(sqlite3_vtab_cursor* cursor, int, const char*, int, sqlite3_value**) {
  reinterpret_cast<ShadowCursor*>(cursor)->row = 0;
  return SQLITE_OK;
}

int ShadowNext(sqlite3_vtab_cursor* cursor) {
  ++reinterpret_cast<ShadowCursor*>(cursor)->row;
  return SQLITE_OK;
}

int ShadowEof(sqlite3_vtab_cursor* cursor) {
  return reinterpret_cast<ShadowCursor*>(cursor)->row >= DataOf(cursor).rows ? 1 : 0;
}

int ShadowColumn(sqlite3_vtab_cursor* cursor, sqlite3_context* context, int index) {
  const std::size_t row = reinterpret_cast<ShadowCursor*>(cursor)->row;
  const PivotColumnData& column = DataOf(cursor).columns[static_cast<std::size_t>(index)];
  if (column.text) {
    const std::int32_t code = column.codes[row];
    if (code < 0) {
      sqlite3_result_null(context);
    } else {
      const std::string& text = column.dictionary[static_cast<std::size_t>(code)];
      sqlite3_result_text(context, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    }
    return SQLITE_OK;
  }
  const double v = column.values[row];
  if (std::isnan(v)) {
    sqlite3_result_null(context);
  } else if (column.integer) {
    sqlite3_result_int64(context, static_cast<sqlite3_int64>(v));
  } else {
    sqlite3_result_double(context, v);
  }
  return SQLITE_OK;
}

int ShadowRowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<ShadowCursor*>(cursor)->row) + 1;
  return SQLITE_OK;
}

const sqlite3_module& ShadowModule() {
  static const sqlite3_module module = [] {
    sqlite3_module m{};
    m.xCreate = ShadowConnect;
    m.xConnect = ShadowConnect;
    m.xBestIndex = ShadowBestIndex;
    m.xDisconnect = ShadowDisconnect;
    m.xDestroy = ShadowDisconnect;
    m.xOpen = ShadowOpen;
    m.xClose = ShadowClose;
    m.xFilter = ShadowFilter;
    m.xNext = ShadowNext;
    m.xEof = ShadowEof;
    m.xColumn = ShadowColumn;
    m.xRowid = ShadowRowid;
    return m;
  }();
  return module;
}

}  // namespace

ShadowPivots::~ShadowPivots() {
  sqlite3* db = store_.database().getHandle();
  for (const std::string& view : views_) {
    const std::string sql = fmt::format("DROP VIEW IF EXISTS temp.\"{}\"", view);
    sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  for (const std::string& table : tables_) {
    const std::string sql = fmt::format("DROP TABLE IF EXISTS temp.\"{}\"", table);
    sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    const std::lock_guard<std::mutex> lock(ShadowMutex());
    ShadowData().erase({db, table});
  }
}

void ShadowPivots::AddRuleView(const std::string& view_name, const std::string& study, bool per_visit,
                               CensorRule rule) {
  store_.Exec(fmt::format("CREATE TEMP VIEW \"{}\" AS {}", view_name, WideSelectSql(store_, study, per_visit, rule)));
  views_.push_back(view_name);
}

const PivotData& ShadowPivots::Add(const std::string& view_name, PivotData data) {
  if (data.columns.empty()) throw StoreError(fmt::format("shadowing {}: no columns", view_name));
  sqlite3* db = store_.database().getHandle();
  // Registering again replaces the module (the same functions).
  if (sqlite3_create_module(db, "cohortdb_pivot", &ShadowModule(), nullptr) != SQLITE_OK) {
    throw StoreError(fmt::format("shadowing {}: {}", view_name, sqlite3_errmsg(db)));
  }
  store_.Exec(fmt::format("DROP TABLE IF EXISTS temp.\"{}\"", view_name));
  data_.push_back(std::make_unique<PivotData>(std::move(data)));
  {
    const std::lock_guard<std::mutex> lock(ShadowMutex());
    ShadowData()[{db, view_name}] = data_.back().get();
  }
  tables_.push_back(view_name);
  store_.Exec(fmt::format("CREATE VIRTUAL TABLE temp.\"{}\" USING cohortdb_pivot", view_name));
  return *data_.back();
}

}  // namespace cohortdb
