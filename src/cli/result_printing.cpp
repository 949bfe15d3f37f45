#include "cli/result_printing.h"

#include <fmt/format.h>

#include "recipes/result_output.h"

#if __has_include("analysis/report.h")
#include "analysis/report.h"
#define COHORTDB_HAS_REPORT 1
#endif

namespace cohortdb::cli {

void PrintResult(std::ostream& out, const AnalysisResultSet& result, OutputFormat format) {
#ifdef COHORTDB_HAS_REPORT
  analysis::WriteReport(out, result, format);
#else
  if (format == OutputFormat::kJson) {
    out << recipes::ResultJson(result).dump(2) << '\n';
    return;
  }
  if (format == OutputFormat::kCsv) {
    WriteTable(out, recipes::TidyTable(result.rows), format);
    return;
  }
  WriteTable(out, recipes::ReadableTable(result.rows), format);
  out << fmt::format("rows used: {}, excluded: {}\n", result.rows_used, result.rows_excluded);
#endif
}

}  // namespace cohortdb::cli
