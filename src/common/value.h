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

}  // namespace cohortdb
