#pragma once
// A small checker of the HTML cohortdb writes (recipe run --report): tags
// balanced (void elements and self-closing SVG elements aside), <style>
// content skipped as raw text, no <script>, no <link>, no <iframe>/<object>/
// <embed>, no src/href attribute that reaches a network ("http:", "https:",
// "//"), and no url() or @import in the stylesheet. Returns the problems
// found, empty when none. For tests only.

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace cohortdb::test {

inline std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

inline std::vector<std::string> CheckHtml(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "link", "input", "col", "source", "wbr",
                                              "area", "base", "embed", "param", "track"};
  std::vector<std::string> problems;
  std::vector<std::string> open;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 4, "<!--") == 0) {
      const auto end = html.find("-->", i);
      if (end == std::string::npos) return {"unterminated comment"};
      i = end + 3;
      continue;
    }
    if (html.compare(i, 2, "<!") == 0 || html.compare(i, 2, "<?") == 0) {  // doctype, XML prolog
      i = html.find('>', i);
      if (i == std::string::npos) return {"unterminated declaration"};
      continue;
    }
    const bool closing = i + 1 < html.size() && html[i + 1] == '/';
    std::size_t name_start = i + (closing ? 2 : 1);
    std::size_t name_end = name_start;
    while (name_end < html.size() && (std::isalnum(static_cast<unsigned char>(html[name_end])) ||
                                      html[name_end] == '-' || html[name_end] == ':')) {
      ++name_end;
    }
    if (name_end == name_start) {
      problems.push_back("a bare '<' at offset " + std::to_string(i));
      ++i;
      continue;
    }
    // The tag ends at the first '>' outside a quoted attribute value.
    std::size_t end = name_end;
    char quote = 0;
    for (; end < html.size(); ++end) {
      const char c = html[end];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (end >= html.size()) return {"unterminated tag at offset " + std::to_string(i)};
    const std::string name = Lower(html.substr(name_start, name_end - name_start));
    const std::string tag = html.substr(i, end - i + 1);
    const std::string lower_tag = Lower(tag);
    if (name == "script" || name == "link" || name == "iframe" || name == "object" || name == "embed") {
      problems.push_back("forbidden element: " + tag);
    }
    for (const char* attribute : {"src", "href", "xlink:href", "action", "srcset"}) {
      const std::string needle = std::string(" ") + attribute + "=";
      for (std::size_t a = lower_tag.find(needle); a != std::string::npos; a = lower_tag.find(needle, a + 1)) {
        std::size_t v = a + needle.size();
        if (v < lower_tag.size() && (lower_tag[v] == '"' || lower_tag[v] == '\'')) ++v;
        const std::string value = lower_tag.substr(v, 8);
        if (value.rfind("http:", 0) == 0 || value.rfind("https:", 0) == 0 || value.rfind("//", 0) == 0) {
          problems.push_back("external URL: " + tag);
        }
      }
    }
    const bool self_closing = tag.size() >= 2 && tag[tag.size() - 2] == '/';
    if (closing) {
      if (open.empty() || open.back() != name) {
        problems.push_back("</" + name + "> closes " + (open.empty() ? std::string("nothing") : "<" + open.back() + ">"));
        return problems;
      }
      open.pop_back();
    } else if (!self_closing && !kVoid.count(name)) {
      open.push_back(name);
      if (name == "style") {  // raw text up to </style>
        const auto close = Lower(html).find("</style", end);
        if (close == std::string::npos) return {"unterminated <style>"};
        const std::string css = Lower(html.substr(end + 1, close - end - 1));
        if (css.find("url(") != std::string::npos || css.find("@import") != std::string::npos) {
          problems.push_back("the stylesheet loads something (url() or @import)");
        }
        i = close;
        continue;
      }
    }
    i = end + 1;
  }
  for (const std::string& name : open) problems.push_back("<" + name + "> is never closed");
  return problems;
}

}  // namespace cohortdb::test
