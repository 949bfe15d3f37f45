#pragma once
// Mean and sample variance computed as R's mean() and var() do (two passes,
// the second correcting rounding), and removal of missing (NaN) values.
// Building blocks of the other src/stats files. Pure functions, thread-safe.

#include <vector>

namespace cohortdb::stats {

// x without its NaN values, order kept.
std::vector<double> DropMissing(const std::vector<double>& x);

// Arithmetic mean; NaN for empty input.
double Mean(const std::vector<double>& x);

// Sample variance (denominator n - 1); NaN for fewer than two values.
double SampleVariance(const std::vector<double>& x);

}  // namespace cohortdb::stats
