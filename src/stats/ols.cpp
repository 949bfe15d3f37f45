#include "stats/ols.h"

#include <cmath>
#include <string>

#include "common/error.h"
#include "stats/probability.h"

namespace cohortdb::stats {

namespace {

// R's lm tolerance for declaring a column linearly dependent (dqrdc2 tol).
constexpr double kAliasTolerance = 1e-7;

// Marks columns aliased in R's order: Householder QR over the columns left to
// right, a column whose norm orthogonal to the kept columns before it falls
// below kAliasTolerance times its own norm is aliased and skipped (dqrdc2's
// limited pivoting).
std::vector<bool> FindAliased(Eigen::MatrixXd a) {
  const Eigen::Index n = a.rows();
  const Eigen::Index p = a.cols();
  std::vector<bool> aliased(static_cast<std::size_t>(p), false);
  const Eigen::VectorXd original_norm = a.colwise().norm();
  Eigen::Index kept = 0;
  Eigen::VectorXd workspace(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const Eigen::Index m = n - kept;
    const double remaining = m > 0 ? a.col(j).tail(m).norm() : 0.0;
    if (m <= 0 || original_norm(j) == 0 || remaining < kAliasTolerance * original_norm(j)) {
      aliased[static_cast<std::size_t>(j)] = true;
      continue;
    }
    Eigen::VectorXd essential(m > 1 ? m - 1 : 0);
    double tau = 0, beta = 0;
    a.col(j).tail(m).makeHouseholder(essential, tau, beta);
    if (j + 1 < p) {
      a.block(kept, j + 1, m, p - j - 1).applyHouseholderOnTheLeft(essential, tau, workspace.data());
    }
    ++kept;
  }
  return aliased;
}

double SampleSd(const Eigen::VectorXd& v) {
  if (v.size() < 2) return kNaN;
  const double mean = v.mean();
  return std::sqrt((v.array() - mean).square().sum() / static_cast<double>(v.size() - 1));
}

}  // namespace

OlsFit FitOls(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const std::vector<std::string>& names,
              double conf_level) {
  if (x.rows() != y.size() || static_cast<std::size_t>(x.cols()) != names.size()) {
    throw NumericalError("FitOls: arguments disagree in size: X is " + std::to_string(x.rows()) + " x " +
                         std::to_string(x.cols()) + ", y has " + std::to_string(y.size()) + " values, names has " +
                         std::to_string(names.size()));
  }
  if (!(conf_level > 0 && conf_level < 1)) {
    throw NumericalError("FitOls: argument conf_level must be in (0, 1), found " + std::to_string(conf_level));
  }
  const Eigen::Index p = x.cols();

  // Complete rows.
  std::vector<Eigen::Index> rows;
  rows.reserve(static_cast<std::size_t>(x.rows()));
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    if (std::isnan(y(i)) || x.row(i).hasNaN()) continue;
    rows.push_back(i);
  }
  OlsFit fit;
  fit.n = rows.size();
  fit.dropped_rows = static_cast<std::size_t>(x.rows()) - rows.size();
  if (fit.n < 2) {
    throw NumericalError("FitOls: " + std::to_string(fit.n) +
                         " complete rows (no NaN in the outcome or any predictor), at least 2 needed");
  }
  const Eigen::Index n = static_cast<Eigen::Index>(fit.n);
  Eigen::MatrixXd xc(n, p);
  Eigen::VectorXd yc(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    xc.row(i) = x.row(rows[static_cast<std::size_t>(i)]);
    yc(i) = y(rows[static_cast<std::size_t>(i)]);
  }

  fit.aliased = FindAliased(xc);
  std::vector<Eigen::Index> kept;
  for (Eigen::Index j = 0; j < p; ++j) {
    if (fit.aliased[static_cast<std::size_t>(j)]) {
      fit.aliased_terms.push_back(names[static_cast<std::size_t>(j)]);
    } else {
      kept.push_back(j);
    }
  }
  if (kept.empty()) {
    throw NumericalError("FitOls: every column of the design is zero or aliased; nothing to estimate");
  }
  const Eigen::Index k = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd xk(n, k);
  for (Eigen::Index j = 0; j < k; ++j) xk.col(j) = xc.col(kept[static_cast<std::size_t>(j)]);

  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(xk);
  if (qr.rank() < k) {
    throw NumericalError("FitOls: the design is numerically singular after removing aliased terms (rank " +
                         std::to_string(qr.rank()) + " of " + std::to_string(k) + ")");
  }
  const Eigen::VectorXd beta = qr.solve(yc);
  const Eigen::VectorXd fitted = xk * beta;
  const Eigen::VectorXd residuals = yc - fitted;
  fit.rank = static_cast<std::size_t>(k);
  fit.rss = residuals.squaredNorm();
  fit.df_residual = static_cast<double>(n - k);

