#pragma once
// Ranks with ties given their average rank (R: rank(x, ties.method =
// "average")), the basis of Spearman's rho and the Wilcoxon rank-sum test.
// Pure functions, thread-safe.

#include <cstddef>
#include <vector>

namespace cohortdb::stats {

// Average ranks (1-based) of x, which must be free of NaN (not checked).
std::vector<double> AverageRanks(const std::vector<double>& x);

// Sizes of the groups of tied values in x (groups of size 1 included), free of
// NaN; what R's table(rank(x)) counts for tie corrections.
std::vector<std::size_t> TieGroupSizes(const std::vector<double>& x);

}  // namespace cohortdb::stats
