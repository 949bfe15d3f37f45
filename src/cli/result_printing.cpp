#include "cli/result_printing.h"

#include "analysis/report.h"

namespace cohortdb::cli {

void PrintResult(std::ostream& out, const AnalysisResultSet& result, OutputFormat format) {
  analysis::WriteReport(out, result, format);
}

}  // namespace cohortdb::cli
