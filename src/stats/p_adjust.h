#pragma once
// Multiple-testing adjustment of p-values as R's p.adjust(p, method). NaN
// p-values stay NaN and are not counted in the number of tests (R's NA
// handling). Pure functions, thread-safe.

#include <vector>

namespace cohortdb::stats {

// Holm's step-down adjustment (p.adjust(p, "holm")). Results in input order.
std::vector<double> AdjustHolm(const std::vector<double>& p);

// Benjamini-Hochberg false discovery rate (p.adjust(p, "BH")).
std::vector<double> AdjustBenjaminiHochberg(const std::vector<double>& p);

}  // namespace cohortdb::stats
