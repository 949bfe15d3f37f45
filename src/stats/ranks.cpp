#include "stats/ranks.h"

#include <algorithm>
#include <numeric>

namespace cohortdb::stats {

std::vector<double> AverageRanks(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(n);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i + 1;
    while (j < n && x[order[j]] == x[order[i]]) ++j;
    // Positions i..j-1 (0-based) share ranks i+1..j; their average:
    const double average = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) ranks[order[k]] = average;
    i = j;
  }
  return ranks;
}

std::vector<std::size_t> TieGroupSizes(const std::vector<double>& x) {
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> sizes;
  std::size_t i = 0;
  while (i < sorted.size()) {
    std::size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    sizes.push_back(j - i);
    i = j;
  }
  return sizes;
}

}  // namespace cohortdb::stats
