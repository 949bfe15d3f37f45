#include "stats/effect_size.h"

#include <cmath>
#include <string>

#include <boost/math/special_functions/gamma.hpp>

#include "common/error.h"

namespace cohortdb::stats {

namespace {

void Require(bool ok, const char* function, const char* argument, double value, const char* expected) {
  if (!ok) {
    throw NumericalError(std::string(function) + ": argument " + argument + " must be " + expected + ", found " +
                         std::to_string(value));
  }
}

void CheckArms(const char* f, double m1, double sd1, double n1, double m2, double sd2, double n2) {
  Require(std::isfinite(m1), f, "m1", m1, "finite");
  Require(std::isfinite(m2), f, "m2", m2, "finite");
  Require(sd1 >= 0 && std::isfinite(sd1), f, "sd1", sd1, ">= 0");
  Require(sd2 >= 0 && std::isfinite(sd2), f, "sd2", sd2, ">= 0");
  Require(n1 >= 1 && std::isfinite(n1), f, "n1", n1, ">= 1");
  Require(n2 >= 1 && std::isfinite(n2), f, "n2", n2, ">= 1");
}

}  // namespace

EffectSize HedgesG(double m1, double sd1, double n1, double m2, double sd2, double n2) {
  CheckArms("HedgesG", m1, sd1, n1, m2, sd2, n2);
  const double m = n1 + n2 - 2;
  if (m < 2) {
    throw NumericalError("HedgesG: arguments n1 + n2 must be at least 4, found " + std::to_string(n1 + n2));
  }
  const double sd_pooled = std::sqrt(((n1 - 1) * sd1 * sd1 + (n2 - 1) * sd2 * sd2) / m);
  if (!(sd_pooled > 0)) {
    throw NumericalError("HedgesG: arguments sd1 and sd2 give a pooled SD of zero; the SMD is undefined");
  }
  const double d = (m1 - m2) / sd_pooled;
  const double cm = std::exp(boost::math::lgamma(m / 2) - std::log(std::sqrt(m / 2)) - boost::math::lgamma((m - 1) / 2));
  EffectSize e;
  e.yi = cm * d;
  e.vi = 1 / n1 + 1 / n2 + e.yi * e.yi / (2 * (n1 + n2));
  return e;
}

EffectSize MeanDifference(double m1, double sd1, double n1, double m2, double sd2, double n2) {
  CheckArms("MeanDifference", m1, sd1, n1, m2, sd2, n2);
  EffectSize e;
  e.yi = m1 - m2;
  e.vi = sd1 * sd1 / n1 + sd2 * sd2 / n2;
  return e;
}

EffectSize LogOddsRatio(double a, double b, double c, double d) {
  Require(a >= 0 && std::isfinite(a), "LogOddsRatio", "a", a, "a finite count >= 0");
  Require(b >= 0 && std::isfinite(b), "LogOddsRatio", "b", b, "a finite count >= 0");
  Require(c >= 0 && std::isfinite(c), "LogOddsRatio", "c", c, "a finite count >= 0");
  Require(d >= 0 && std::isfinite(d), "LogOddsRatio", "d", d, "a finite count >= 0");
  EffectSize e;
  if (a == 0 || b == 0 || c == 0 || d == 0) {
    a += 0.5;
    b += 0.5;
    c += 0.5;
    d += 0.5;
    e.continuity_corrected = true;
  }
  e.yi = std::log(a * d / (b * c));
  e.vi = 1 / a + 1 / b + 1 / c + 1 / d;
  return e;
}

}  // namespace cohortdb::stats
