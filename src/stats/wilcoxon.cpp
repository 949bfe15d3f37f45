#include "stats/wilcoxon.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "stats/moments.h"
#include "stats/probability.h"
#include "stats/ranks.h"

namespace cohortdb::stats {

RankSumResult WilcoxonRankSumTest(const std::vector<double>& x, const std::vector<double>& y) {
  const std::vector<double> a = DropMissing(x);
  const std::vector<double> b = DropMissing(y);
  if (a.empty() || b.empty()) {
    throw NumericalError("WilcoxonRankSumTest: arguments x and y need non-missing values, found " +
                         std::to_string(a.size()) + " in x and " + std::to_string(b.size()) + " in y");
  }
  std::vector<double> pooled = a;
  pooled.insert(pooled.end(), b.begin(), b.end());
  const std::vector<double> ranks = AverageRanks(pooled);
  RankSumResult r;
  r.n_x = a.size();
  r.n_y = b.size();
  const double nx = static_cast<double>(r.n_x);
  const double ny = static_cast<double>(r.n_y);
  double rank_sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) rank_sum += ranks[i];
  r.statistic = rank_sum - nx * (nx + 1) / 2;
  double ties = 0;
  for (std::size_t t : TieGroupSizes(pooled)) {
    const double td = static_cast<double>(t);
    ties += td * td * td - td;
  }
  const double sigma = std::sqrt((nx * ny / 12) * ((nx + ny + 1) - ties / ((nx + ny) * (nx + ny - 1))));
  if (!(sigma > 0)) {
    throw NumericalError("WilcoxonRankSumTest: all values of x and y are tied; the test is undefined");
  }
  double z = r.statistic - nx * ny / 2;
  const double correction = z > 0 ? 0.5 : (z < 0 ? -0.5 : 0.0);
  r.z = (z - correction) / sigma;
  r.p_value = std::min(1.0, 2 * std::min(prob::NormalLower(r.z), prob::NormalUpper(r.z)));
  return r;
}

}  // namespace cohortdb::stats
