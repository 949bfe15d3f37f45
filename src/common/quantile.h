#pragma once
// Sample quantiles as R's quantile(type = 7): for sorted x[0..n-1] and p in
// [0, 1], h = (n - 1) p, Q = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).

#include <vector>

namespace cohortdb {

// "sorted" must be ascending and non-empty, p in [0, 1] (callers check).
double QuantileType7Sorted(const std::vector<double>& sorted, double p);

// Sorts a copy; returns NaN for an empty input.
double QuantileType7(std::vector<double> values, double p);

}  // namespace cohortdb
