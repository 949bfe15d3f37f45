#include "stats/t_test.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "stats/moments.h"
#include "stats/probability.h"

namespace cohortdb::stats {

namespace {

void CheckConfLevel(const char* function, double conf_level) {
  if (!(conf_level > 0 && conf_level < 1)) {
    throw NumericalError(std::string(function) + ": argument conf_level must be in (0, 1), found " +
                         std::to_string(conf_level));
  }
}

void CheckCount(const char* function, const char* argument, std::size_t n, std::size_t needed) {
  if (n < needed) {
    throw NumericalError(std::string(function) + ": argument " + argument + " has " + std::to_string(n) +
                         " non-missing values, at least " + std::to_string(needed) + " needed");
  }
}

// Fills t, p and the CI from the estimate, its SE and df (R's t.test tail).
void Finish(const char* function, double conf_level, TTestResult* r) {
  const double scale = std::max(std::fabs(r->mean_x), std::fabs(r->mean_y));
  if (!(r->std_error >= 10 * std::numeric_limits<double>::epsilon() * scale) || r->std_error == 0) {
    throw NumericalError(std::string(function) + ": data are essentially constant (standard error " +
                         std::to_string(r->std_error) + ")");
  }
  r->statistic = r->estimate / r->std_error;
  r->p_value = prob::StudentTTwoSided(r->statistic, r->df);
  const double q = prob::StudentTQuantile(1 - (1 - conf_level) / 2, r->df);
  r->conf_low = (r->statistic - q) * r->std_error;
  r->conf_high = (r->statistic + q) * r->std_error;
}

// Sizes, means and their difference: the start of both t tests.
TTestResult Means(const std::vector<double>& a, const std::vector<double>& b) {
  TTestResult r;
  r.n_x = a.size();
  r.n_y = b.size();
  r.mean_x = Mean(a);
  r.mean_y = Mean(b);
  r.estimate = r.mean_x - r.mean_y;
  return r;
}

}  // namespace

TTestResult StudentTTest(const std::vector<double>& x, const std::vector<double>& y, double conf_level) {
  CheckConfLevel("StudentTTest", conf_level);
  const std::vector<double> a = DropMissing(x);
  const std::vector<double> b = DropMissing(y);
  CheckCount("StudentTTest", "x", a.size(), 1);
  CheckCount("StudentTTest", "y", b.size(), 1);
  if (a.size() + b.size() < 3) {
    throw NumericalError("StudentTTest: arguments x and y have " + std::to_string(a.size() + b.size()) +
                         " non-missing values together, at least 3 needed");
  }
  TTestResult r = Means(a, b);
  const double nx = static_cast<double>(r.n_x);
  const double ny = static_cast<double>(r.n_y);
  r.df = nx + ny - 2;
  double v = 0;
  if (r.n_x > 1) v += (nx - 1) * SampleVariance(a);
  if (r.n_y > 1) v += (ny - 1) * SampleVariance(b);
  v /= r.df;
  r.std_error = std::sqrt(v * (1 / nx + 1 / ny));
  Finish("StudentTTest", conf_level, &r);
  return r;
}

TTestResult WelchTTest(const std::vector<double>& x, const std::vector<double>& y, double conf_level) {
  CheckConfLevel("WelchTTest", conf_level);
  const std::vector<double> a = DropMissing(x);
  const std::vector<double> b = DropMissing(y);
  CheckCount("WelchTTest", "x", a.size(), 2);
  CheckCount("WelchTTest", "y", b.size(), 2);
  TTestResult r = Means(a, b);
  const double nx = static_cast<double>(r.n_x);
  const double ny = static_cast<double>(r.n_y);
  const double se_x = std::sqrt(SampleVariance(a) / nx);
  const double se_y = std::sqrt(SampleVariance(b) / ny);
  r.std_error = std::sqrt(se_x * se_x + se_y * se_y);
  r.df = std::pow(r.std_error, 4) / (std::pow(se_x, 4) / (nx - 1) + std::pow(se_y, 4) / (ny - 1));
  Finish("WelchTTest", conf_level, &r);
  return r;
}

}  // namespace cohortdb::stats
