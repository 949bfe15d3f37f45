#pragma once
// Provenance of analysis results: every analysis executed (from the command
// line or a recipe step) is recorded as one analysis_run row with its
// analysis_result rows, and can be listed, loaded and compared later.
//
// All functions take the caller's Store; none is thread-safe beyond what Store
// is. Reads never change the store.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace cohortdb {

class Store;

// One analysis_run row, with the recipe it came from (if any).
struct AnalysisRunInfo {
  std::int64_t run_id = 0;
  std::string command;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  std::optional<std::int64_t> recipe_id;
  std::string recipe_name;  // empty when not run from a recipe
  std::optional<std::int64_t> recipe_version;
  std::string recipe_step;  // empty when not run from a recipe
  std::string data_fingerprint;
  // The newest data_edit when the run was recorded (nullopt: none yet).
  std::optional<std::int64_t> data_edit_id;
  std::string tool_version;
  std::string started_at;  // ISO 8601 UTC
  double elapsed_ms = 0;
  std::int64_t rows_used = 0;
  std::int64_t rows_excluded = 0;
  std::optional<std::int64_t> min_cell;
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  nlohmann::ordered_json diagnostics = nlohmann::ordered_json::object();
};

// One data_edit row: a `sql --write` script that changed the store.
struct DataEdit {
  std::int64_t edit_id = 0;
  std::string edited_at;  // ISO 8601 UTC
  std::string statement;  // the script's text as given
  std::int64_t rows_changed = 0;
  std::vector<std::string> objects;  // tables and views written
};

// The edits that count for the data fingerprint (kDataEditCountsSql) with
// ids in (after, upto], oldest first; nullopt bounds mean "before the first
// edit". Empty for a store older than data_edit.
std::vector<DataEdit> DataEditsBetween(Store& store, std::optional<std::int64_t> after,
                                       std::optional<std::int64_t> upto);

// A run with its result rows in their original order (NULLs read back as NaN).
struct StoredRun {
  AnalysisRunInfo info;
  std::vector<ResultRow> rows;
};

// Writes one analysis_run row for "result" (command, parameters, the store's
// DataFingerprint() and newest data_edit, kVersion, start time = now - elapsed_ms) and one
// analysis_result row per result row (NaN stored as NULL), in one transaction;
// returns the new run_id. "recipe_id" must name an existing recipe version;
// "recipe_step" is stored only when non-empty. Must not be called inside
// another Store::Transaction. Throws StoreError if the store refuses the write.
std::int64_t RecordAnalysisRun(Store& store, const AnalysisResultSet& result,
                               std::optional<std::int64_t> recipe_id, const std::string& recipe_step,
                               double elapsed_ms);

// Every run, oldest first.
std::vector<AnalysisRunInfo> ListAnalysisRuns(Store& store);

// The run "run_id" with its rows; nullopt if there is no such run.
std::optional<StoredRun> LoadAnalysisRun(Store& store, std::int64_t run_id);

// What changed between two runs of the same analysis.
struct ParameterChange {
  std::string name;
  nlohmann::ordered_json old_value;  // null when the parameter was added
  nlohmann::ordered_json new_value;  // null when the parameter was removed
};

struct ValueChange {
  std::string field;                // "estimate", "std_error", ..., "n", or an extra column name
  std::optional<double> old_value;  // nullopt when NULL/NaN
  std::optional<double> new_value;
  // new - old when both are present.
  std::optional<double> delta() const {
    if (!old_value || !new_value) return std::nullopt;
    return *new_value - *old_value;
  }
};

enum class RowChange { kChanged, kAdded, kRemoved };

// One result row keyed by (section, stratum, term). A key seen k > 1 times in
// a run is numbered: the second occurrence's term reads "term #2".
struct RowDiff {
  RowChange change = RowChange::kChanged;
  std::string section;
  std::string stratum;
  std::string term;
  // kChanged only: run_a's term when it differs. Two rows whose terms differ
  // only in a final parenthesised qualifier ("pooled (REML)" in run_a,
  // "pooled (FE)" in run_b), each the only such row left unmatched in its
  // section and stratum, are compared as one.
  std::string term_a;
  std::vector<ValueChange> values;  // only for kChanged: the fields that differ
};

struct RunDiff {
  AnalysisRunInfo run_a;
  AnalysisRunInfo run_b;
  std::vector<ParameterChange> parameters;
  bool fingerprint_changed = false;
  // The data edits made between the two runs (in either order), oldest
  // first; filled by DiffAnalysisRuns only.
  std::vector<DataEdit> edits;
  bool tool_version_changed = false;
  std::vector<RowDiff> rows;  // changed, added and removed rows, in run_b's order then removed
  bool Identical() const { return parameters.empty() && !fingerprint_changed && rows.empty(); }
};

// The default tolerance of a diff: R's all.equal() default,
// sqrt(.Machine$double.eps) = 1.49e-8.
inline constexpr double kDefaultDiffTolerance = 1.4901161193847656e-8;

// True when "a" and "b" are equal to "tolerance" as R's all.equal() judges
// one number: |a - b| / |a| <= tolerance, or |a - b| <= tolerance when |a| is
// tolerance or less (so values at the scale of rounding noise around 0 are
// compared absolutely); symmetric (the larger magnitude is the scale). Both
// missing is equal; one missing is not. Tolerance 0: exactly equal.
bool SameValue(const std::optional<double>& a, const std::optional<double>& b, double tolerance);

// Compares two stored runs. Values are equal by SameValue with "tolerance".
// Parameters are compared as stored, except that a list and a text that
// hold the same comma-separated names (["a,b"] and ["a", "b"], as runs
// recorded before parameters were normalised stored them) are equal.
// Throws InputError when a run does not exist or the runs are of different
// commands ("cannot diff run 3 (regress) with run 4 (logistic): ...").
RunDiff DiffAnalysisRuns(Store& store, std::int64_t run_a, std::int64_t run_b,
                         double tolerance = kDefaultDiffTolerance);

// The same comparison on runs already loaded (no store access; no edits).
RunDiff DiffRuns(const StoredRun& a, const StoredRun& b, double tolerance = kDefaultDiffTolerance);

}  // namespace cohortdb
