#pragma once
// Prints an analysis result set for the results and recipe commands exactly
// as the analysis commands print it (analysis/report.h).

#include <ostream>

#include "common/result.h"
#include "common/table_writer.h"

namespace cohortdb::cli {

// "codes": name variables and levels by their codes (--codes) instead of
// their catalog labels.
void PrintResult(std::ostream& out, const AnalysisResultSet& result, OutputFormat format, bool codes = false);

}  // namespace cohortdb::cli
