#include "analysis/reference_level.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "analysis/frame.h"
#include "analysis/options.h"
#include "common/close_matches.h"
#include "common/error.h"

namespace cohortdb::analysis {
namespace {

std::string Trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

// "'a', 'b' and 'c'".
std::string Quoted(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += "'" + names[i] + "'";
  }
  return out;
}

void CheckVariable(const std::string& variable, const std::vector<std::string>& columns) {
  if (std::find(columns.begin(), columns.end(), variable) != columns.end()) return;
  const auto close = CloseMatches(variable, columns);
  throw InputError(fmt::format("--ref {}: unknown variable '{}' in the frame{}", variable, variable,
                               close.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(close, ", "))));
}

void CheckLevel(const ReferenceLevel& ref, const std::vector<std::string>& levels) {
  if (std::find(levels.begin(), levels.end(), ref.level) != levels.end()) return;
  throw InputError(fmt::format("--ref {}={}: '{}' has no level '{}'; its levels are {}", ref.variable, ref.level,
                               ref.variable, ref.level, Quoted(levels)));
}

}  // namespace

std::vector<ReferenceLevel> ParseReferenceLevels(const Options& options) {
  std::vector<ReferenceLevel> refs;
  std::set<std::string> seen;
  for (const std::string& item : options.Items("ref")) {
    const auto eq = item.find('=');
    ReferenceLevel ref;
    if (eq != std::string::npos) {
      ref.variable = Trim(item.substr(0, eq));
      ref.level = Trim(item.substr(eq + 1));
    }
    if (ref.variable.empty() || ref.level.empty()) {
      throw InputError(fmt::format("--ref: expected VAR=LEVEL (the level that becomes the reference), found '{}'",
                                   item));
    }
    if (!seen.insert(ref.variable).second) {
      throw InputError(fmt::format("--ref: '{}' is given a reference level twice", ref.variable));
    }
    refs.push_back(std::move(ref));
  }
  return refs;
}

void ApplyReferenceLevels(Frame& frame, const Options& options) {
  const std::vector<ReferenceLevel> refs = ParseReferenceLevels(options);
  if (refs.empty()) return;
  std::vector<std::string> names;
  for (const Column& c : frame.columns()) names.push_back(c.name);
  for (const ReferenceLevel& ref : refs) {
    CheckVariable(ref.variable, names);
    Column column = frame.Get(ref.variable, "ref");
    if (column.numeric) {
      throw InputError(fmt::format("--ref {}={}: '{}' is numeric; a reference level applies to a categorical "
                                   "variable (text, catalog levels, or a --cut column)",
                                   ref.variable, ref.level, ref.variable));
    }
    CheckLevel(ref, column.levels);
    auto it = std::find(column.levels.begin(), column.levels.end(), ref.level);
    const auto k = static_cast<std::int32_t>(it - column.levels.begin());
    std::rotate(column.levels.begin(), it, it + 1);
    // Codes follow their levels: the reference becomes 0, the levels before it move up one.
    for (std::int32_t& code : column.codes) {
      if (code == k) {
        code = 0;
      } else if (code >= 0 && code < k) {
        ++code;
      }
    }
    frame.Put(std::move(column));
  }
}

void ValidateReferenceLevels(const Options& options, const std::vector<std::string>& columns,
                             const std::map<std::string, std::vector<std::string>>& known_levels) {
  for (const ReferenceLevel& ref : ParseReferenceLevels(options)) {
    CheckVariable(ref.variable, columns);
    const auto known = known_levels.find(ref.variable);
    if (known != known_levels.end()) CheckLevel(ref, known->second);
  }
}

}  // namespace cohortdb::analysis
