#pragma once
// Internal column scaling shared by the regression fitters (logistic.cpp,
// mixed_logistic.cpp). Not part of the user-facing API.
//
// Fitting works on a scaled copy of the design, built block by block so that the
// full n x p matrix is never duplicated: each kept column is divided by its SD
// and, when the design has an intercept column (all values exactly 1), centred
// on its mean. Predictors measured on scales 1e-3 and 1e4 then give a
// well-conditioned X'WX. Coefficients and their covariance are mapped back to
// the user's scale with Transform(). Columns judged aliased (a linear
// combination of earlier columns, in column order as R's QR does) are left out.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "common/error.h"
#include "stats/odds_ratio.h"
#include "stats/tidy.h"

namespace cohortdb::stats::detail {

class ScaledDesign {
 public:
  // Scales the columns of `x` (which must outlive this object). Throws
  // NumericalError naming the column when a value is not finite.
  ScaledDesign(const Eigen::MatrixXd& x, const std::vector<std::string>& names, const char* caller);

  Eigen::Index rows() const { return x_.rows(); }
  // Number of kept (non-aliased) columns.
  Eigen::Index cols() const { return static_cast<Eigen::Index>(kept_.size()); }
  // Original column index of kept column k.
  const std::vector<Eigen::Index>& kept() const { return kept_; }
  // Original column indices judged aliased, in column order.
  const std::vector<Eigen::Index>& aliased() const { return aliased_; }
  // Position of the intercept among the kept columns, or -1.
  Eigen::Index intercept() const { return intercept_; }

  // Rows [begin, begin + out.rows()) of the scaled kept columns into `out`
  // (resized to rows x cols()).
  void Block(Eigen::Index begin, Eigen::Index rows, Eigen::MatrixXd& out) const;

  // beta_user = T * beta_scaled over the kept columns (cols() x cols()).
  Eigen::MatrixXd Transform() const;

  // The block size used by callers that stream the design.
  static constexpr Eigen::Index kBlockRows = 2048;

 private:
  void DetectAliased();

  const Eigen::MatrixXd& x_;
  std::vector<Eigen::Index> kept_;
  std::vector<Eigen::Index> aliased_;
  Eigen::Index intercept_ = -1;
  Eigen::VectorXd centre_;  // per original column
  Eigen::VectorXd scale_;   // per original column
  Eigen::VectorXd inverse_scale_;  // 1 / scale_: Block multiplies (it runs on every pass of every fit)
};

// "'a', 'b' and 'c'".
std::string JoinNames(const std::vector<std::string>& names);

// Checks shared by the binary-outcome fitters; messages start with `caller`.
// InputError: sizes differ, no columns. NumericalError: fewer than two rows, a
// y value other than 0/1 (naming the row), a single outcome value.
void CheckBinaryModelInputs(const char* caller, const Eigen::MatrixXd& x,
                            const std::vector<std::string>& names, const Eigen::VectorXd& y);

// Wald rows for a fit on the user's scale: every column of "names" gets a
// TermEstimate (NaN for aliased columns), the kept columns their estimate
// from "beta", SE from "cov", z, two-sided normal p and a "confidence" CI;
// "covariance" becomes cols x cols with NaN rows and columns for aliased ones.
void FillWaldTerms(const std::vector<std::string>& names, const std::vector<Eigen::Index>& kept,
                   const Eigen::VectorXd& beta, const Eigen::MatrixXd& cov, double confidence,
                   std::vector<TermEstimate>& terms, Eigen::MatrixXd& covariance);

// Sample SD (n - 1 denominator) of a column; NaN for fewer than two rows.
double ColumnSd(const Eigen::MatrixXd& x, Eigen::Index column);

// Odds ratios of a binary-outcome fit (LogisticFit, MixedLogisticFit: its
// `terms`, `aliased` names and `separation`): exp(beta) per term; aliased and
// separated terms are NaN with a note saying why.
template <typename Fit>
std::vector<OddsRatio> FitOddsRatios(const Fit& fit) {
  const auto named = [](const std::vector<std::string>& names, const std::string& term) {
    return std::find(names.begin(), names.end(), term) != names.end();
  };
  std::vector<OddsRatio> out;
  for (const TermEstimate& row : fit.terms) {
    std::string note;
    if (named(fit.aliased, row.term)) {
      note = "aliased term, not estimable";
    } else if (named(fit.separation.terms, row.term)) {
      note = fit.separation.message;
    }
    out.push_back(ToOddsRatio(row, 1.0, note));
  }
  return out;
}

// The odds ratio per `k` SDs of `term`'s column in `x` (the design the fit
// was made on), with the note FitOddsRatios gives the term. InputError when
// the term is unknown or x has too few columns.
template <typename Fit>
OddsRatio FitOddsRatioPerSd(const Fit& fit, const Eigen::MatrixXd& x, std::string_view term, double k) {
  const TermEstimate& row = fit.Term(term);
  const Eigen::Index column = static_cast<Eigen::Index>(&row - fit.terms.data());
  if (column >= x.cols()) {
    throw InputError("OddsRatioPerSd: x has " + std::to_string(x.cols()) + " columns; expected the " +
                     std::to_string(fit.terms.size()) + " the model was fitted on");
  }
  const std::vector<OddsRatio> all = FitOddsRatios(fit);
  return ToOddsRatio(row, k * ColumnSd(x, column), all[static_cast<std::size_t>(column)].note);
}

}  // namespace cohortdb::stats::detail
