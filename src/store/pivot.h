#pragma once
// Pivots generated from a study's variable catalog: the SELECT behind the
// views wide_<study> (one row per participant) and wide_<study>_visit (one row
// per participant and study visit), and the same SELECT with censored values
// substituted by a rule, for analysis frames.
//
// Columns: participant_id, external_id, site, sex, age_years, birth_year, arm
// (per visit also visit, visit_order), then one column per variable. In a
// study with more than one visit, the per-participant pivot names a
// visit-level variable <code>_<visit> (il6_baseline, il6_week12) and a
// participant-level one <code>; otherwise every variable is <code>. A variable
// whose code equals a participant column gets the suffix _value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cohortdb {

class Store;

// How a censored value (stored as NULL with its detection limit) enters a frame.
enum class CensorRule {
  kExclude,     // NULL: the row drops out of complete-case analyses
  kHalfLimit,   // left-censored: limit / 2; right-censored: the limit
  kLimitSqrt2,  // left-censored: limit / sqrt(2); right-censored: the limit
  kLimit,       // the limit itself
};

// Parses "exclude", "half", "sqrt2", "limit"; nullopt otherwise.
std::optional<CensorRule> ParseCensorRule(std::string_view text);
const char* CensorRuleName(CensorRule rule);

struct PivotColumn {
  std::string name;
  std::string table;  // record table of the variable
  std::int64_t variable_id = 0;
  std::optional<std::int64_t> visit_id;  // nullopt: participant-level record
  bool text = false;                     // value_text instead of value
};

struct PivotVariable {
  std::string code;
  std::string table;
  std::int64_t variable_id = 0;
  bool text = false;
  std::vector<std::optional<std::int64_t>> visits_with_data;
};

struct PivotDefinition {
  std::string study;
  std::int64_t study_id = 0;
  std::vector<std::pair<std::int64_t, std::string>> visits;  // ordered by visit_order
  std::vector<PivotVariable> variables;
};

// Reads the catalog and the (variable, visit) pairs that hold data. Throws
// InputError naming the study if it does not exist.
PivotDefinition LoadPivotDefinition(Store& store, const std::string& study_code);

// The SELECT statement of the pivot (no trailing semicolon).
std::string WideSelectSql(const PivotDefinition& pivot, bool per_visit, CensorRule rule);

// Convenience: load the definition and return the SELECT.
std::string WideSelectSql(Store& store, const std::string& study_code, bool per_visit, CensorRule rule);

}  // namespace cohortdb
