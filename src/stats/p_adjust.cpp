#include "stats/p_adjust.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cohortdb::stats {

namespace {

// Indices of the non-NaN entries of p sorted by p (stable), ascending or descending.
std::vector<std::size_t> Order(const std::vector<double>& p, bool descending) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (!std::isnan(p[i])) idx.push_back(i);
  }
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    return descending ? p[a] > p[b] : p[a] < p[b];
  });
  return idx;
}

}  // namespace

std::vector<double> AdjustHolm(const std::vector<double>& p) {
  std::vector<double> out = p;
  const std::vector<std::size_t> o = Order(p, false);
  const double n = static_cast<double>(o.size());
  double running = 0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    running = std::max(running, (n - static_cast<double>(i)) * p[o[i]]);
    out[o[i]] = std::min(1.0, running);
  }
  return out;
}

std::vector<double> AdjustBenjaminiHochberg(const std::vector<double>& p) {
  std::vector<double> out = p;
  const std::vector<std::size_t> o = Order(p, true);
  const double n = static_cast<double>(o.size());
  double running = 1.0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    const double rank = n - static_cast<double>(i);  // rank from the smallest p
    running = std::min(running, n / rank * p[o[i]]);
    out[o[i]] = std::min(1.0, running);
  }
  return out;
}

}  // namespace cohortdb::stats
