#include "stats/descriptives.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "common/error.h"
#include "stats/moments.h"

namespace cohortdb::stats {


double QuantileSorted(const std::vector<double>& sorted, double p) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw NumericalError("Quantile: argument p must be in [0, 1], found " + std::to_string(p));
  }
  if (sorted.empty()) {
    throw NumericalError("Quantile: argument x has no non-missing value");
  }
  // R: index = 1 + (n - 1) p; lo = floor(index); (1 - h) x[lo] + h x[hi].
  const double index = (static_cast<double>(sorted.size()) - 1.0) * p;
  const double lo_index = std::floor(index);
  const std::size_t lo = static_cast<std::size_t>(lo_index);
  const double h = index - lo_index;
  if (h <= 0 || lo + 1 >= sorted.size() || sorted[lo + 1] == sorted[lo]) return sorted[lo];
  return (1 - h) * sorted[lo] + h * sorted[lo + 1];
}

double Quantile(std::vector<double> x, double p) {
  x.erase(std::remove_if(x.begin(), x.end(), [](double v) { return std::isnan(v); }), x.end());
  std::sort(x.begin(), x.end());
  return QuantileSorted(x, p);
}

NumericSummary Describe(const std::vector<double>& x) {
  NumericSummary s;
  std::vector<double> v = DropMissing(x);
  s.n = v.size();
  s.missing = x.size() - v.size();
  if (v.empty()) return s;
  s.mean = Mean(v);
  s.sd = std::sqrt(SampleVariance(v));
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.q1 = QuantileSorted(v, 0.25);
  s.median = QuantileSorted(v, 0.5);
  s.q3 = QuantileSorted(v, 0.75);
  return s;
}

CategoricalSummary CountLevels(const std::vector<std::optional<std::string>>& x,
                               const std::vector<std::string>& level_order) {
  CategoricalSummary s;
  std::map<std::string, std::size_t> counts;
  for (const std::string& level : level_order) counts.emplace(level, 0);
  for (const auto& value : x) {
    if (!value) {
      ++s.missing;
      continue;
    }
    auto it = counts.find(*value);
    if (it == counts.end()) {
      if (!level_order.empty()) {
        throw NumericalError("CountLevels: value '" + *value +
                             "' is not one of the levels given in argument level_order");
      }
      it = counts.emplace(*value, 0).first;
    }
    ++it->second;
    ++s.n;
  }
  auto add = [&](const std::string& level, std::size_t count) {
    LevelCount row;
    row.level = level;
    row.count = count;
    row.percent = s.n == 0 ? kNaN : 100.0 * static_cast<double>(count) / static_cast<double>(s.n);
    s.levels.push_back(row);
  };
  if (!level_order.empty()) {
    for (const std::string& level : level_order) add(level, counts[level]);
  } else {
    for (const auto& [level, count] : counts) add(level, count);
  }
  return s;
}

double StandardisedMeanDifference(const std::vector<double>& group1,
                                  const std::vector<double>& group2) {
  const std::vector<double> a = DropMissing(group1);
  const std::vector<double> b = DropMissing(group2);
  if (a.size() < 2 || b.size() < 2) {
    throw NumericalError("StandardisedMeanDifference: each group needs at least 2 non-missing values, found " +
                         std::to_string(a.size()) + " in group1 and " + std::to_string(b.size()) +
                         " in group2");
  }
  const double pooled = std::sqrt((SampleVariance(a) + SampleVariance(b)) / 2.0);
  if (pooled == 0) return kNaN;
  return (Mean(a) - Mean(b)) / pooled;
}

double StandardisedProportionDifference(double p1, double p2) {
  if (!(p1 >= 0 && p1 <= 1) || !(p2 >= 0 && p2 <= 1)) {
    throw NumericalError("StandardisedProportionDifference: arguments p1 and p2 must be proportions in [0, 1], found " +
                         std::to_string(p1) + " and " + std::to_string(p2));
  }
  const double pooled = std::sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2.0);
  if (pooled == 0) return kNaN;
  return (p1 - p2) / pooled;
}

double StandardisedCategoricalDifference(const std::vector<double>& p1, const std::vector<double>& p2) {
  if (p1.size() != p2.size() || p1.size() < 2) {
    throw NumericalError(fmt::format("StandardisedCategoricalDifference: expected two proportion vectors of the same "
                                     "length (at least 2 levels), found lengths {} and {}",
                                     p1.size(), p2.size()));
  }
  for (const std::vector<double>* group : {&p1, &p2}) {
    for (const double p : *group) {
      if (!(p >= 0 && p <= 1)) {
        throw NumericalError(
            fmt::format("StandardisedCategoricalDifference: proportions must lie in [0, 1], found {}", p));
      }
    }
  }
  const Eigen::Index k = static_cast<Eigen::Index>(p1.size()) - 1;
  Eigen::VectorXd t(k);
  Eigen::MatrixXd s(k, k);
  for (Eigen::Index i = 0; i < k; ++i) {
    const double a = p1[static_cast<std::size_t>(i) + 1], b = p2[static_cast<std::size_t>(i) + 1];
    t(i) = a - b;
    for (Eigen::Index j = 0; j < k; ++j) {
      const double c = p1[static_cast<std::size_t>(j) + 1], d = p2[static_cast<std::size_t>(j) + 1];
      s(i, j) = i == j ? (a * (1 - a) + b * (1 - b)) / 2 : -(a * c + b * d) / 2;
    }
  }
  // Moore-Penrose inverse through the SVD, dropping singular values below
  // sqrt(machine epsilon) times the largest, as MASS::ginv does.
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(s, Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Eigen::VectorXd& d = svd.singularValues();
  const double tolerance = std::sqrt(std::numeric_limits<double>::epsilon()) * (d.size() > 0 ? d(0) : 0.0);
  Eigen::VectorXd inverse = Eigen::VectorXd::Zero(d.size());
  for (Eigen::Index i = 0; i < d.size(); ++i) {
    if (d(i) > tolerance) inverse(i) = 1.0 / d(i);
  }
  const Eigen::MatrixXd pinv = svd.matrixV() * inverse.asDiagonal() * svd.matrixU().transpose();
  return std::sqrt(std::max(0.0, t.dot(pinv * t)));
}

}  // namespace cohortdb::stats
