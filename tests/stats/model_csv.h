#pragma once
// Test helper: reads the small numeric CSV files that tests/reference/*.R write
// under tests/data/stats/ (header row, then numbers; quoted header names).

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Dense>

namespace cohortdb::stats::testing {

struct ModelCsv {
  std::vector<std::string> names;
  Eigen::MatrixXd values;

  Eigen::VectorXd Column(const std::string& name) const {
    for (size_t j = 0; j < names.size(); ++j) {
      if (names[j] == name) return values.col(static_cast<Eigen::Index>(j));
    }
    throw std::runtime_error("test CSV has no column " + name);
  }

  // Design matrix: an intercept column then the named columns.
  Eigen::MatrixXd Design(const std::vector<std::string>& columns) const {
    Eigen::MatrixXd x(values.rows(), static_cast<Eigen::Index>(columns.size()) + 1);
    x.col(0).setOnes();
    for (size_t j = 0; j < columns.size(); ++j) x.col(static_cast<Eigen::Index>(j) + 1) = Column(columns[j]);
    return x;
  }
};

inline ModelCsv ReadModelCsv(const std::string& file) {
  const std::string path = std::string(COHORTDB_TEST_DATA_DIR) + "/stats/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  ModelCsv csv;
  std::string line;
  std::getline(in, line);
  std::stringstream header(line);
  for (std::string cell; std::getline(header, cell, ',');) {
    if (cell.size() >= 2 && cell.front() == '"') cell = cell.substr(1, cell.size() - 2);
    csv.names.push_back(cell);
  }
  std::vector<double> data;
  Eigen::Index rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) data.push_back(std::stod(cell));
    ++rows;
  }
  const Eigen::Index cols = static_cast<Eigen::Index>(csv.names.size());
  csv.values.resize(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) csv.values(i, j) = data[static_cast<size_t>(i * cols + j)];
  }
  return csv;
}

}  // namespace cohortdb::stats::testing
