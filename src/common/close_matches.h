#pragma once
// "Did you mean ...?" for names users type: variables, options, commands.

#include <string>
#include <vector>

namespace cohortdb {

// The close matches of "name" among "candidates", best first (at most five):
// within an edit distance of max(2, length / 3), or containing one another
// when both have 3 or more characters.
std::vector<std::string> CloseMatches(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace cohortdb
