#include "stats/correlation.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "stats/moments.h"
#include "stats/probability.h"
#include "stats/ranks.h"

namespace cohortdb::stats {

namespace {

struct Pairs {
  std::vector<double> x;
  std::vector<double> y;
};

Pairs CompletePairs(const char* function, const std::vector<double>& x, const std::vector<double>& y,
                    std::string_view x_name, std::string_view y_name) {
  if (x.size() != y.size()) {
    throw NumericalError(std::string(function) + ": variables '" + std::string(x_name) + "' and '" +
                         std::string(y_name) + "' differ in length (" + std::to_string(x.size()) + " vs " +
                         std::to_string(y.size()) + ")");
  }
  Pairs p;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) continue;
    p.x.push_back(x[i]);
    p.y.push_back(y[i]);
  }
  if (p.x.size() < 3) {
    throw NumericalError(std::string(function) + ": variables '" + std::string(x_name) + "' and '" +
                         std::string(y_name) + "' have " + std::to_string(p.x.size()) +
                         " complete pairs, at least 3 needed");
  }
  return p;
}

// Pearson's r of complete pairs, or NaN with a note when a column is constant.
double PearsonR(const Pairs& p, std::string_view x_name, std::string_view y_name, std::string* note) {
  const double mx = Mean(p.x);
  const double my = Mean(p.y);
  double sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = 0; i < p.x.size(); ++i) {
    const double dx = p.x[i] - mx;
    const double dy = p.y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx == 0 || syy == 0) {
    std::string which = sxx == 0 ? std::string(x_name) : std::string(y_name);
    *note = "'" + which + "' is constant (standard deviation zero); correlation undefined";
    return kNaN;
  }
  double r = sxy / std::sqrt(sxx) / std::sqrt(syy);
  if (r > 1) r = 1;
  if (r < -1) r = -1;
  return r;
}

}  // namespace

CorrelationResult PearsonCorrelation(const std::vector<double>& x, const std::vector<double>& y,
                                     std::string_view x_name, std::string_view y_name, double conf_level) {
  if (!(conf_level > 0 && conf_level < 1)) {
    throw NumericalError("PearsonCorrelation: argument conf_level must be in (0, 1), found " +
                         std::to_string(conf_level));
  }
  const Pairs p = CompletePairs("PearsonCorrelation", x, y, x_name, y_name);
  CorrelationResult out;
  out.n = p.x.size();
  out.df = static_cast<double>(out.n) - 2.0;
  out.estimate = PearsonR(p, x_name, y_name, &out.note);
  if (std::isnan(out.estimate)) return out;
  const double r = out.estimate;
  out.statistic = std::sqrt(out.df) * r / std::sqrt(1 - r * r);
  out.p_value = prob::StudentTTwoSided(out.statistic, out.df);
  if (out.n > 3) {
    const double z = std::atanh(r);
    const double sigma = 1.0 / std::sqrt(static_cast<double>(out.n) - 3.0);
    const double q = prob::NormalQuantile((1 + conf_level) / 2);
    out.conf_low = std::tanh(z - sigma * q);
    out.conf_high = std::tanh(z + sigma * q);
  }
  return out;
}

CorrelationResult SpearmanCorrelation(const std::vector<double>& x, const std::vector<double>& y,
                                      std::string_view x_name, std::string_view y_name) {
  const Pairs p = CompletePairs("SpearmanCorrelation", x, y, x_name, y_name);
  Pairs ranked{AverageRanks(p.x), AverageRanks(p.y)};
  CorrelationResult out;
  out.n = p.x.size();
  out.df = static_cast<double>(out.n) - 2.0;
  out.estimate = PearsonR(ranked, x_name, y_name, &out.note);
  if (std::isnan(out.estimate)) return out;
  const double r = out.estimate;
  const double n = static_cast<double>(out.n);
  out.statistic = (n * n * n - n) * (1 - r) / 6.0;
  const double t = r / std::sqrt((1 - r * r) / out.df);
  out.p_value = std::min(1.0, prob::StudentTTwoSided(t, out.df));
  return out;
}

}  // namespace cohortdb::stats