  // (X'X)^{-1} = P R^{-1} R^{-T} P'.
  const Eigen::MatrixXd r = qr.matrixR().topLeftCorner(k, k).triangularView<Eigen::Upper>();
  const Eigen::MatrixXd r_inv =
      r.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(k, k));
  const Eigen::MatrixXd unscaled_pivoted = r_inv * r_inv.transpose();
  const Eigen::MatrixXd unscaled =
      qr.colsPermutation() * unscaled_pivoted * qr.colsPermutation().transpose();

  const double residual_variance = fit.df_residual > 0 ? fit.rss / fit.df_residual : kNaN;
  fit.sigma = std::sqrt(residual_variance);
  if (std::isfinite(residual_variance) && n > 1) {
    const double mean_fitted = fitted.mean();
    const double var_fitted = (fitted.array() - mean_fitted).square().sum() / static_cast<double>(n - 1);
    fit.essentially_perfect_fit = residual_variance < (mean_fitted * mean_fitted + var_fitted) * 1e-30;
  }
  const double t_crit = prob::StudentTQuantile(1 - (1 - conf_level) / 2, fit.df_residual);

  // Intercept: a kept column of all ones.
  Eigen::Index intercept = -1;
  for (Eigen::Index j = 0; j < k; ++j) {
    if ((xk.col(j).array() == 1.0).all()) {
      intercept = j;
      break;
    }
  }
  fit.has_intercept = intercept >= 0;

  const double sd_y = SampleSd(yc);
  fit.terms.resize(static_cast<std::size_t>(p));
  fit.standardised_beta.assign(static_cast<std::size_t>(p), kNaN);
  for (Eigen::Index j = 0; j < p; ++j) fit.terms[static_cast<std::size_t>(j)].term = names[static_cast<std::size_t>(j)];
  for (Eigen::Index j = 0; j < k; ++j) {
    const std::size_t col = static_cast<std::size_t>(kept[static_cast<std::size_t>(j)]);
    TermEstimate& t = fit.terms[col];
    t.estimate = beta(j);
    t.std_error = std::sqrt(residual_variance * unscaled(j, j));
    t.statistic = t.estimate / t.std_error;
    t.p_value = prob::StudentTTwoSided(t.statistic, fit.df_residual);
    t.conf_low = t.estimate - t_crit * t.std_error;
    t.conf_high = t.estimate + t_crit * t.std_error;
    if (j != intercept) fit.standardised_beta[col] = t.estimate * SampleSd(xk.col(j)) / sd_y;
  }

  // Goodness of fit as summary.lm.
  const double df_int = fit.has_intercept ? 1.0 : 0.0;
  const double mss = fit.has_intercept ? (fitted.array() - fitted.mean()).square().sum() : fitted.squaredNorm();
  fit.r_squared = mss / (mss + fit.rss);
  fit.adj_r_squared = 1 - (1 - fit.r_squared) * ((static_cast<double>(n) - df_int) / fit.df_residual);
  const double df_model = static_cast<double>(k) - df_int;
  if (df_model > 0 && fit.df_residual > 0) {
    fit.f_df1 = df_model;
    fit.f_df2 = fit.df_residual;
    fit.f_statistic = (mss / df_model) / residual_variance;
    fit.f_p_value = prob::FisherFUpper(fit.f_statistic, fit.f_df1, fit.f_df2);
  }
  return fit;
}

NestedFTest CompareNestedOls(const OlsFit& small, const OlsFit& large) {
  if (small.n != large.n) {
    throw NumericalError("CompareNestedOls: the models used different rows (" + std::to_string(small.n) +
                         " vs " + std::to_string(large.n) + "); fit both on the same complete rows");
  }
  if (!(large.df_residual < small.df_residual) || !(large.df_residual > 0)) {
    throw NumericalError("CompareNestedOls: argument large must have fewer residual df than small and more than 0"
                         " (found " + std::to_string(large.df_residual) + " vs " +
                         std::to_string(small.df_residual) + ")");
  }
  NestedFTest t;
  t.df = small.df_residual - large.df_residual;
  t.rss_small = small.rss;
  t.rss_large = large.rss;
  t.sum_of_squares = small.rss - large.rss;
  t.df_residual = large.df_residual;
  t.statistic = (t.sum_of_squares / t.df) / (large.rss / large.df_residual);
  t.p_value = prob::FisherFUpper(t.statistic, t.df, t.df_residual);
  return t;
}

}  // namespace cohortdb::stats
