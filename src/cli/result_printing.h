#pragma once
// Prints an analysis result set for the results and recipe commands: the
// analysis layer's paper-like report when it is built in, otherwise the
// readable tidy table with the rows used and excluded underneath.

#include <ostream>

#include "common/result.h"
#include "common/table_writer.h"

namespace cohortdb::cli {

void PrintResult(std::ostream& out, const AnalysisResultSet& result, OutputFormat format);

}  // namespace cohortdb::cli
