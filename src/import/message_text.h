#pragma once
// How import messages quote what they found.

#include <string>
#include <string_view>

namespace cohortdb {

// 'text' for messages, with line breaks and tabs written as \n, \r, \t and
// other control bytes as \0 or \xHH, so every message stays on one line and
// whole (a NUL byte would end it early).
inline std::string Quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\0') out += "\\0";
    else if (byte < 0x20 || byte == 0x7f) out += std::string("\\x") + kHex[byte >> 4] + kHex[byte & 0xf];
    else out.push_back(c);
  }
  return out + "'";
}

}  // namespace cohortdb
