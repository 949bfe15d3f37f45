#include "stats/model_scaling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <boost/math/distributions/normal.hpp>

#include "common/error.h"

namespace cohortdb::stats::detail {

namespace {

// Residual variance fraction below which a column counts as a linear
// combination of the earlier ones (norm ratio 1e-5 after centring and scaling).
constexpr double kAliasTolerance = 1e-10;

}  // namespace

ScaledDesign::ScaledDesign(const Eigen::MatrixXd& x, const std::vector<std::string>& names,
                           const char* caller)
    : x_(x), centre_(Eigen::VectorXd::Zero(x.cols())), scale_(Eigen::VectorXd::Ones(x.cols())) {
  const Eigen::Index n = x.rows();
  const Eigen::Index p = x.cols();
  for (Eigen::Index j = 0; j < p; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!std::isfinite(x(i, j))) {
        throw NumericalError(std::string(caller) + ": column '" + names[static_cast<size_t>(j)] + "' row " +
                             std::to_string(i + 1) +
                             " is not finite; expected a number (drop missing rows first)");
      }
    }
  }
  Eigen::Index intercept_column = -1;
  for (Eigen::Index j = 0; j < p && intercept_column < 0; ++j) {
    if ((x.col(j).array() == 1.0).all()) intercept_column = j;
  }
  for (Eigen::Index j = 0; j < p; ++j) {
    if (j == intercept_column) continue;
    const double mean = x.col(j).mean();
    if (intercept_column >= 0) {
      centre_(j) = mean;
      const double ss = (x.col(j).array() - mean).square().sum();
      const double sd = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;
      scale_(j) = sd > 0.0 ? sd : 1.0;
    } else {
      const double rms =
          std::sqrt(x.col(j).squaredNorm() / static_cast<double>(std::max<Eigen::Index>(n, 1)));
      scale_(j) = rms > 0.0 ? rms : 1.0;
    }
  }
  inverse_scale_ = scale_.cwiseInverse();
  for (Eigen::Index j = 0; j < p; ++j) kept_.push_back(j);
  DetectAliased();
  for (size_t k = 0; k < kept_.size(); ++k) {
    if (kept_[k] == intercept_column) intercept_ = static_cast<Eigen::Index>(k);
  }
}

void ScaledDesign::Block(Eigen::Index begin, Eigen::Index rows, Eigen::MatrixXd& out) const {
  out.resize(rows, cols());
  for (Eigen::Index k = 0; k < cols(); ++k) {
    const Eigen::Index j = kept_[static_cast<size_t>(k)];
    out.col(k) = (x_.col(j).segment(begin, rows).array() - centre_(j)) * inverse_scale_(j);
  }
}

Eigen::MatrixXd ScaledDesign::Transform() const {
  const Eigen::Index q = cols();
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(q, q);
  for (Eigen::Index k = 0; k < q; ++k) {
    const Eigen::Index j = kept_[static_cast<size_t>(k)];
    t(k, k) = 1.0 / scale_(j);
    if (intercept_ >= 0 && k != intercept_) t(intercept_, k) = -centre_(j) / scale_(j);
  }
  return t;
}

void ScaledDesign::DetectAliased() {
  // Gram matrix of all scaled columns, then a Cholesky factorisation that walks
  // the columns in order and skips any column explained by the accepted ones.
  const Eigen::Index p = static_cast<Eigen::Index>(kept_.size());
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(p, p);
  Eigen::MatrixXd block;
  for (Eigen::Index begin = 0; begin < rows(); begin += kBlockRows) {
    const Eigen::Index len = std::min(kBlockRows, rows() - begin);
    Block(begin, len, block);
    gram.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
  }
  gram = gram.selfadjointView<Eigen::Lower>();
  std::vector<Eigen::Index> accepted;
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(p, p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const Eigen::Index a = static_cast<Eigen::Index>(accepted.size());
    Eigen::VectorXd c(a);
    for (Eigen::Index k = 0; k < a; ++k) c(k) = gram(accepted[static_cast<size_t>(k)], j);
    Eigen::VectorXd z = l.topLeftCorner(a, a).triangularView<Eigen::Lower>().solve(c);
    const double residual = gram(j, j) - z.squaredNorm();
    if (!(gram(j, j) > 0.0) || residual <= kAliasTolerance * gram(j, j)) {
      aliased_.push_back(kept_[static_cast<size_t>(j)]);
      continue;
    }
    l.row(a).head(a) = z.transpose();
    l(a, a) = std::sqrt(residual);
    accepted.push_back(j);
  }
  std::vector<Eigen::Index> kept;
  for (Eigen::Index j : accepted) kept.push_back(kept_[static_cast<size_t>(j)]);
  kept_ = kept;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += "'" + names[i] + "'";
  }
  return out;
}

