#include "common/quantile.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cohortdb {

double QuantileType7Sorted(const std::vector<double>& sorted, double p) {
  const double h = static_cast<double>(sorted.size() - 1) * p;
  const double lower = std::floor(h);
  const auto i = static_cast<std::size_t>(lower);
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (h - lower) * (sorted[i + 1] - sorted[i]);
}

double QuantileType7(std::vector<double> values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  return QuantileType7Sorted(values, p);
}

}  // namespace cohortdb
