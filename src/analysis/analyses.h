#pragma once
// Internal to src/analysis: the spec of each analysis (one per file) and the
// options every analysis shares, from which the registry (analysis.cpp) builds
// its table.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/analysis.h"

namespace cohortdb::analysis {

AnalysisSpec DescribeAnalysis();
AnalysisSpec CorrelateAnalysis();
AnalysisSpec CompareAnalysis();
AnalysisSpec RegressAnalysis();
AnalysisSpec LogisticAnalysis();
AnalysisSpec PrevalenceAnalysis();
AnalysisSpec MediateAnalysis();
AnalysisSpec MetaAnalysis();
AnalysisSpec LmmAnalysis();
AnalysisSpec GlmAnalysis();

// --study --frame --censored --derive --cut --by --min-cell --plot.
std::vector<OptionSpec> CommonOptions();

// Disclosure control: when 0 < count < min_cell, sets the named fields of
// "extra" to null, clears "n", sets "estimate" to NaN and marks
// {"suppressed": true}. Returns true if it suppressed.
bool SuppressSmallCount(std::int64_t count, std::optional<std::int64_t> min_cell,
                        nlohmann::ordered_json& extra, std::optional<std::int64_t>& n, double& estimate,
                        const std::vector<std::string>& fields);

// Complementary (secondary) suppression for --min-cell. Each line is a set
// of rows whose counts add up to a figure that is shown or can be worked out
// (the levels of a variable within a group add up to its non-missing count;
// the by-strata add up to the overall row). A line with exactly one
// suppressed row would give that row away, so the row of the line with the
// smallest positive "size" that is not suppressed yet is suppressed too
// (marked {"suppressed": true, "complementary": true}, "fields" nulled),
// over all lines until none has exactly one. A line whose other rows are all
// empty cannot be protected this way. Returns the rows suppressed.
std::int64_t SuppressComplements(std::vector<ResultRow>& rows, const std::vector<std::vector<std::size_t>>& lines,
                                 const std::function<std::int64_t(const ResultRow&)>& size,
                                 const std::vector<std::string>& fields);

// Groups row indexes by a key; keys that are empty are left out. The groups
// (in order of first appearance) are the lines for SuppressComplements.
std::vector<std::vector<std::size_t>> LinesByKey(const std::vector<ResultRow>& rows,
                                                 const std::function<std::string(const ResultRow&)>& key);

}  // namespace cohortdb::analysis
