#pragma once
// How import messages quote what they found.

#include <string>
#include <string_view>

namespace cohortdb {

// 'text' for messages, with line breaks and tabs written as \n, \r, \t so
// every message stays on one line.
inline std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out.push_back(c);
  }
  return out + "'";
}

}  // namespace cohortdb
