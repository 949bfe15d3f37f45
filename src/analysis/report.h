#pragma once
// Printing an AnalysisResultSet. Terminal formats (table, box, markdown) get
// tables that read like a paper's: rounded numbers, "OR (95% CI)", p-values as
// papers print them ("<0.001", "0.005", "0.43"), suppressed counts as "<N",
// and the model summary and the rows used/excluded underneath. csv writes the
// tidy rows (every row of every section, raw numbers, the extra columns
// flattened); json writes the whole result set as one JSON document. Pure
// functions of the result set.

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/table_writer.h"
#include "common/value.h"

namespace cohortdb::analysis {

struct ReportTable {
  std::string title;
  QueryResult table;
};

// The paper-like tables of a result set, one per section and stratum group.
std::vector<ReportTable> PaperTables(const AnalysisResultSet& result);

// Every row with columns section, stratum, term, estimate, std_error,
// statistic, p_value, conf_low, conf_high, n, then the union of extra keys.
QueryResult TidyTable(const AnalysisResultSet& result);

// The result set as JSON: command, parameters, rows_used, rows_excluded,
// min_cell, summary, diagnostics, rows (NaN as null).
nlohmann::ordered_json ResultJson(const AnalysisResultSet& result);

// Writes the result in "format" (see above).
void WriteReport(std::ostream& out, const AnalysisResultSet& result, OutputFormat format);

// A p-value as papers print it: "<0.001" below 0.001, three decimals below
// 0.1 ("0.005"), two otherwise ("0.43"); "NA" for NaN.
std::string FormatPValue(double p);

// The unit an odds ratio per K SD refers to, as its term's label says it:
// " (per 2 SD = 7.54 cm3/kg/m)" from the row's extra per_sd, units (K times
// the SD of the overall analysis sample, three significant digits) and the
// catalog's unit when known; "" for a row without per_sd.
std::string PerSdLabel(const ResultRow& row);

// A number rounded to "digits" decimals; "NA" for NaN.
std::string FormatNumber(double value, int digits);

}  // namespace cohortdb::analysis
