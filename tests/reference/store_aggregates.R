# Reference values for the SQL aggregates registered by src/store/aggregates.cpp
# (tests/store/test_aggregates.cpp). Run: Rscript tests/reference/store_aggregates.R
x <- c(2.5, NA, 7.25, 1, 3.5, 10, NA, 4.75, 6, 0.5, 9)
y <- c(1.2, 3.4, NA, 0.7, 2.2, 5.1, 8.0, 2.9, 3.3, 0.1, 4.4)
options(digits = 17)
cat("median   ", median(x, na.rm = TRUE), "\n")
for (p in c(0, 0.1, 0.25, 0.9, 1)) cat("quantile ", p, quantile(x, p, type = 7, na.rm = TRUE, names = FALSE), "\n")
cat("sd       ", sd(x, na.rm = TRUE), "\n")
cat("var      ", var(x, na.rm = TRUE), "\n")
ok <- complete.cases(x, y)
cat("cov      ", cov(x[ok], y[ok]), "\n")
cat("cor      ", cor(x[ok], y[ok]), "\n")
