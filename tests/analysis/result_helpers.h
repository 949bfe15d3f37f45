#pragma once
// Looking up rows of an AnalysisResultSet in tests.

#include <stdexcept>
#include <string>

#include "common/result.h"

namespace cohortdb::testing {

inline const ResultRow& FindRow(const AnalysisResultSet& result, const std::string& section,
                                const std::string& term, const std::string& stratum = "",
                                const std::string& group = "") {
  for (const ResultRow& r : result.rows) {
    if (r.section != section || r.term != term || r.stratum != stratum) continue;
    if (!group.empty() && (!r.extra.contains("group") || r.extra["group"] != group)) continue;
    return r;
  }
  throw std::runtime_error("no row " + section + "/" + term + " [" + stratum + "] " + group);
}

}  // namespace cohortdb::testing
