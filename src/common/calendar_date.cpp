#include "common/calendar_date.h"

#include <array>

#include <fmt/format.h>

namespace cohortdb {
namespace {

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

const char* MonthName(int month) {
  static constexpr std::array<const char*, 12> kNames = {"January", "February", "March",     "April",   "May",      "June",
                                                         "July",    "August",   "September", "October", "November", "December"};
  return kNames[static_cast<std::size_t>(month - 1)];
}

// Reads min_digits to max_digits decimal digits at "pos" and advances it.
std::optional<int> Digits(std::string_view s, std::size_t& pos, std::size_t min_digits, std::size_t max_digits) {
  std::size_t start = pos;
  int value = 0;
  while (pos < s.size() && pos - start < max_digits && s[pos] >= '0' && s[pos] <= '9') {
    value = value * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos - start < min_digits) return std::nullopt;
  return value;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<CalendarDate> ParseCalendarDate(std::string_view text, DateOrder order, TimePart time,
                                              std::string* problem) {
  auto fail = [&](std::string why) -> std::optional<CalendarDate> {
    if (problem != nullptr) *problem = std::move(why);
    return std::nullopt;
  };
  const std::string_view s = TrimSpaces(text);
  std::size_t pos = 0;
  int parts[3] = {0, 0, 0};
  char separator = 0;
  for (int i = 0; i < 3; ++i) {
    const bool is_year = (order == DateOrder::kYmd && i == 0) || (order != DateOrder::kYmd && i == 2);
    auto v = is_year ? Digits(s, pos, 4, 4) : Digits(s, pos, 1, 2);
    if (!v) return fail("");
    parts[i] = *v;
    if (i < 2) {
      if (pos >= s.size() || (s[pos] != '-' && s[pos] != '/')) return fail("");
      if (separator != 0 && s[pos] != separator) return fail("");
      separator = s[pos++];
    }
  }
  CalendarDate d;
  switch (order) {
    case DateOrder::kYmd: d.year = parts[0], d.month = parts[1], d.day = parts[2]; break;
    case DateOrder::kMdy: d.month = parts[0], d.day = parts[1], d.year = parts[2]; break;
    case DateOrder::kDmy: d.day = parts[0], d.month = parts[1], d.year = parts[2]; break;
  }
  if (pos < s.size()) {
    if (time == TimePart::kNone || (s[pos] != ' ' && s[pos] != 'T')) return fail("");
    ++pos;
    auto h = Digits(s, pos, 1, 2);
    if (!h || pos >= s.size() || s[pos] != ':') return fail("");
    ++pos;
    auto m = Digits(s, pos, 2, 2);
    if (!m) return fail("");
    d.has_time = true;
    d.hour = *h;
    d.minute = *m;
    if (pos < s.size()) {
      if (s[pos] != ':') return fail("");
      ++pos;
      auto sec = Digits(s, pos, 2, 2);
      if (!sec || pos != s.size()) return fail("");
      d.has_seconds = true;
      d.second = *sec;
    }
  } else if (time == TimePart::kRequired) {
    return fail("");
  }
  if (d.year < 1) return fail("there is no year 0");
  if (d.month < 1 || d.month > 12) return fail(fmt::format("there is no month {}", d.month));
  if (d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return fail(d.day < 1 ? std::string("there is no day 0")
                          : fmt::format("{} {} has {} days", MonthName(d.month), d.year, DaysInMonth(d.year, d.month)));
  }
  if (d.hour > 23) return fail(fmt::format("there is no hour {}", d.hour));
  if (d.minute > 59) return fail(fmt::format("there is no minute {}", d.minute));
  if (d.second > 59) return fail(fmt::format("there is no second {}", d.second));
  return d;
}

std::string DateFormatName(DateOrder order, TimePart time) {
  const char* date = order == DateOrder::kYmd ? "YYYY-MM-DD" : order == DateOrder::kMdy ? "MM-DD-YYYY" : "DD-MM-YYYY";
  switch (time) {
    case TimePart::kNone: return date;
    case TimePart::kRequired: return fmt::format("{} HH:MM[:SS]", date);
    case TimePart::kOptional: return fmt::format("{}[ HH:MM[:SS]]", date);
  }
  return date;
}

std::string FormatIsoDate(const CalendarDate& d) {
  std::string out = fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
  if (d.has_time) out += fmt::format(" {:02}:{:02}", d.hour, d.minute);
  if (d.has_seconds) out += fmt::format(":{:02}", d.second);
  return out;
}

// Howard Hinnant's days_from_civil.
std::int64_t DaysSinceEpoch(int year, int month, int day) {
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

double DayNumber(const CalendarDate& d) {
  const double seconds = d.hour * 3600.0 + d.minute * 60.0 + d.second;
  return static_cast<double>(DaysSinceEpoch(d.year, d.month, d.day)) + seconds / 86400.0;
}

// Howard Hinnant's civil_from_days.
CalendarDate DateOfDay(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  CalendarDate d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = static_cast<int>(yoe + era * 400 + (d.month <= 2 ? 1 : 0));
  return d;
}

}  // namespace cohortdb
