#pragma once
// Values and tables of values as SQL produces them, shared by the store (query
// results), the analyses (result rows) and the output writers.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace cohortdb {

// A value read from or bound into SQL. monostate is NULL.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

// Rows with named columns: the result of a query or an analysis table.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
  std::int64_t rows_changed = 0;  // for INSERT/UPDATE/DELETE statements
};

// A value as text: NULL as "NULL", reals in the shortest form that reads back
// to the same double (always with a '.' or an exponent, as the sqlite3 shell
// prints them), NaN as "NaN", infinities as "Inf"/"-Inf".
std::string FormatSqlValue(const SqlValue& value);

// A real as FormatSqlValue prints it.
std::string FormatReal(double value);

// A real as the sqlite3 shell prints it in its table, box, markdown and list
// modes: 15 significant digits (SQLite's printf "%!.15g": always a '.' in
// the mantissa, so 100.0, 45.6, 1.0e+20, 1.0e-07, 1.23456789012346e+17),
// -0.0 as "0.0", infinities as "Inf"/"-Inf", NaN as "NaN". It does not always
// read back to the same double (45.599999999999994 prints 45.6).
std::string FormatRealShell(double value);

// FormatSqlValue with reals as FormatRealShell prints them.
std::string FormatSqlValueShell(const SqlValue& value);

}  // namespace cohortdb
