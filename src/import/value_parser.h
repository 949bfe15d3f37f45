#pragma once
// Parsing of single delivered cells: numbers (fast_float, whole field, no
// locale), censored values such as "<0.15" or "> 500", and trimming.
// Pure functions, thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace cohortdb {

// The view without leading and trailing spaces and tabs.
std::string_view Trim(std::string_view s);

// The whole (trimmed) text as a finite double, or nullopt. A number too
// large for a double ("1e400") or too close to 0 to be one ("1e-400", which
// would read as 0) is nullopt too: see NumberOutOfRange.
std::optional<double> ParseNumber(std::string_view text);

// Why a number that parses is still refused: "too large" or "too small"
// text for a message, or nullptr when "text" is in range or not a number.
const char* NumberOutOfRange(std::string_view text);

// Whether a delivered numeric cell is written plainly, so the value stored
// reads as the text delivered: an optional '<' or '>', an optional '-', digits
// without a leading zero, and (unless "whole") an optional fraction of at
// least one digit after "decimal"; no blanks around, no '+', no exponent,
// no "-0". Other accepted forms (" 5 ", "+5", ".5", "5.", "1e3", "-0", "007",
// "6200.0" for an integer variable) are normalisations the import counts.
bool IsPlainNumber(std::string_view text, char decimal, bool whole);

// The whole (trimmed) text as an integer (no fraction, no exponent), or nullopt.
std::optional<long long> ParseInteger(std::string_view text);

// A delivered numeric cell: a plain number, or a limit with '<' (left
// censored, below detection) or '>' (right censored, above the range).
struct NumericCell {
  double number = 0;
  char censoring = 0;  // 0, '<' or '>'
};
std::optional<NumericCell> ParseNumericCell(std::string_view text);

// Lower-case ASCII copy.
std::string AsciiLower(std::string_view s);

// How REDCap names the export column of a checkbox choice: field + "___" +
// this suffix, the code in lower case with every character other than a-z,
// 0-9 and _ made '_' ("-99" -> "_99", "NA" -> "na").
std::string RedcapCheckboxSuffix(std::string_view code);

// A JSON string literal for "s" (quotes included, control characters escaped).
std::string JsonQuote(std::string_view s);

// Formats a double so it reads back exactly and looks natural ("0.15", "500").
std::string FormatNumber(double value);

}  // namespace cohortdb
