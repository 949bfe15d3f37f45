#include "stats/odds_ratio.h"

#include <cmath>
#include <utility>

namespace cohortdb::stats {

OddsRatio ToOddsRatio(const TermEstimate& row, double units, const std::string& note) {
  OddsRatio out;
  out.term = row.term;
  out.units = units;
  out.note = note;
  if (out.note.empty() && !std::isfinite(row.estimate)) out.note = "coefficient not estimable";
  if (out.note.empty() && !std::isfinite(units)) out.note = "scale of the predictor is not finite";
  if (!out.note.empty()) return out;
  out.odds_ratio = std::exp(units * row.estimate);
  out.conf_low = std::exp(units * row.conf_low);
  out.conf_high = std::exp(units * row.conf_high);
  if (out.conf_low > out.conf_high) std::swap(out.conf_low, out.conf_high);
  out.p_value = row.p_value;
  return out;
}

}  // namespace cohortdb::stats
