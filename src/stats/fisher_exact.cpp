#include "stats/fisher_exact.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <boost/math/special_functions/gamma.hpp>

#include "common/error.h"

namespace cohortdb::stats {

namespace {

double LogChoose(double n, double k) {
  return boost::math::lgamma(n + 1) - boost::math::lgamma(k + 1) - boost::math::lgamma(n - k + 1);
}

// The conditional distribution of the top-left cell given the margins (R's
// fisher.test internals: m = first column total, n = second column total,
// k = first row total).
class NoncentralHypergeometric {
 public:
  NoncentralHypergeometric(double m, double n, double k) {
    lo_ = std::max(0.0, k - n);
    hi_ = std::min(k, m);
    for (double x = lo_; x <= hi_; x += 1) {
      support_.push_back(x);
      log_dc_.push_back(LogChoose(m, x) + LogChoose(n, k - x) - LogChoose(m + n, k));
    }
  }

  double lo() const { return lo_; }
  double hi() const { return hi_; }

  // Probabilities over the support for odds ratio exp(log_ncp).
  std::vector<double> Density(double log_ncp) const {
    std::vector<double> d(support_.size());
    double max = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < d.size(); ++i) {
      d[i] = log_dc_[i] + log_ncp * support_[i];
      max = std::max(max, d[i]);
    }
    double sum = 0;
    for (double& v : d) {
      v = std::exp(v - max);
      sum += v;
    }
    for (double& v : d) v /= sum;
    return d;
  }

  double Mean(double log_ncp) const {
    const std::vector<double> d = Density(log_ncp);
    double mean = 0;
    for (std::size_t i = 0; i < d.size(); ++i) mean += support_[i] * d[i];
    return mean;
  }

  // P(X <= q) or P(X >= q) under odds ratio exp(log_ncp).
  double Tail(double q, double log_ncp, bool upper) const {
    const std::vector<double> d = Density(log_ncp);
    double p = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (upper ? support_[i] >= q : support_[i] <= q) p += d[i];
    }
    return p;
  }

  const std::vector<double>& support() const { return support_; }

 private:
  double lo_ = 0;
  double hi_ = 0;
  std::vector<double> support_;
  std::vector<double> log_dc_;
};

// Root of an increasing function f of log odds ratio, found by bracketing and
// bisection to full double precision. f(-inf) < 0 < f(+inf) is the caller's
// promise.
template <typename F>
double SolveLogOddsIncreasing(F f) {
  double lo = -1, hi = 1;
  while (f(lo) > 0 && lo > -700) lo *= 2;
  while (f(hi) < 0 && hi < 700) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, std::fabs(lo)); ++i) {
    const double mid = (lo + hi) / 2;
    if (f(mid) < 0) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return (lo + hi) / 2;
}

}  // namespace

FisherExactResult FisherExactTest(double a, double b, double c, double d, double conf_level) {
  const double cells[4] = {a, b, c, d};
  const char* names[4] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; ++i) {
    if (!(cells[i] >= 0) || std::isinf(cells[i]) || cells[i] != std::floor(cells[i])) {
      throw NumericalError(std::string("FisherExactTest: cell ") + names[i] +
                           " must be a non-negative whole count, found " + std::to_string(cells[i]));
    }
  }
  if (!(conf_level > 0 && conf_level < 1)) {
    throw NumericalError("FisherExactTest: argument conf_level must be in (0, 1), found " +
                         std::to_string(conf_level));
  }
  FisherExactResult out;
  out.sample_odds_ratio = (a * d) / (b * c);
  const NoncentralHypergeometric dist(a + c, b + d, a + b);
  const double x = a;

  // Two-sided p under odds ratio 1.
  const std::vector<double> density = dist.Density(0.0);
  const double observed = density[static_cast<std::size_t>(x - dist.lo())];
  double p = 0;
  for (double v : density) {
    if (v <= observed * (1 + 1e-7)) p += v;
  }
  out.p_value = std::min(1.0, p);

  // Conditional MLE: the odds ratio whose conditional mean equals x.
  if (dist.lo() == dist.hi()) {
    out.odds_ratio = kNaN;
  } else if (x == dist.lo()) {
    out.odds_ratio = 0;
  } else if (x == dist.hi()) {
    out.odds_ratio = std::numeric_limits<double>::infinity();
  } else {
    out.odds_ratio = std::exp(SolveLogOddsIncreasing([&](double t) { return dist.Mean(t) - x; }));
  }

  // Conditional CI: P(X >= x | L) = alpha and P(X <= x | U) = alpha.
  const double alpha = (1 - conf_level) / 2;
  if (dist.lo() == dist.hi()) {
    out.conf_low = 0;
    out.conf_high = std::numeric_limits<double>::infinity();
  } else {
    out.conf_low = x == dist.lo() ? 0.0
                                  : std::exp(SolveLogOddsIncreasing(
                                        [&](double t) { return dist.Tail(x, t, true) - alpha; }));
    out.conf_high = x == dist.hi() ? std::numeric_limits<double>::infinity()
                                   : std::exp(SolveLogOddsIncreasing(
                                         [&](double t) { return alpha - dist.Tail(x, t, false); }));
  }
  return out;
}

}  // namespace cohortdb::stats
