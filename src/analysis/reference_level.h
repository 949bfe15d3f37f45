#pragma once
// --ref VAR=LEVEL (repeatable; `ref = ["VAR=LEVEL"]` in recipes): the named
// level becomes the reference (first level) of a categorical frame column,
// the other levels keeping their order, as R's relevel(). Applies to text
// columns, catalog-labelled categorical variables and --cut columns alike.

#include <map>
#include <string>
#include <vector>

namespace cohortdb::analysis {

class Frame;
class Options;

struct ReferenceLevel {
  std::string variable;
  std::string level;
};

// The --ref items of "options", parsed. InputError for an item that is not
// VAR=LEVEL ("--ref: expected VAR=LEVEL, found 'sex'") or a variable named
// twice.
std::vector<ReferenceLevel> ParseReferenceLevels(const Options& options);

// Reorders the levels of each --ref column of "frame". InputError naming the
// variable when it is not in the frame (with the closest names), is numeric,
// or has no such level (listing its levels).
void ApplyReferenceLevels(Frame& frame, const Options& options);

// The checks possible before any row is read (ValidateRequest): syntax, the
// variable among "columns" (the frame's columns and derived names), and the
// level among "known_levels" of the variable when that is known (catalog
// levels, --cut levels); text columns are checked when the frame is read.
void ValidateReferenceLevels(const Options& options, const std::vector<std::string>& columns,
                             const std::map<std::string, std::vector<std::string>>& known_levels);

}  // namespace cohortdb::analysis
