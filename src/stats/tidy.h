#pragma once
// Shared result shapes of src/stats: a coefficient row as R's broom::tidy()
// prints it. Missing values (not applicable, not estimable) are NaN.

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace cohortdb::stats {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One estimated term. For odds-ratio models estimate/conf_* are on the log-odds
// scale; callers exponentiate (see OddsRatio helpers in logistic.h).
struct TermEstimate {
  std::string term;
  double estimate = kNaN;
  double std_error = kNaN;
  double statistic = kNaN;  // t or z
  double p_value = kNaN;
  double conf_low = kNaN;
  double conf_high = kNaN;
};

// The row of "term" in "terms"; throws InputError naming "model" and the
// terms there are when it is missing.
const TermEstimate& FindTerm(const std::vector<TermEstimate>& terms, std::string_view term, std::string_view model);

}  // namespace cohortdb::stats
