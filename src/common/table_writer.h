#pragma once
// Writes a QueryResult in the output formats of the sqlite3 shell that users
// know: table (ASCII grid), box (Unicode grid), csv (RFC 4180, NULL empty),
// json (an array of objects, NULL as null, Inf/-Inf/NaN as strings),
// markdown (a pipe table).
// Reals: the grids, markdown and list print them as the sqlite3 shell does
// (15 significant digits, FormatRealShell: 45.6, 1.0e+20); csv and json in
// the shortest form that reads back to the same double (FormatReal).

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/value.h"

namespace cohortdb {

// kList is the sqlite3 shell's list mode (`cohortdb sql` only): the values of
// a row joined by '|', no header, NULL empty, nothing quoted.
enum class OutputFormat { kTable, kBox, kCsv, kJson, kMarkdown, kList };

// Parses "table", "box", "csv", "json", "markdown", "list"; nullopt otherwise.
std::optional<OutputFormat> ParseOutputFormat(std::string_view name);

// The names ParseOutputFormat accepts, for help texts: "table|box|csv|json|markdown".
const char* OutputFormatNames();

void WriteTable(std::ostream& out, const QueryResult& table, OutputFormat format);

// The json format's array of row objects, for documents that hold several.
nlohmann::ordered_json TableJson(const QueryResult& table);

// Writes one result row by row as it arrives, so output of any size needs no
// memory: the csv, json and list formats, byte for byte as WriteTable writes
// them. (The grids and markdown size or align their columns by every row.)
class RowWriter {
 public:
  virtual ~RowWriter() = default;
  virtual void Begin(const std::vector<std::string>& columns) = 0;
  virtual void Row(const std::vector<SqlValue>& row) = 0;
  virtual void End() = 0;
};
// nullptr for the formats that need every row first.
std::unique_ptr<RowWriter> MakeRowWriter(std::ostream& out, OutputFormat format);

// One CSV field, quoted when it holds a comma, quote, CR or LF.
std::string CsvField(std::string_view text);

}  // namespace cohortdb
