#pragma once
// Result rows as tables and files: the tidy table of an analysis result (for
// --format and CSV files), a readable version for the terminal, the JSON
// document of a result with its provenance, and the per-step files a recipe
// run writes into an output folder. Pure formatting apart from WriteStepFiles.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/value.h"
#include "store/provenance.h"

namespace cohortdb::recipes {

// The tidy table: section, stratum, term, estimate, std_error, statistic,
// p_value, conf_low, conf_high, n, then every key of "extra" (first seen
// first). NaN and absent values are NULL; reals round-trip.
QueryResult TidyTable(const std::vector<ResultRow>& rows);

// The tidy table made for reading: columns that are NULL in every row are
// dropped, a column with one value in every row (section) is dropped too,
// reals are rounded to 3 decimals (or 3 significant digits when small) and
// p-values below 0.001 read "<0.001".
QueryResult ReadableTable(const std::vector<ResultRow>& rows);

// {"command", "parameters", "rows_used", "rows_excluded", "min_cell",
//  "summary", "diagnostics", "rows": [...tidy rows as objects...]}.
nlohmann::ordered_json ResultJson(const AnalysisResultSet& result);

// ResultJson plus a "provenance" object (run id, recipe, step, fingerprint,
// tool version, time, elapsed).
nlohmann::ordered_json RunJson(const StoredRun& run);

// The stored run as the AnalysisResultSet it was recorded from (no plot).
AnalysisResultSet ResultOf(const StoredRun& run);

// Creates DIR if needed and checks that files can be written in it; throws
// InputError otherwise. A recipe run calls it before its first step, so a
// bad --out records no run.
void PrepareOutputFolder(const std::filesystem::path& dir);

// Writes DIR/STEP.csv and DIR/STEP.json as the analysis commands write them
// with --format csv|json (analysis/report.h; the JSON gains "run_id"), and DIR/STEP.svg when the result has a
// plot. Creates DIR. Returns the paths written. Throws InputError if a file cannot be written.
std::vector<std::filesystem::path> WriteStepFiles(const std::filesystem::path& dir, const std::string& step,
                                                  const AnalysisResultSet& result, std::int64_t run_id);

}  // namespace cohortdb::recipes
