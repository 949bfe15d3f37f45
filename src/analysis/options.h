#pragma once
// Typed access to the options of an AnalysisRequest (a JSON object keyed by
// option name). Lists accept a JSON array or one comma-separated string.
// Wrong types throw InputError naming the option ("--per-sd: expected a
// number, found \"two\""). Cheap to copy; holds a reference to the request.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/analysis.h"

namespace cohortdb::analysis {

class Options {
 public:
  explicit Options(const AnalysisRequest& request) : options_(request.options) {}

  bool Has(const std::string& name) const;
  std::optional<std::string> String(const std::string& name) const;
  std::string StringOr(const std::string& name, const std::string& fallback) const;
  // Throws InputError "--name is required" when absent.
  std::string RequiredString(const std::string& name) const;
  std::vector<std::string> List(const std::string& name) const;
  // A list whose items may contain commas (--derive, --cut): array items are
  // kept whole; a single string is one item.
  std::vector<std::string> Items(const std::string& name) const;
  std::optional<std::int64_t> Integer(const std::string& name) const;
  std::optional<double> Number(const std::string& name) const;
  bool Flag(const std::string& name) const;

 private:
  const nlohmann::ordered_json& options_;
};

// Splits "a, b,c" at commas, trimming blanks; empty pieces are dropped.
std::vector<std::string> SplitList(const std::string& text);

}  // namespace cohortdb::analysis
