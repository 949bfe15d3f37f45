#pragma once
// Calendar dates and date-times as exports deliver them (REDCap's date_ymd,
// date_mdy, date_dmy and datetime_* validations): strict parsing with the
// reason a text is not a date, ISO 8601 formatting, and day numbers. A day
// number counts days since 1970-01-01 in the proleptic Gregorian calendar,
// as R's as.numeric(as.Date(x)) does; a time of day adds its fraction of a
// day (no time zones). Pure functions, thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cohortdb {

// The order of year, month and day in a delivered date.
enum class DateOrder { kYmd, kMdy, kDmy };

// Whether a time of day must, may or must not follow the date.
enum class TimePart { kNone, kRequired, kOptional };

struct CalendarDate {
  int year = 1970, month = 1, day = 1;
  bool has_time = false, has_seconds = false;
  int hour = 0, minute = 0, second = 0;
};

// Parses "text" (spaces around it allowed). Year: 4 digits; month and day: 1
// or 2 digits; separators '-' or '/' (the same one twice); a time follows
// after one space or 'T' as H:MM or H:MM:SS. Returns nullopt when the text is
// not such a date, setting "problem" (when given) to "" if the text does not
// have the form, or to why the date does not exist ("February 2023 has 28
// days", "there is no month 13", "there is no hour 24").
std::optional<CalendarDate> ParseCalendarDate(std::string_view text, DateOrder order, TimePart time,
                                              std::string* problem = nullptr);

// The form a parser of this order expects, for messages: "YYYY-MM-DD",
// "MM-DD-YYYY HH:MM[:SS]", ...
std::string DateFormatName(DateOrder order, TimePart time);

// "2023-02-28", or "2023-02-28 14:30" / "2023-02-28 14:30:05" with a time.
std::string FormatIsoDate(const CalendarDate& date);

// Days since 1970-01-01 of the date (negative before), without the time.
std::int64_t DaysSinceEpoch(int year, int month, int day);

// The day number: DaysSinceEpoch plus the time of day as a fraction of 24 h.
double DayNumber(const CalendarDate& date);

// The date of a whole day number (inverse of DaysSinceEpoch).
CalendarDate DateOfDay(std::int64_t days);

}  // namespace cohortdb
