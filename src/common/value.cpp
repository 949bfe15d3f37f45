#include "common/value.h"

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace cohortdb {

std::string FormatReal(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string FormatRealShell(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  if (v == 0) return "0.0";  // SQLite's printf prints no sign for -0.0
  char text[48];
  std::snprintf(text, sizeof text, "%.15g", v);
  std::string s = text;
  if (s.find('.') == std::string::npos) {
    const auto e = s.find('e');
    s.insert(e == std::string::npos ? s.size() : e, ".0");  // the "!" flag of "%!.15g"
  }
  return s;
}

std::string FormatSqlValueShell(const SqlValue& value) {
  if (const double* real = std::get_if<double>(&value)) return FormatRealShell(*real);
  return FormatSqlValue(value);
}

std::string FormatSqlValue(const SqlValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "NULL";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return fmt::format("{}", v);
        } else if constexpr (std::is_same_v<T, double>) {
          return FormatReal(v);
        } else {
          return v;
        }
      },
      value);
}

}  // namespace cohortdb
