#pragma once
// What the results and recipe commands share: an analysis result set printed
// exactly as the analysis commands print it (analysis/report.h), and the time
// a report is written.

#include <ostream>
#include <string>

#include "common/result.h"
#include "common/table_writer.h"

namespace cohortdb::cli {

// "codes": name variables and levels by their codes (--codes) instead of
// their catalog labels.
void PrintResult(std::ostream& out, const AnalysisResultSet& result, OutputFormat format, bool codes = false);

// The time now in ISO 8601 UTC to the second: "2026-01-05T10:11:12Z".
std::string NowUtc();

}  // namespace cohortdb::cli
