#include "stats/meta_analysis.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "stats/probability.h"

namespace cohortdb::stats {

namespace {

// P = W - W X (X'WX)^{-1} X'W for diagonal weights w.
Eigen::MatrixXd ProjectionP(const Eigen::MatrixXd& x, const Eigen::VectorXd& w) {
  const Eigen::MatrixXd wx = w.asDiagonal() * x;
  const Eigen::MatrixXd xtwx = x.transpose() * wx;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(xtwx);
  if (ldlt.info() != Eigen::Success) {
    throw NumericalError("MetaRegression: X'WX cannot be factorised; the moderators are collinear");
  }
  Eigen::MatrixXd p = -wx * ldlt.solve(wx.transpose());
  p.diagonal() += w;
  return p;
}

MetaResult Fit(const char* function, const std::vector<double>& yi, const std::vector<double>& vi,
               const Eigen::MatrixXd& x_all, const std::vector<std::string>& names, const MetaOptions& options) {
  if (yi.size() != vi.size() || static_cast<Eigen::Index>(yi.size()) != x_all.rows()) {
    throw NumericalError(std::string(function) + ": arguments yi, vi and moderators differ in length (" +
                         std::to_string(yi.size()) + ", " + std::to_string(vi.size()) + ", " +
                         std::to_string(x_all.rows()) + ")");
  }
  if (!(options.conf_level > 0 && options.conf_level < 1)) {
    throw NumericalError(std::string(function) + ": option conf_level must be in (0, 1), found " +
                         std::to_string(options.conf_level));
  }
  MetaResult out;
  std::vector<Eigen::Index> rows;
  for (std::size_t i = 0; i < yi.size(); ++i) {
    const Eigen::Index row = static_cast<Eigen::Index>(i);
    if (std::isnan(yi[i]) || std::isnan(vi[i]) || x_all.row(row).hasNaN()) {
      ++out.dropped;
      continue;
    }
    if (!(vi[i] > 0) || std::isinf(vi[i]) || std::isinf(yi[i])) {
      throw NumericalError(std::string(function) + ": study " + std::to_string(i + 1) +
                           " has sampling variance " + std::to_string(vi[i]) + " and effect " +
                           std::to_string(yi[i]) + "; a finite effect and a variance > 0 are needed");
    }
    rows.push_back(row);
  }
  const Eigen::Index k = static_cast<Eigen::Index>(rows.size());
  const Eigen::Index p = x_all.cols();
  out.k = rows.size();
  if (k < 2 || k <= p) {
    throw NumericalError(std::string(function) + ": " + std::to_string(k) + " studies with complete data for " +
                         std::to_string(p) + " coefficients; more studies than coefficients (and at least 2) needed");
  }
  Eigen::VectorXd y(k), v(k);
  Eigen::MatrixXd x(k, p);
  for (Eigen::Index i = 0; i < k; ++i) {
    const std::size_t r = static_cast<std::size_t>(rows[static_cast<std::size_t>(i)]);
    y(i) = yi[r];
    v(i) = vi[r];
    x.row(i) = x_all.row(rows[static_cast<std::size_t>(i)]);
  }
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> rank_check(x);
  if (rank_check.rank() < p) {
    throw NumericalError(std::string(function) + ": the moderators are collinear with each other or the intercept");
  }
  const double df_residual = static_cast<double>(k - p);

  // Residual heterogeneity with fixed-effect weights (QE, and the "typical"
  // within-study variance for I^2).
  const Eigen::VectorXd w_fe = v.cwiseInverse();
  const Eigen::MatrixXd p_fe = ProjectionP(x, w_fe);
  out.q = std::max(0.0, y.dot(p_fe * y));
  out.q_df = df_residual;
  out.q_p_value = prob::ChiSquaredUpper(out.q, df_residual);
  const double typical_v = df_residual / p_fe.trace();

  switch (options.method) {
    case TauSquaredMethod::kFixedEffect:
      out.tau2 = 0;
      break;
    case TauSquaredMethod::kDerSimonianLaird:
      out.tau2 = std::max(0.0, (out.q - df_residual) / p_fe.trace());
      break;
    case TauSquaredMethod::kReml: {
      // Start from the Hedges (HE) estimator, as metafor.
      const Eigen::MatrixXd p_ols = ProjectionP(x, Eigen::VectorXd::Ones(k));
      const double rss = y.dot(p_ols * y);
      double tau2 = std::max(0.0, (rss - (p_ols * v.asDiagonal()).trace()) / df_residual);
      double change = options.reml_tolerance + 1;
      int iter = 0;
      while (change > options.reml_tolerance) {
        if (++iter > options.reml_max_iterations) {
          throw NumericalError(std::string(function) + ": REML Fisher scoring did not converge in " +
                               std::to_string(options.reml_max_iterations) + " iterations");
        }
        const double old = tau2;
        const Eigen::VectorXd w = (v.array() + tau2).inverse().matrix();
        const Eigen::MatrixXd pm = ProjectionP(x, w);
        const Eigen::VectorXd py = pm * y;
        const Eigen::MatrixXd pp = pm * pm;
        double adj = (py.squaredNorm() - pm.trace()) / pp.trace();
        if (std::isnan(adj)) adj = 0;
        while (tau2 + adj < 0) adj /= 2;
        tau2 += adj;
        change = std::fabs(old - tau2);
      }
      out.tau2 = tau2;
      out.iterations = iter;
      break;
    }
  }
  out.tau = std::sqrt(out.tau2);

  if (options.method == TauSquaredMethod::kFixedEffect) {
    out.i2 = out.q > 0 ? std::max(0.0, 100 * (out.q - df_residual) / out.q) : 0.0;
    out.h2 = out.q / df_residual;
  } else {
    out.i2 = 100 * out.tau2 / (typical_v + out.tau2);
    out.h2 = out.tau2 / typical_v + 1;
  }

  // Coefficients with weights 1 / (vi + tau^2).
  const Eigen::VectorXd w = (v.array() + out.tau2).inverse().matrix();
  const Eigen::MatrixXd xtwx = x.transpose() * w.asDiagonal() * x;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(xtwx);
  if (ldlt.info() != Eigen::Success) {
    throw NumericalError(std::string(function) + ": X'WX cannot be factorised; the moderators are collinear");
  }
  const Eigen::MatrixXd vb = ldlt.solve(Eigen::MatrixXd::Identity(p, p));
  const Eigen::VectorXd beta = vb * (x.transpose() * w.asDiagonal() * y);
  const double z_crit = prob::NormalQuantile(1 - (1 - options.conf_level) / 2);
  for (Eigen::Index j = 0; j < p; ++j) {
    TermEstimate t;
    t.term = names[static_cast<std::size_t>(j)];
    t.estimate = beta(j);
    t.std_error = std::sqrt(vb(j, j));
    t.statistic = t.estimate / t.std_error;
    t.p_value = prob::NormalTwoSided(t.statistic);
    t.conf_low = t.estimate - z_crit * t.std_error;
    t.conf_high = t.estimate + z_crit * t.std_error;
    out.coefficients.push_back(t);
  }

  // QM: the moderators (all but the intercept), or the intercept alone.
  const Eigen::Index first = p > 1 ? 1 : 0;
  const Eigen::Index m = p - first;
  const Eigen::VectorXd b = beta.tail(m);
  const Eigen::MatrixXd vbm = vb.bottomRightCorner(m, m);
  out.qm = b.dot(vbm.ldlt().solve(b));
  out.qm_df = static_cast<double>(m);
  out.qm_p_value = prob::ChiSquaredUpper(out.qm, out.qm_df);

  if (p == 1 && options.method != TauSquaredMethod::kFixedEffect) {
    const double se_pred = std::sqrt(vb(0, 0) + out.tau2);
    out.pi_low = beta(0) - z_crit * se_pred;
    out.pi_high = beta(0) + z_crit * se_pred;
  }
  return out;
}

}  // namespace

MetaResult PoolEffects(const std::vector<double>& yi, const std::vector<double>& vi, const MetaOptions& options) {
  return Fit("PoolEffects", yi, vi, Eigen::MatrixXd::Ones(static_cast<Eigen::Index>(yi.size()), 1), {"intercept"},
             options);
}

MetaResult MetaRegression(const std::vector<double>& yi, const std::vector<double>& vi,
                          const Eigen::MatrixXd& moderators, const std::vector<std::string>& names,
                          const MetaOptions& options) {
  if (static_cast<std::size_t>(moderators.cols()) != names.size()) {
    throw NumericalError("MetaRegression: argument names has " + std::to_string(names.size()) +
                         " entries for " + std::to_string(moderators.cols()) + " moderator columns");
  }
  Eigen::MatrixXd x(moderators.rows(), moderators.cols() + 1);
  x.col(0).setOnes();
  x.rightCols(moderators.cols()) = moderators;
  std::vector<std::string> all_names{"intercept"};
  all_names.insert(all_names.end(), names.begin(), names.end());
  return Fit("MetaRegression", yi, vi, x, all_names, options);
}

}  // namespace cohortdb::stats
