#pragma once
// Test helper: reads tests/data/stats/trial.csv (written by
// tests/reference/stats_make_trial_data.R) with plain C++. Empty cells are NaN.
// The stats library itself does no I/O.

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace cohortdb::stats::testing {

struct TrialData {
  std::map<std::string, std::vector<double>> numeric;
  std::vector<std::optional<std::string>> activity;

  const std::vector<double>& operator[](const std::string& name) const { return numeric.at(name); }

  // Values of column name where group == g.
  std::vector<double> InGroup(const std::string& name, double g) const {
    std::vector<double> out;
    const auto& group = numeric.at("group");
    const auto& values = numeric.at(name);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (group[i] == g) out.push_back(values[i]);
    }
    return out;
  }
};

inline std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::stringstream in(line);
  while (std::getline(in, cell, ',')) {
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
    cells.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

inline TrialData LoadTrial() {
  std::ifstream file(std::string(COHORTDB_TEST_DATA_DIR) + "/stats/trial.csv");
  if (!file) throw std::runtime_error("cannot open tests/data/stats/trial.csv");
  std::string line;
  std::getline(file, line);
  const std::vector<std::string> header = SplitCsvLine(line);
  TrialData data;
  while (std::getline(file, line)) {
    const std::vector<std::string> cells = SplitCsvLine(line);
    for (std::size_t j = 0; j < header.size(); ++j) {
      const std::string cell = j < cells.size() ? cells[j] : "";
      if (header[j] == "activity") {
        data.activity.push_back(cell.empty() ? std::nullopt : std::optional<std::string>(cell));
      } else {
        data.numeric[header[j]].push_back(cell.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                       : std::stod(cell));
      }
    }
  }
  return data;
}

}  // namespace cohortdb::stats::testing
