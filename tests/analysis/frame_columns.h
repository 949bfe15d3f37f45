#pragma once
// Test helper: frame columns built by hand (analysis/frame.h).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "analysis/frame.h"

namespace cohortdb::analysis::testing {

inline Column Numeric(const std::string& name, std::vector<double> values) {
  Column c;
  c.name = name;
  c.values = std::move(values);
  return c;
}

inline Column Categorical(const std::string& name, std::vector<std::int32_t> codes, std::vector<std::string> levels) {
  Column c;
  c.name = name;
  c.numeric = false;
  c.codes = std::move(codes);
  c.levels = std::move(levels);
  return c;
}

}  // namespace cohortdb::analysis::testing