void CheckBinaryModelInputs(const char* caller, const Eigen::MatrixXd& x,
                            const std::vector<std::string>& names, const Eigen::VectorXd& y) {
  if (static_cast<Eigen::Index>(names.size()) != x.cols()) {
    throw InputError(std::string(caller) + ": " + std::to_string(names.size()) + " names for " +
                     std::to_string(x.cols()) + " columns of x; expected one name per column");
  }
  if (y.size() != x.rows()) {
    throw InputError(std::string(caller) + ": y has " + std::to_string(y.size()) + " rows but x has " +
                     std::to_string(x.rows()) + "; expected the same number");
  }
  if (x.cols() == 0) throw InputError(std::string(caller) + ": x has no columns; expected at least one term");
  if (x.rows() < 2) {
    throw NumericalError(std::string(caller) + ": need at least 2 rows, found " + std::to_string(x.rows()));
  }
  Eigen::Index ones = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (!(y(i) == 0.0 || y(i) == 1.0)) {
      throw NumericalError(std::string(caller) + ": y row " + std::to_string(i + 1) + " is " +
                           std::to_string(y(i)) + "; expected 0 or 1");
    }
    ones += y(i) == 1.0 ? 1 : 0;
  }
  if (ones == 0 || ones == y.size()) {
    throw NumericalError(std::string(std::string(caller) + ": y is ") + (ones == 0 ? "0" : "1") +
                         " in every row; the model needs both outcomes");
  }
}

double ColumnSd(const Eigen::MatrixXd& x, Eigen::Index column) {
  const Eigen::Index n = x.rows();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double mean = x.col(column).mean();
  return std::sqrt((x.col(column).array() - mean).square().sum() / static_cast<double>(n - 1));
}

void FillWaldTerms(const std::vector<std::string>& names, const std::vector<Eigen::Index>& kept,
                   const Eigen::VectorXd& beta, const Eigen::MatrixXd& cov, double confidence,
                   std::vector<TermEstimate>& terms, Eigen::MatrixXd& covariance) {
  const auto columns = static_cast<Eigen::Index>(names.size());
  const boost::math::normal normal;
  const double zq = boost::math::quantile(normal, 0.5 + confidence / 2.0);
  covariance = Eigen::MatrixXd::Constant(columns, columns, kNaN);
  terms.assign(names.size(), TermEstimate{});
  for (std::size_t j = 0; j < names.size(); ++j) terms[j].term = names[j];
  const auto q = static_cast<Eigen::Index>(kept.size());
  for (Eigen::Index a = 0; a < q; ++a) {
    const Eigen::Index ja = kept[static_cast<std::size_t>(a)];
    for (Eigen::Index b = 0; b < q; ++b) covariance(ja, kept[static_cast<std::size_t>(b)]) = cov(a, b);
    TermEstimate& row = terms[static_cast<std::size_t>(ja)];
    row.estimate = beta(a);
    row.std_error = std::sqrt(cov(a, a));
    row.statistic = row.estimate / row.std_error;
    row.p_value = 2.0 * boost::math::cdf(boost::math::complement(normal, std::abs(row.statistic)));
    row.conf_low = row.estimate - zq * row.std_error;
    row.conf_high = row.estimate + zq * row.std_error;
  }
}

}  // namespace cohortdb::stats::detail
