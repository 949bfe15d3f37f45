#include "stats/chi_square.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "stats/probability.h"

namespace cohortdb::stats {

ChiSquareResult ChiSquareIndependence(const Eigen::MatrixXd& counts, bool correct) {
  const Eigen::Index r = counts.rows();
  const Eigen::Index c = counts.cols();
  if (r < 2 || c < 2) {
    throw NumericalError("ChiSquareIndependence: argument counts must be at least 2 x 2, found " +
                         std::to_string(r) + " x " + std::to_string(c));
  }
  for (Eigen::Index i = 0; i < r; ++i) {
    for (Eigen::Index j = 0; j < c; ++j) {
      if (!(counts(i, j) >= 0) || std::isinf(counts(i, j))) {
        throw NumericalError("ChiSquareIndependence: argument counts has an invalid cell (" +
                             std::to_string(i + 1) + ", " + std::to_string(j + 1) +
                             "); counts must be finite and >= 0");
      }
    }
  }
  const Eigen::VectorXd row_sums = counts.rowwise().sum();
  const Eigen::RowVectorXd col_sums = counts.colwise().sum();
  for (Eigen::Index i = 0; i < r; ++i) {
    if (row_sums(i) == 0) {
      throw NumericalError("ChiSquareIndependence: row " + std::to_string(i + 1) +
                           " of argument counts sums to zero; expected counts undefined");
    }
  }
  for (Eigen::Index j = 0; j < c; ++j) {
    if (col_sums(j) == 0) {
      throw NumericalError("ChiSquareIndependence: column " + std::to_string(j + 1) +
                           " of argument counts sums to zero; expected counts undefined");
    }
  }
  const double total = counts.sum();
  ChiSquareResult out;
  out.expected = row_sums * col_sums / total;
  out.small_expected = (out.expected.array() < 5).any();
  const Eigen::ArrayXXd deviation = (counts - out.expected).array().abs();
  double yates = 0;
  if (correct && r == 2 && c == 2) {
    yates = std::min(0.5, deviation.minCoeff());
    out.yates = yates > 0;
  }
  out.statistic = ((deviation - yates).square() / out.expected.array()).sum();
  out.df = static_cast<double>((r - 1) * (c - 1));
  out.p_value = prob::ChiSquaredUpper(out.statistic, out.df);
  return out;
}

ChiSquareResult ChiSquareTrend(const std::vector<double>& events, const std::vector<double>& totals,
                               std::vector<double> scores) {
  const std::size_t k = events.size();
  if (scores.empty()) {
    for (std::size_t i = 0; i < k; ++i) scores.push_back(static_cast<double>(i + 1));
  }
  if (totals.size() != k || scores.size() != k) {
    throw NumericalError("ChiSquareTrend: arguments events, totals and scores differ in length (" +
                         std::to_string(k) + ", " + std::to_string(totals.size()) + ", " +
                         std::to_string(scores.size()) + ")");
  }
  if (k < 2) {
    throw NumericalError("ChiSquareTrend: argument events has " + std::to_string(k) +
                         " groups, at least 2 needed");
  }
  double sum_events = 0, sum_totals = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (!(totals[i] > 0) || !(events[i] >= 0 && events[i] <= totals[i]) || std::isnan(scores[i])) {
      throw NumericalError("ChiSquareTrend: group " + std::to_string(i + 1) +
                           " needs totals > 0, 0 <= events <= totals and a score, found events " +
                           std::to_string(events[i]) + " of " + std::to_string(totals[i]));
    }
    sum_events += events[i];
    sum_totals += totals[i];
  }
  const double p = sum_events / sum_totals;
  if (!(p > 0 && p < 1)) {
    throw NumericalError("ChiSquareTrend: the overall proportion of events is " + std::to_string(p) +
                         "; the trend test needs it strictly between 0 and 1");
  }
  // R fits lm(events/totals ~ score, weights = totals / (p (1 - p))) and takes
  // the regression sum of squares of score.
  double sw = 0, swx = 0, swy = 0;
  std::vector<double> w(k), f(k);
  for (std::size_t i = 0; i < k; ++i) {
    w[i] = totals[i] / p / (1 - p);
    f[i] = events[i] / totals[i];
    sw += w[i];
    swx += w[i] * scores[i];
    swy += w[i] * f[i];
  }
  const double mean_score = swx / sw;
  const double mean_f = swy / sw;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < k; ++i) {
    sxx += w[i] * (scores[i] - mean_score) * (scores[i] - mean_score);
    sxy += w[i] * (scores[i] - mean_score) * (f[i] - mean_f);
  }
  if (!(sxx > 0)) {
    throw NumericalError("ChiSquareTrend: argument scores is constant; no trend can be tested");
  }
  ChiSquareResult out;
  out.statistic = sxy * sxy / sxx;
  out.df = 1;
  out.p_value = prob::ChiSquaredUpper(out.statistic, 1);
  return out;
}

}  // namespace cohortdb::stats
