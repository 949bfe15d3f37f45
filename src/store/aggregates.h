#pragma once
// Statistical SQL functions registered on every connection a Store opens:
//   median(x), quantile(x, p)  R's type 7 quantile (p in [0, 1])
//   stdev(x), variance(x)      sample (n - 1) standard deviation and variance
//   covar(x, y), corr(x, y)    sample covariance and Pearson correlation
// NULLs (and non-numeric values) are skipped as SQL aggregates do; too few
// values (fewer than 1 for median/quantile, 2 for the others) give NULL, as
// does a zero variance for corr.

struct sqlite3;

namespace cohortdb {

void RegisterAggregates(sqlite3* db);

}  // namespace cohortdb
