#pragma once
// Printing an AnalysisResultSet. Terminal formats (table, box, markdown) get
// tables that read like a paper's: rounded numbers, "OR (95% CI)", p-values as
// papers print them ("<0.001", "0.005", "0.43"), suppressed counts as "<N",
// and the model summary and the rows used/excluded underneath. csv writes the
// tidy rows (every row of every section, raw numbers, the extra columns
// flattened); json writes the whole result set as one JSON document. Pure
// functions of the result set.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/table_writer.h"
#include "common/value.h"

namespace cohortdb::analysis {

// How terminal tables name things: labels from the catalog (the default,
// ResultRow::label and the extra label keys, falling back to the code) or
// the codes themselves (--codes).
struct ReportStyle {
  bool codes = false;
};

struct ReportTable {
  std::string title;
  QueryResult table;
};

// The paper-like tables of a result set, one per section and stratum group.
std::vector<ReportTable> PaperTables(const AnalysisResultSet& result, const ReportStyle& style = {});

// Every row with columns section, stratum, term, label, estimate, std_error,
// statistic, p_value, conf_low, conf_high, n, then the union of extra keys.
QueryResult TidyTable(const AnalysisResultSet& result);

// The result set as JSON: command, parameters, rows_used, rows_excluded,
// min_cell, summary, diagnostics, rows (NaN as null; each with its label).
nlohmann::ordered_json ResultJson(const AnalysisResultSet& result);

// Writes the result in "format" (see above).
void WriteReport(std::ostream& out, const AnalysisResultSet& result, OutputFormat format,
                 const ReportStyle& style = {});

// The model summary and the rows used as a few lines a person reads:
// "n = 483,230 (1,770 excluded: missing age 1,770); 12 sites; log-likelihood
// -1234.5; AIC 2489.0; converged", then notes and per-stratum lines.
std::vector<std::string> SummaryFooter(const AnalysisResultSet& result, const ReportStyle& style = {});

// An estimate with its CI in the one style of every table:
// "0.80 (0.75 to 0.86)"; just the estimate when the CI is missing; "NA"
// when the estimate is.
std::string FormatEstimateCi(double estimate, double low, double high, int digits);

// An integer with thousands separators: 483230 -> "483,230".
std::string FormatCount(std::int64_t n);

// A p-value as papers print it: "<0.001" below 0.001, three decimals below
// 0.1 ("0.005"), two otherwise ("0.43"); "NA" for NaN.
std::string FormatPValue(double p);

// The unit an odds ratio per K SD refers to, as its term's label says it:
// " (per 2 SD = 7.54 cm3/kg/m)" from the row's extra per_sd, units (K times
// the SD of the overall analysis sample, three significant digits) and the
// catalog's unit when known; "" for a row without per_sd.
std::string PerSdLabel(const ResultRow& row);

// A number rounded to "digits" decimals; "NA" for NaN, "Inf"/"-Inf"; never
// "-0.00" (a negative number that rounds to zero prints as 0.00); magnitudes
// of 1e6 and more in scientific notation with "digits" decimals
// ("1.23e+08"), as a huge odds ratio of a separated model.
std::string FormatNumber(double value, int digits);

}  // namespace cohortdb::analysis
