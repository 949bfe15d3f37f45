#include "store/pivot.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "store/store.h"

namespace cohortdb {
namespace {

const std::set<std::string>& ParticipantColumns() {
  static const std::set<std::string> kColumns = {"participant_id", "external_id", "site",  "sex",
                                                 "age_years",      "birth_year",  "arm",   "visit",
                                                 "visit_order"};
  return kColumns;
}

std::string ValueExpression(bool text, CensorRule rule) {
  if (text) return "r.value_text";
  switch (rule) {
    case CensorRule::kExclude:
      return "r.value";
    case CensorRule::kHalfLimit:
      return "CASE r.censoring WHEN 'none' THEN r.value WHEN 'left' THEN r.detection_limit / 2.0 "
             "ELSE r.detection_limit END";
    case CensorRule::kLimitSqrt2:
      return "CASE r.censoring WHEN 'none' THEN r.value WHEN 'left' THEN r.detection_limit / 1.4142135623730951 "
             "ELSE r.detection_limit END";
    case CensorRule::kLimit:
      return "CASE r.censoring WHEN 'none' THEN r.value ELSE r.detection_limit END";
  }
  return "r.value";
}

// A correlated subquery for one variable at one visit (or participant level).
// It matches the partial unique index <table>_current.
std::string Cell(const PivotVariable& v, std::string_view visit_expr, CensorRule rule) {
  return fmt::format(
      "(SELECT {} FROM {} r WHERE r.participant_id = p.participant_id AND r.variable_id = {} "
      "AND ifnull(r.visit_id, 0) = {} AND r.superseded_by IS NULL)",
      ValueExpression(v.text, rule), v.table, v.variable_id, visit_expr);
}

// Column names are quoted: a variable code may be an SQL keyword ("group").
std::string ColumnName(const std::string& code) {
  return fmt::format("\"{}\"", ParticipantColumns().count(code) ? code + "_value" : code);
}

}  // namespace

std::optional<CensorRule> ParseCensorRule(std::string_view text) {
  if (text == "exclude") return CensorRule::kExclude;
  if (text == "half") return CensorRule::kHalfLimit;
  if (text == "sqrt2") return CensorRule::kLimitSqrt2;
  if (text == "limit") return CensorRule::kLimit;
  return std::nullopt;
}

const char* CensorRuleName(CensorRule rule) {
  switch (rule) {
    case CensorRule::kExclude: return "exclude";
    case CensorRule::kHalfLimit: return "half";
    case CensorRule::kLimitSqrt2: return "sqrt2";
    case CensorRule::kLimit: return "limit";
  }
  return "exclude";
}

PivotDefinition LoadPivotDefinition(Store& store, const std::string& study_code) {
  PivotDefinition pivot;
  pivot.study = study_code;
  auto study = store.Query("SELECT study_id FROM study WHERE code = ?", {study_code});
  if (study.rows.empty()) throw InputError(fmt::format("unknown study '{}'", study_code));
  pivot.study_id = std::get<std::int64_t>(study.rows[0][0]);
  for (const auto& row :
       store.Query("SELECT visit_id, code FROM visit WHERE study_id = ? ORDER BY visit_order", {pivot.study_id}).rows) {
    pivot.visits.emplace_back(std::get<std::int64_t>(row[0]), std::get<std::string>(row[1]));
  }
  for (const auto& row : store
                             .Query("SELECT variable_id, code, record_kind, value_type FROM variable "
                                    "WHERE study_id = ? ORDER BY variable_id",
                                    {pivot.study_id})
                             .rows) {
    PivotVariable v;
    v.variable_id = std::get<std::int64_t>(row[0]);
    v.code = std::get<std::string>(row[1]);
    v.table = std::get<std::string>(row[2]);
    const std::string& type = std::get<std::string>(row[3]);
    v.text = type == "text" || type == "date" || type == "datetime";  // dates as ISO 8601 text
    pivot.variables.push_back(std::move(v));
  }
  // Which (variable, visit) pairs hold data: record_coverage, which imports
  // keep, so the cost does not grow with the record count.
  std::map<std::int64_t, std::vector<std::int64_t>> covered;
  for (const auto& row : store
                             .Query("SELECT c.variable_id, c.visit_key FROM record_coverage c "
                                    "JOIN variable v ON v.variable_id = c.variable_id WHERE v.study_id = ? "
                                    "ORDER BY c.variable_id, c.visit_key",
                                    {pivot.study_id})
                             .rows) {
    covered[std::get<std::int64_t>(row[0])].push_back(std::get<std::int64_t>(row[1]));
  }
  for (PivotVariable& v : pivot.variables) {
    const std::vector<std::int64_t>& keys = covered[v.variable_id];
    if (std::find(keys.begin(), keys.end(), 0) != keys.end()) v.visits_with_data.push_back(std::nullopt);
    for (const auto& [id, code] : pivot.visits) {
      if (std::find(keys.begin(), keys.end(), id) != keys.end()) v.visits_with_data.push_back(id);
    }
  }
  return pivot;
}

std::string WideSelectSql(const PivotDefinition& pivot, bool per_visit, CensorRule rule) {
  std::string sql = "SELECT p.participant_id, p.external_id, s.code AS site, p.sex, p.age_years, p.birth_year, p.arm";
  if (per_visit) sql += ", v.code AS visit, v.visit_order";
  const bool multi_visit = pivot.visits.size() > 1;
  std::map<std::int64_t, std::string> visit_code(pivot.visits.begin(), pivot.visits.end());
  // A column name may come twice: variable "pain_baseline" and variable
  // "pain" at visit "baseline". SQLite would keep both and a SELECT by name
  // would read the first, so the pivot is refused instead.
  std::map<std::string, std::string> origin = {
      {"participant_id", "the participant id"}, {"external_id", "the participant's external id"},
      {"site", "the site"}, {"sex", "sex"}, {"age_years", "age"}, {"birth_year", "the birth year"}, {"arm", "the arm"}};
  auto claim = [&](const std::string& column, const std::string& what) {
    const auto [it, inserted] = origin.emplace(column, what);
    if (inserted) return;
    throw InputError(fmt::format(
        "study '{}': the pivot wide_{} would have two columns named '{}', {} and {}; rename one of the variables",
        pivot.study, pivot.study, column, it->second, what));
  };
  for (const PivotVariable& v : pivot.variables) {
    const std::string name = ColumnName(v.code);
    const std::string bare = name.substr(1, name.size() - 2);  // unquoted
    if (per_visit) {
      sql += fmt::format(",\n  coalesce({}, {}) AS {}", Cell(v, "v.visit_id", rule), Cell(v, "0", rule), name);
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
      claim(bare, fmt::format("variable '{}'", v.code));
      std::string cells = Cell(v, "0", rule);
      for (std::int64_t id : visits) cells += ", " + Cell(v, std::to_string(id), rule);
      sql += visits.empty() ? fmt::format(",\n  {} AS {}", cells, name)
                            : fmt::format(",\n  coalesce({}) AS {}", cells, name);
      continue;
    }
    if (has_participant_level || visits.empty()) {
      claim(bare, fmt::format("variable '{}'", v.code));
      sql += fmt::format(",\n  {} AS {}", Cell(v, "0", rule), name);
    }
    for (const auto& [id, code] : pivot.visits) {
      if (std::find(visits.begin(), visits.end(), id) == visits.end()) continue;
      claim(fmt::format("{}_{}", v.code, code), fmt::format("variable '{}' at visit '{}'", v.code, code));
      sql += fmt::format(",\n  {} AS \"{}_{}\"", Cell(v, std::to_string(id), rule), v.code, code);
    }
  }
  sql += "\nFROM participant p LEFT JOIN site s ON s.site_id = p.site_id";
  if (per_visit) sql += "\nJOIN visit v ON v.study_id = p.study_id";
  sql += fmt::format("\nWHERE p.study_id = {}", pivot.study_id);
  sql += per_visit ? "\nORDER BY p.participant_id, v.visit_order" : "\nORDER BY p.participant_id";
  return sql;
}

std::string WideSelectSql(Store& store, const std::string& study_code, bool per_visit, CensorRule rule) {
  return WideSelectSql(LoadPivotDefinition(store, study_code), per_visit, rule);
}

}  // namespace cohortdb
