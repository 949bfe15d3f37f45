#include "stats/probability.h"

#include <cmath>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include "stats/tidy.h"

namespace cohortdb::stats::prob {

namespace bm = boost::math;

double StudentTUpper(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
  if (std::isinf(df)) return NormalUpper(t);
  return bm::cdf(bm::complement(bm::students_t(df), t));
}

double StudentTTwoSided(double t, double df) {
  if (std::isnan(t)) return kNaN;
  return 2.0 * StudentTUpper(std::fabs(t), df);
}

double StudentTQuantile(double p, double df) {
  if (!(p > 0 && p < 1) || std::isnan(df) || !(df > 0)) return kNaN;
  if (std::isinf(df)) return NormalQuantile(p);
  return bm::quantile(bm::students_t(df), p);
}

double NormalUpper(double z) {
  if (std::isnan(z)) return kNaN;
  if (std::isinf(z)) return z > 0 ? 0.0 : 1.0;
  return bm::cdf(bm::complement(bm::normal(), z));
}

double NormalLower(double z) {
  if (std::isnan(z)) return kNaN;
  if (std::isinf(z)) return z > 0 ? 1.0 : 0.0;
  return bm::cdf(bm::normal(), z);
}

double NormalTwoSided(double z) {
  if (std::isnan(z)) return kNaN;
  return 2.0 * NormalUpper(std::fabs(z));
}

double NormalQuantile(double p) {
  if (!(p > 0 && p < 1)) return kNaN;
  return bm::quantile(bm::normal(), p);
}

double ChiSquaredUpper(double x, double df) {
  if (std::isnan(x) || std::isnan(df) || !(df > 0)) return kNaN;
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return bm::cdf(bm::complement(bm::chi_squared(df), x));
}

double FisherFUpper(double f, double df1, double df2) {
  if (std::isnan(f) || !(df1 > 0) || !(df2 > 0)) return kNaN;
  if (f <= 0) return 1.0;
  if (std::isinf(f)) return 0.0;
  return bm::cdf(bm::complement(bm::fisher_f(df1, df2), f));
}

}  // namespace cohortdb::stats::prob
