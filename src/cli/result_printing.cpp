#include "cli/result_printing.h"

#include "analysis/report.h"

namespace cohortdb::cli {

void PrintResult(std::ostream& out, const AnalysisResultSet& result, OutputFormat format, bool codes) {
  analysis::ReportStyle style;
  style.codes = codes;
  analysis::WriteReport(out, result, format, style);
}

}  // namespace cohortdb::cli
