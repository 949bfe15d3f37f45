#pragma once
// A small checker of the standalone SVG cohortdb writes (forest plots). For
// tests only.

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace cohortdb::testing {

// Every element opened is closed in order, every '&' starts an entity, no
// '<' inside an attribute value, and the only URL is the SVG namespace.
inline bool WellFormedSvg(const std::string& xml, std::string* error) {
  std::vector<std::string> stack;
  std::size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string::npos) {
    const std::size_t end = xml.find('>', pos);
    if (end == std::string::npos) {
      *error = "unterminated tag";
      return false;
    }
    const std::string tag = xml.substr(pos + 1, end - pos - 1);
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) {
      *error = "unbalanced quotes in <" + tag + ">";
      return false;
    }
    pos = end + 1;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    if (tag.back() == '/') continue;
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) {
        *error = "unexpected </" + name + ">";
        return false;
      }
      stack.pop_back();
      continue;
    }
    stack.push_back(tag.substr(0, tag.find_first_of(" \t\n")));
  }
  if (!stack.empty()) {
    *error = "unclosed <" + stack.back() + ">";
    return false;
  }
  for (std::size_t amp = xml.find('&'); amp != std::string::npos; amp = xml.find('&', amp + 1)) {
    const std::string rest = xml.substr(amp, 6);
    if (rest.rfind("&amp;", 0) != 0 && rest.rfind("&lt;", 0) != 0 && rest.rfind("&gt;", 0) != 0 &&
        rest.rfind("&quot;", 0) != 0) {
      *error = "a bare & at " + std::to_string(amp);
      return false;
    }
  }
  std::string without_namespace = xml;
  const std::string ns = "http://www.w3.org/2000/svg";
  without_namespace.erase(without_namespace.find(ns), ns.size());
  if (without_namespace.find("http") != std::string::npos || without_namespace.find("href") != std::string::npos) {
    *error = "an external reference";
    return false;
  }
  return true;
}

}  // namespace cohortdb::testing
