#pragma once
// Internal to src/analysis: the spec of each analysis (one per file) and the
// options every analysis shares, from which the registry (analysis.cpp) builds
// its table.

#include <cstdint>
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

// --study --frame --censored --derive --cut --by --min-cell --plot.
std::vector<OptionSpec> CommonOptions();

// Disclosure control: when 0 < count < min_cell, sets the named fields of
// "extra" to null, clears "n", sets "estimate" to NaN and marks
// {"suppressed": true}. Returns true if it suppressed.
bool SuppressSmallCount(std::int64_t count, std::optional<std::int64_t> min_cell,
                        nlohmann::ordered_json& extra, std::optional<std::int64_t>& n, double& estimate,
                        const std::vector<std::string>& fields);

}  // namespace cohortdb::analysis
