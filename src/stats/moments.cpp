#include "stats/moments.h"

#include <cmath>

#include "stats/tidy.h"

namespace cohortdb::stats {

std::vector<double> DropMissing(const std::vector<double>& x) {
  std::vector<double> out;
  out.reserve(x.size());
  for (double v : x) {
    if (!std::isnan(v)) out.push_back(v);
  }
  return out;
}

double Mean(const std::vector<double>& x) {
  if (x.empty()) return kNaN;
  const double n = static_cast<double>(x.size());
  double sum = 0;
  for (double v : x) sum += v;
  const double m = sum / n;
  double correction = 0;
  for (double v : x) correction += v - m;
  return m + correction / n;
}

double SampleVariance(const std::vector<double>& x) {
  if (x.size() < 2) return kNaN;
  const double m = Mean(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return ss / (static_cast<double>(x.size()) - 1.0);
}

}  // namespace cohortdb::stats
