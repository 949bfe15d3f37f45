#include "store/provenance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "common/error.h"
#include "common/version.h"
#include "store/store.h"

namespace cohortdb {
namespace {

using Json = nlohmann::ordered_json;

SqlValue Real(double value) {
  if (std::isnan(value)) return std::monostate{};
  return value;
}

SqlValue Probability(double value) {
  if (std::isnan(value)) return std::monostate{};
  // Rounding can leave an adjusted p a hair above 1; the column's CHECK
  // would refuse it.
  if (value > 1.0 && value < 1.0 + 1e-9) return 1.0;
  return value;
}

SqlValue OptionalInt(const std::optional<std::int64_t>& value) {
  if (!value) return std::monostate{};
  return *value;
}

SqlValue JsonText(const Json& value, bool null_as_empty_object) {
  if (value.is_null()) {
    if (null_as_empty_object) return std::string("{}");
    return std::monostate{};
  }
  return value.dump();
}

// The current time minus "elapsed_ms", as 2026-11-22T04:48:24.123Z.
std::string StartedAt(double elapsed_ms) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto start = now - duration_cast<system_clock::duration>(duration<double, std::milli>(elapsed_ms));
  const auto ms = duration_cast<milliseconds>(start.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms % 1000);
}

double AsReal(const SqlValue& value) {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  return std::numeric_limits<double>::quiet_NaN();
}

std::optional<std::int64_t> AsOptionalInt(const SqlValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (const auto* d = std::get_if<double>(&value)) return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

std::string AsText(const SqlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (std::holds_alternative<std::monostate>(value)) return "";
  return FormatSqlValue(value);
}

Json AsJson(const SqlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return Json::parse(*s, nullptr, false);
  return Json::object();
}

// The columns RunFromRow reads; a store older than data_edit has no
// data_edit_id.
std::string RunColumns(const Store& store) {
  return fmt::format(
      "SELECT r.run_id, r.command, r.parameters, r.recipe_id, c.name, c.version, r.recipe_step, "
      "r.data_fingerprint, r.tool_version, r.started_at, r.elapsed_ms, r.rows_used, r.rows_excluded, "
      "r.min_cell, r.summary, r.diagnostics, {} "
      "FROM analysis_run r LEFT JOIN recipe c ON c.recipe_id = r.recipe_id ",
      store.schema_version() >= kDataEditVersion ? "r.data_edit_id" : "NULL");
}

AnalysisRunInfo RunFromRow(const std::vector<SqlValue>& row) {
  AnalysisRunInfo info;
  info.run_id = *AsOptionalInt(row[0]);
  info.command = AsText(row[1]);
  info.parameters = AsJson(row[2]);
  info.recipe_id = AsOptionalInt(row[3]);
  info.recipe_name = AsText(row[4]);
  info.recipe_version = AsOptionalInt(row[5]);
  info.recipe_step = AsText(row[6]);
  info.data_fingerprint = AsText(row[7]);
  info.tool_version = AsText(row[8]);
  info.started_at = AsText(row[9]);
  info.elapsed_ms = AsReal(row[10]);
  info.rows_used = AsOptionalInt(row[11]).value_or(0);
  info.rows_excluded = AsOptionalInt(row[12]).value_or(0);
  info.min_cell = AsOptionalInt(row[13]);
  info.summary = AsJson(row[14]);
  info.diagnostics = AsJson(row[15]);
  info.data_edit_id = AsOptionalInt(row[16]);
  return info;
}

// The fields of a row compared by a diff, in the order they are reported.
std::vector<std::pair<std::string, std::optional<double>>> Fields(const ResultRow& row) {
  auto value = [](double v) -> std::optional<double> {
    if (std::isnan(v)) return std::nullopt;
    return v;
  };
  std::vector<std::pair<std::string, std::optional<double>>> fields = {
      {"estimate", value(row.estimate)},   {"std_error", value(row.std_error)},
      {"statistic", value(row.statistic)}, {"p_value", value(row.p_value)},
      {"conf_low", value(row.conf_low)},   {"conf_high", value(row.conf_high)},
  };
  fields.emplace_back("n", row.n ? std::optional<double>(static_cast<double>(*row.n)) : std::nullopt);
  if (row.extra.is_object()) {
    for (const auto& [key, v] : row.extra.items()) {
      if (v.is_number()) fields.emplace_back(key, v.get<double>());
      if (v.is_null()) fields.emplace_back(key, std::nullopt);
    }
  }
  return fields;
}

// The names a list parameter holds: each text split at commas outside
// parentheses, blanks trimmed (as analysis::SplitList does).
std::vector<std::string> Names(const Json& value) {
  std::vector<std::string> names;
  auto split = [&](const std::string& text) {
    std::size_t start = 0;
    int depth = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (i < text.size() && text[i] == '(') ++depth;
      if (i < text.size() && text[i] == ')') --depth;
      if (i == text.size() || (text[i] == ',' && depth == 0)) {
        std::string item = text.substr(start, i - start);
        const auto first = item.find_first_not_of(" \t");
        const auto last = item.find_last_not_of(" \t");
        if (first != std::string::npos) names.push_back(item.substr(first, last - first + 1));
        start = i + 1;
      }
    }
  };
  if (value.is_string()) split(value.get<std::string>());
  for (const Json& item : value.is_array() ? value : Json::array()) split(item.get<std::string>());
  return names;
}

bool IsTextList(const Json& value) {
  return value.is_array() && std::all_of(value.begin(), value.end(), [](const Json& v) { return v.is_string(); });
}

// Equal parameters: equal JSON, or a list and a list (or text) of the same
// names.
bool SameParameter(const Json& a, const Json& b) {
  if (a == b) return true;
  const bool a_names = IsTextList(a) || a.is_string();
  const bool b_names = IsTextList(b) || b.is_string();
  if (!a_names || !b_names || (!IsTextList(a) && !IsTextList(b))) return false;
  return Names(a) == Names(b);
}

struct RowKey {
  std::string section, stratum, term;
  bool operator<(const RowKey& o) const {
    return std::tie(section, stratum, term) < std::tie(o.section, o.stratum, o.term);
  }
};

// Keys of a run's rows in order, numbering repeated keys ("term #2").
std::vector<RowKey> KeysOf(const std::vector<ResultRow>& rows) {
  std::map<RowKey, int> seen;
  std::vector<RowKey> keys;
  keys.reserve(rows.size());
  for (const ResultRow& row : rows) {
    RowKey key{row.section, row.stratum, row.term};
    const int count = ++seen[key];
    if (count > 1) key.term = fmt::format("{} #{}", row.term, count);
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

bool SameValue(const std::optional<double>& a, const std::optional<double>& b, double tolerance) {
  if (!a || !b) return !a && !b;
  if (*a == *b) return true;
  if (!(tolerance > 0) || !std::isfinite(*a) || !std::isfinite(*b)) return false;
  const double scale = std::max(std::fabs(*a), std::fabs(*b));
  const double difference = std::fabs(*a - *b);
  return scale > tolerance ? difference / scale <= tolerance : difference <= tolerance;
}

std::vector<DataEdit> DataEditsBetween(Store& store, std::optional<std::int64_t> after,
                                       std::optional<std::int64_t> upto) {
  std::vector<DataEdit> edits;
  if (store.schema_version() < kDataEditVersion) return edits;
  store.ForEachRow(
      "SELECT edit_id, edited_at, statement, rows_changed, objects FROM data_edit WHERE edit_id > ?1 AND "
      "edit_id <= ?2 AND " + std::string(kDataEditCountsSql) + " ORDER BY edit_id",
      {after.value_or(0), upto.value_or(0)}, [&](const std::vector<SqlValue>& row) {
        DataEdit edit;
        edit.edit_id = *AsOptionalInt(row[0]);
        edit.edited_at = AsText(row[1]);
        edit.statement = AsText(row[2]);
        edit.rows_changed = AsOptionalInt(row[3]).value_or(0);
        const Json objects = AsJson(row[4]);
        for (const Json& o : objects.is_array() ? objects : Json::array()) {
          if (o.is_string()) edit.objects.push_back(o.get<std::string>());
        }
        edits.push_back(std::move(edit));
      });
  return edits;
}

std::int64_t RecordAnalysisRun(Store& store, const AnalysisResultSet& result,
                               std::optional<std::int64_t> recipe_id, const std::string& recipe_step,
                               double elapsed_ms) {
  if (result.command.empty()) throw StoreError("cannot record an analysis run without a command name");
  const std::string fingerprint = store.DataFingerprint();
  Store::Transaction transaction(store);
  const QueryResult inserted = store.Query(
      "INSERT INTO analysis_run (command, parameters, recipe_id, recipe_step, data_fingerprint, "
      "tool_version, "
      "started_at, elapsed_ms, rows_used, rows_excluded, min_cell, summary, diagnostics, data_edit_id) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, (SELECT max(edit_id) FROM data_edit)) "
      "RETURNING run_id",
      {result.command, JsonText(result.parameters, true), OptionalInt(recipe_id),
       recipe_step.empty() ? SqlValue(std::monostate{}) : SqlValue(recipe_step), fingerprint,
       std::string(kVersion), StartedAt(elapsed_ms), std::max(0.0, elapsed_ms), result.rows_used,
       result.rows_excluded, OptionalInt(result.min_cell), JsonText(result.summary, false),
       JsonText(result.diagnostics, false)});
  const std::int64_t run_id = std::get<std::int64_t>(inserted.rows.at(0).at(0));
  std::int64_t index = 0;
  for (const ResultRow& row : result.rows) {
    // The label is kept in extra (key "label"; LoadAnalysisRun moves it
    // back), so stores of every schema version hold it.
    Json extra = row.extra.is_object() ? row.extra : Json::object();
    if (!row.label.empty()) extra["label"] = row.label;
    store.Query(
        "INSERT INTO analysis_result (run_id, row_index, section, stratum, term, estimate, std_error, "
        "statistic, "
        "p_value, conf_low, conf_high, n, extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
        "?13)",
        {run_id, index++, row.section,
         row.stratum.empty() ? SqlValue(std::monostate{}) : SqlValue(row.stratum), row.term,
         Real(row.estimate), Real(row.std_error), Real(row.statistic), Probability(row.p_value),
         Real(row.conf_low), Real(row.conf_high), OptionalInt(row.n),
         extra.empty() ? SqlValue(std::monostate{}) : JsonText(extra, false)});
  }
  transaction.Commit();
  return run_id;
}

std::vector<AnalysisRunInfo> ListAnalysisRuns(Store& store) {
  std::vector<AnalysisRunInfo> runs;
  store.ForEachRow(RunColumns(store) + "ORDER BY r.run_id", {},
                   [&](const std::vector<SqlValue>& row) { runs.push_back(RunFromRow(row)); });
  return runs;
}

std::optional<StoredRun> LoadAnalysisRun(Store& store, std::int64_t run_id) {
  const QueryResult found = store.Query(RunColumns(store) + "WHERE r.run_id = ?1", {run_id});
  if (found.rows.empty()) return std::nullopt;
  StoredRun run;
  run.info = RunFromRow(found.rows.front());
  store.ForEachRow(
      "SELECT section, stratum, term, estimate, std_error, statistic, p_value, conf_low, conf_high, n, extra "
      "FROM analysis_result WHERE run_id = ?1 ORDER BY row_index",
      {run_id}, [&](const std::vector<SqlValue>& r) {
        ResultRow row;
        row.section = AsText(r[0]);
        row.stratum = AsText(r[1]);
        row.term = AsText(r[2]);
        row.estimate = AsReal(r[3]);
        row.std_error = AsReal(r[4]);
        row.statistic = AsReal(r[5]);
        row.p_value = AsReal(r[6]);
        row.conf_low = AsReal(r[7]);
        row.conf_high = AsReal(r[8]);
        row.n = AsOptionalInt(r[9]);
        row.extra = AsJson(r[10]);
        if (row.extra.is_object() && row.extra.contains("label") && row.extra["label"].is_string()) {
          row.label = row.extra["label"].get<std::string>();
          row.extra.erase("label");
        }
        run.rows.push_back(std::move(row));
      });
  return run;
}

RunDiff DiffRuns(const StoredRun& a, const StoredRun& b, double tolerance) {
  if (a.info.command != b.info.command) {
    throw InputError(fmt::format(
        "cannot diff run {} ({}) with run {} ({}): --diff compares two runs of the same analysis command",
        a.info.run_id, a.info.command, b.info.run_id, b.info.command));
  }
  RunDiff diff;
  diff.run_a = a.info;
  diff.run_b = b.info;
  diff.fingerprint_changed = a.info.data_fingerprint != b.info.data_fingerprint;
  diff.tool_version_changed = a.info.tool_version != b.info.tool_version;

  const Json& pa = a.info.parameters.is_object() ? a.info.parameters : Json::object();
  const Json& pb = b.info.parameters.is_object() ? b.info.parameters : Json::object();
  for (const auto& [key, value] : pa.items()) {
    auto it = pb.find(key);
    if (it == pb.end()) {
      diff.parameters.push_back({key, value, Json()});
    } else if (!SameParameter(value, *it)) {
      diff.parameters.push_back({key, value, *it});
    }
  }
  for (const auto& [key, value] : pb.items()) {
    if (!pa.contains(key)) diff.parameters.push_back({key, Json(), value});
  }

  // Reference-level rows carry no numbers, and runs recorded before labels
  // have none: they take no part in the comparison.
  const auto numbered = [](const std::vector<ResultRow>& rows) {
    std::vector<ResultRow> out;
    for (const ResultRow& r : rows) {
      if (!(r.extra.is_object() && r.extra.contains("reference_row") && r.extra["reference_row"] == true))
        out.push_back(r);
    }
    return out;
  };
  const std::vector<ResultRow> rows_of_a = numbered(a.rows), rows_of_b = numbered(b.rows);
  const std::vector<RowKey> keys_a = KeysOf(rows_of_a);
  const std::vector<RowKey> keys_b = KeysOf(rows_of_b);
  std::map<RowKey, const ResultRow*> rows_a;
  for (std::size_t i = 0; i < rows_of_a.size(); ++i) rows_a[keys_a[i]] = &rows_of_a[i];
  // Rows whose term differs only in its qualifier: "pooled (REML)" and
  // "pooled (FE)", the one unmatched row of that kind in each run.
  const auto base = [](const std::string& term) {
    const auto open = term.rfind(" (");
    return open != std::string::npos && term.back() == ')' ? term.substr(0, open) : term;
  };
  using Place = std::tuple<std::string, std::string, std::string>;
  std::map<Place, std::vector<RowKey>> only_a, only_b;
  const std::set<RowKey> set_b(keys_b.begin(), keys_b.end());
  for (const RowKey& k : keys_a) {
    if (!set_b.count(k)) only_a[{k.section, k.stratum, base(k.term)}].push_back(k);
  }
  for (const RowKey& k : keys_b) {
    if (!rows_a.count(k)) only_b[{k.section, k.stratum, base(k.term)}].push_back(k);
  }
  std::map<RowKey, RowKey> renamed;  // run_b key -> run_a key
  for (const auto& [place, keys] : only_b) {
    const auto it = only_a.find(place);
    if (keys.size() == 1 && it != only_a.end() && it->second.size() == 1) renamed[keys[0]] = it->second[0];
  }
  std::set<RowKey> matched;
  for (std::size_t i = 0; i < rows_of_b.size(); ++i) {
    const RowKey& key = keys_b[i];
    const auto rename = renamed.find(key);
    const RowKey& key_a = rename == renamed.end() ? key : rename->second;
    auto it = rows_a.find(key_a);
    if (it == rows_a.end()) {
      diff.rows.push_back({RowChange::kAdded, key.section, key.stratum, key.term, {}, {}});
      continue;
    }
    matched.insert(key_a);
    const auto fields_a = Fields(*it->second);
    const auto fields_b = Fields(rows_of_b[i]);
    std::map<std::string, std::optional<double>> old_values(fields_a.begin(), fields_a.end());
    RowDiff row{RowChange::kChanged, key.section, key.stratum, key.term,
                key_a.term == key.term ? std::string() : key_a.term, {}};
    std::set<std::string> seen;
    for (const auto& [field, value] : fields_b) {
      seen.insert(field);
      auto old = old_values.find(field);
      const std::optional<double> old_value = old == old_values.end() ? std::nullopt : old->second;
      if (!SameValue(old_value, value, tolerance)) row.values.push_back({field, old_value, value});
    }
    for (const auto& [field, value] : fields_a) {
      if (!seen.count(field) && value) row.values.push_back({field, value, std::nullopt});
    }
    if (!row.values.empty() || !row.term_a.empty()) diff.rows.push_back(std::move(row));
  }
  for (std::size_t i = 0; i < rows_of_a.size(); ++i) {
    if (!matched.count(keys_a[i])) {
      diff.rows.push_back({RowChange::kRemoved, keys_a[i].section, keys_a[i].stratum, keys_a[i].term, {}, {}});
    }
  }
  return diff;
}

RunDiff DiffAnalysisRuns(Store& store, std::int64_t run_a, std::int64_t run_b, double tolerance) {
  auto a = LoadAnalysisRun(store, run_a);
  if (!a) throw InputError(fmt::format("no analysis run {} in {}", run_a, store.path()));
  auto b = LoadAnalysisRun(store, run_b);
  if (!b) throw InputError(fmt::format("no analysis run {} in {}", run_b, store.path()));
  RunDiff diff = DiffRuns(*a, *b, tolerance);
  const std::int64_t edit_a = a->info.data_edit_id.value_or(0);
  const std::int64_t edit_b = b->info.data_edit_id.value_or(0);
  diff.edits = DataEditsBetween(store, std::min(edit_a, edit_b), std::max(edit_a, edit_b));
  return diff;
}

}  // namespace cohortdb
