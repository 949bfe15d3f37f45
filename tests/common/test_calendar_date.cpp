// Calendar dates: strict parsing with the reason a text is no date, ISO
// formatting, and day numbers equal to R's (tests/reference/common_dates.R).
#include <catch2/catch.hpp>

#include <string>

#include "common/calendar_date.h"

namespace cohortdb {

TEST_CASE("day numbers count days since 1970-01-01 as R's Date class does", "[common][dates]") {
  // Rscript tests/reference/common_dates.R
  const struct {
    int y, m, d;
    std::int64_t day;
  } kDays[] = {{1970, 1, 1, 0},        {2023, 3, 1, 19417},    {2024, 2, 29, 19782},
               {2020, 2, 28, 18320},   {1900, 3, 1, -25508},   {1969, 12, 31, -1},
               {1600, 2, 29, -135081}, {1, 1, 1, -719162},     {9999, 12, 31, 2932896}};
  for (const auto& c : kDays) {
    INFO(c.y << "-" << c.m << "-" << c.d);
    CHECK(DaysSinceEpoch(c.y, c.m, c.d) == c.day);
    const CalendarDate back = DateOfDay(c.day);
    CHECK((back.year == c.y && back.month == c.m && back.day == c.d));
  }
  CalendarDate t = *ParseCalendarDate("2023-03-01 14:30", DateOrder::kYmd, TimePart::kRequired);
  CHECK(DayNumber(t) == Approx(19417.604166666668).epsilon(1e-15));
  t = *ParseCalendarDate("2023-03-01 23:59:30", DateOrder::kYmd, TimePart::kRequired);
  CHECK(DayNumber(t) == Approx(19417.999652777777).epsilon(1e-15));
  t = *ParseCalendarDate("1969-12-31T12:00", DateOrder::kYmd, TimePart::kOptional);
  CHECK(DayNumber(t) == -0.5);
}

TEST_CASE("dates parse in the three REDCap orders and format as ISO 8601", "[common][dates]") {
  CHECK(FormatIsoDate(*ParseCalendarDate("2023-02-28", DateOrder::kYmd, TimePart::kNone)) == "2023-02-28");
  CHECK(FormatIsoDate(*ParseCalendarDate(" 2023-2-3 ", DateOrder::kYmd, TimePart::kNone)) == "2023-02-03");
  CHECK(FormatIsoDate(*ParseCalendarDate("02/28/2023", DateOrder::kMdy, TimePart::kNone)) == "2023-02-28");
  CHECK(FormatIsoDate(*ParseCalendarDate("28-02-2023", DateOrder::kDmy, TimePart::kNone)) == "2023-02-28");
  CHECK(FormatIsoDate(*ParseCalendarDate("28-02-2023 9:05", DateOrder::kDmy, TimePart::kRequired)) ==
        "2023-02-28 09:05");
  CHECK(FormatIsoDate(*ParseCalendarDate("2023-02-28 09:05:59", DateOrder::kYmd, TimePart::kOptional)) ==
        "2023-02-28 09:05:59");
  CHECK(DateFormatName(DateOrder::kMdy, TimePart::kRequired) == "MM-DD-YYYY HH:MM[:SS]");
}

TEST_CASE("a text that is no date says why", "[common][dates]") {
  const auto problem = [](const char* text, DateOrder order = DateOrder::kYmd, TimePart time = TimePart::kNone) {
    std::string why = "unset";
    const auto date = ParseCalendarDate(text, order, time, &why);
    return date ? std::string("parsed") : why;
  };
  CHECK(problem("2023-02-30") == "February 2023 has 28 days");
  CHECK(problem("2024-02-30") == "February 2024 has 29 days");
  CHECK(problem("1900-02-29") == "February 1900 has 28 days");
  CHECK(problem("2000-02-29") == "parsed");
  CHECK(problem("2023-04-31") == "April 2023 has 30 days");
  CHECK(problem("2023-13-01") == "there is no month 13");
  CHECK(problem("2023-00-10") == "there is no month 0");
  CHECK(problem("2023-01-00") == "there is no day 0");
  CHECK(problem("0000-01-01") == "there is no year 0");
  CHECK(problem("2023-01-01 24:00", DateOrder::kYmd, TimePart::kRequired) == "there is no hour 24");
  CHECK(problem("2023-01-01 23:60", DateOrder::kYmd, TimePart::kRequired) == "there is no minute 60");
  // Not of the form: an empty reason.
  for (const char* text : {"", "2023", "23-01-01", "2023-01", "2023/01-01", "2023-01-01x", "2023-001-01",
                           "01/02/2023", "2023-01-01 12:00", "2023-01-01 1200", "2023-01-01 12:0", "+2023-01-01",
                           "2023-01-01 12:00:5"}) {
    INFO(text);
    CHECK(problem(text).empty());
  }
  CHECK(problem("2023-01-01", DateOrder::kYmd, TimePart::kRequired).empty());
  CHECK(problem("2023-01-01", DateOrder::kDmy).empty());
}

}  // namespace cohortdb
