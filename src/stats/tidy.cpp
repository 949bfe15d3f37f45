#include "stats/tidy.h"

#include "common/error.h"
#include "stats/model_scaling.h"

namespace cohortdb::stats {

const TermEstimate& FindTerm(const std::vector<TermEstimate>& terms, std::string_view term, std::string_view model) {
  std::vector<std::string> known;
  for (const TermEstimate& row : terms) {
    if (row.term == term) return row;
    known.push_back(row.term);
  }
  throw InputError(std::string(model) + ": no term '" + std::string(term) + "'; terms are " +
                   detail::JoinNames(known));
}

}  // namespace cohortdb::stats
