#include "import/value_parser.h"

#include <charconv>
#include <cmath>

#include <fast_float/fast_float.h>
#include <fmt/format.h>

namespace cohortdb {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

namespace {

enum class NumberParse { kOk, kInvalid, kTooLarge, kTooSmall };

NumberParse ParseDouble(std::string_view text, double& value) {
  text = Trim(text);
  if (text.empty()) return NumberParse::kInvalid;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (*begin == '+') ++begin;  // fast_float rejects a leading '+'
  if (begin == end || (begin != text.data() && *begin == '-')) return NumberParse::kInvalid;  // "+" alone, "+-5"
  value = 0;
  auto result = fast_float::from_chars(begin, end, value);
  if (result.ec != std::errc() || result.ptr != end) return NumberParse::kInvalid;
  if (std::isnan(value)) return NumberParse::kInvalid;
  if (std::isinf(value)) {
    // "inf" and "infinity" are not numbers of a data file; "1e400" is one
    // that does not fit.
    const char first = begin[*begin == '-' ? 1 : 0];
    return (first >= '0' && first <= '9') || first == '.' ? NumberParse::kTooLarge : NumberParse::kInvalid;
  }
  if (value == 0) {
    // A 0 that was not written as one underflowed ("1e-400").
    for (const char* p = begin; p != end && *p != 'e' && *p != 'E'; ++p) {
      if (*p >= '1' && *p <= '9') return NumberParse::kTooSmall;
    }
  }
  return NumberParse::kOk;
}

}  // namespace

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  if (ParseDouble(text, value) != NumberParse::kOk) return std::nullopt;
  return value;
}

const char* NumberOutOfRange(std::string_view text) {
  double value = 0;
  switch (ParseDouble(text, value)) {
    case NumberParse::kTooLarge: return "too large to be stored as a double (at most 1.8e308 in magnitude)";
    case NumberParse::kTooSmall:
      return "too close to 0 to be stored as a double (it would read as 0; the smallest is 4.9e-324)";
    default: return nullptr;
  }
}

bool IsPlainNumber(std::string_view text, char decimal, bool whole) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && (text[i] == '<' || text[i] == '>')) ++i;
  const bool negative = i < n && text[i] == '-';
  if (negative) ++i;
  const std::size_t digits_begin = i;
  while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
  const std::size_t int_digits = i - digits_begin;
  if (int_digits == 0) return false;                             // ".5", "+5", " 5", "-"
  if (int_digits > 1 && text[digits_begin] == '0') return false; // "007"
  bool nonzero = false;
  for (std::size_t k = digits_begin; k < i; ++k) nonzero = nonzero || text[k] != '0';
  if (i < n && text[i] == decimal) {
    if (whole) return false;  // "6200.0" for an integer variable
    ++i;
    const std::size_t frac_begin = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') {
      nonzero = nonzero || text[i] != '0';
      ++i;
    }
    if (i == frac_begin) return false;  // "5."
  }
  if (i != n) return false;  // an exponent, blanks, anything else
  return !(negative && !nonzero);  // "-0", "-0.0"
}

std::optional<long long> ParseInteger(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return std::nullopt;  // "+-5"
  }
  if (text.empty()) return std::nullopt;
  long long value = 0;
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<NumericCell> ParseNumericCell(std::string_view text) {
  text = Trim(text);
  NumericCell cell;
  if (!text.empty() && (text.front() == '<' || text.front() == '>')) {
    cell.censoring = text.front();
    text.remove_prefix(1);
  }
  auto number = ParseNumber(text);
  if (!number) return std::nullopt;
  cell.number = *number;
  return cell;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string RedcapCheckboxSuffix(std::string_view code) {
  std::string out = AsciiLower(code);
  for (char& c : out) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
  }
  return out;
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string FormatNumber(double value) { return fmt::format("{}", value); }

}  // namespace cohortdb
