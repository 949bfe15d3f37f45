#pragma once
// The model matrices of a parsed Formula over the rows of a frame: the
// fixed-effect design with R's column names (treatment contrasts, first level
// present = reference: "armintervention", "armintervention:il6_change"), the
// response, the offset and, per random-effect term, its Z columns and group
// codes. Expects a complete-case frame on formula.Variables().

#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "analysis/formula.h"
#include "analysis/frame.h"
#include "analysis/sample.h"

namespace cohortdb::analysis {

struct RandomDesign {
  Eigen::MatrixXd z;               // n x k: a column of ones for a random intercept, then the slopes
  std::vector<std::string> names;  // "(Intercept)", "visit_day"
  std::vector<int> group;          // code per row, 0 .. groups - 1
  int groups = 0;
  std::string group_label;         // "participant", "site:participant"
};

struct FormulaDesign {
  Design fixed;
  // Columns of fixed.x per formula term (formula.terms order).
  std::vector<std::vector<Eigen::Index>> term_columns;
  Eigen::VectorXd response;  // empty when built with numeric_response = false
  Eigen::VectorXd offset;  // empty without offset()
  std::vector<RandomDesign> random;
};

// Builds the matrices. A bare variable may be categorical (dummies);
// any other expression must be over numeric variables. Throws InputError,
// pointing at the place in the formula, for a categorical variable inside an
// expression or as the response, a factor with fewer than two levels in these
// rows, or a value that is not finite (log of 0 or a negative number).
// With numeric_response = false the response is left to the caller (a
// binary outcome may be categorical) and `response` stays empty.
FormulaDesign BuildFormulaDesign(Frame& frame, const Formula& formula, bool numeric_response = true);

// Design without the columns of term `term` (for the test of that term).
Design WithoutTerm(const FormulaDesign& design, std::size_t term);

}  // namespace cohortdb::analysis
