#include "cli/result_printing.h"

#include <ctime>

#include "analysis/report.h"

namespace cohortdb::cli {

void PrintResult(std::ostream& out, const AnalysisResultSet& result, OutputFormat format, bool codes) {
  analysis::ReportStyle style;
  style.codes = codes;
  analysis::WriteReport(out, result, format, style);
}

std::string NowUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace cohortdb::cli
