#include "analysis/options.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb::analysis {
namespace {

std::string Trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  int depth = 0;  // commas inside parentheses belong to the item: change(x, a, b)
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '(') ++depth;
    if (i < text.size() && text[i] == ')') --depth;
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      std::string item = Trim(text.substr(start, i - start));
      if (!item.empty()) out.push_back(std::move(item));
      start = i + 1;
    }
  }
  return out;
}

bool Options::Has(const std::string& name) const {
  return options_.is_object() && options_.contains(name) && !options_.at(name).is_null();
}

std::optional<std::string> Options::String(const std::string& name) const {
  if (!Has(name)) return std::nullopt;
  const auto& v = options_.at(name);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  throw InputError(fmt::format("--{}: expected a text value, found {}", name, v.dump()));
}

std::string Options::StringOr(const std::string& name, const std::string& fallback) const {
  return String(name).value_or(fallback);
}

std::string Options::RequiredString(const std::string& name) const {
  auto v = String(name);
  if (!v || v->empty()) throw InputError(fmt::format("--{} is required", name));
  return *v;
}

std::vector<std::string> Options::List(const std::string& name) const {
  std::vector<std::string> out;
  if (!Has(name)) return out;
  const auto& v = options_.at(name);
  if (v.is_string()) return SplitList(v.get<std::string>());
  if (!v.is_array())
    throw InputError(fmt::format("--{}: expected a list of names, found {}", name, v.dump()));
  for (const auto& item : v) {
    if (!item.is_string())
      throw InputError(fmt::format("--{}: expected a list of names, found {}", name, v.dump()));
    for (auto& piece : SplitList(item.get<std::string>())) out.push_back(std::move(piece));
  }
  return out;
}

std::vector<std::string> Options::Items(const std::string& name) const {
  std::vector<std::string> out;
  if (!Has(name)) return out;
  const auto& v = options_.at(name);
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) throw InputError(fmt::format("--{}: expected a list, found {}", name, v.dump()));
  for (const auto& item : v) {
    if (!item.is_string())
      throw InputError(fmt::format("--{}: expected a list of texts, found {}", name, v.dump()));
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::int64_t> Options::Integer(const std::string& name) const {
  if (!Has(name)) return std::nullopt;
  const auto& v = options_.at(name);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    return static_cast<std::int64_t>(v.get<double>());
  }
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      const long long parsed = std::stoll(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size()) return parsed;
    } catch (const std::exception&) {
    }
  }
  throw InputError(fmt::format("--{}: expected an integer, found {}", name, v.dump()));
}

std::optional<double> Options::Number(const std::string& name) const {
  if (!Has(name)) return std::nullopt;
  const auto& v = options_.at(name);
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      const double parsed = std::stod(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size()) return parsed;
    } catch (const std::exception&) {
    }
  }
  throw InputError(fmt::format("--{}: expected a number, found {}", name, v.dump()));
}

bool Options::Flag(const std::string& name) const {
  if (!Has(name)) return false;
  const auto& v = options_.at(name);
  if (v.is_boolean()) return v.get<bool>();
  throw InputError(fmt::format("--{}: expected true or false, found {}", name, v.dump()));
}

}  // namespace cohortdb::analysis
