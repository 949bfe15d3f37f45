# Day numbers and intervals for tests/common/test_calendar_date.cpp and the
# days() derivation (tests/analysis/frame_test.cpp): days since 1970-01-01 as
# R's Date class counts them, a datetime's time of day as a fraction, and
# difftime in days. Run: Rscript tests/reference/common_dates.R
options(digits = 17)
dates <- c("1970-01-01", "2023-03-01", "2024-02-29", "2020-02-28", "1900-03-01", "1969-12-31",
           "1600-02-29", "0001-01-01", "9999-12-31")
print(data.frame(date = dates, day = as.numeric(as.Date(dates))))
times <- c("2023-03-01 14:30:00", "2023-03-01 23:59:30", "1969-12-31 12:00:00")
print(data.frame(time = times, day = as.numeric(as.POSIXct(times, tz = "UTC")) / 86400))
# days(visit_date, baseline_date) in the frame test
visit <- as.Date(c("2023-03-01", "2024-02-29", NA, "2021-01-15"))
baseline <- as.Date(c("2020-02-28", "2020-02-28", "2020-02-29", "2021-03-01"))
print(as.numeric(difftime(visit, baseline, units = "days")))
print(as.numeric(difftime(as.POSIXct("2023-03-02 06:00", tz = "UTC"), as.POSIXct("2023-03-01 18:00", tz = "UTC"),
                          units = "days")))
