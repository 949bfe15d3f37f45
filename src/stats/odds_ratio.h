#pragma once
// Odds ratios from log-odds coefficient rows (logistic.h, mixed_logistic.h).
// A row that cannot be estimated (aliased term, separation) gives NaN numbers
// and a note in words instead of a huge or zero odds ratio.

#include <string>

#include "stats/tidy.h"

namespace cohortdb::stats {

struct OddsRatio {
  std::string term;
  double odds_ratio = kNaN;
  double conf_low = kNaN;  // Wald interval of the TermEstimate, exponentiated
  double conf_high = kNaN;
  double p_value = kNaN;
  double units = 1.0;  // predictor units the ratio refers to (1, or k * SD)
  std::string note;    // why the ratio is NaN; empty when estimable

  bool estimable() const { return note.empty(); }
};

// exp(units * beta) with interval exp(units * conf_low), exp(units * conf_high)
// (swapped when units < 0). `note`, when not empty, marks the row not estimable.
OddsRatio ToOddsRatio(const TermEstimate& row, double units = 1.0, const std::string& note = {});

}  // namespace cohortdb::stats
