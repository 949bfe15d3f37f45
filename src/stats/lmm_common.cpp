#include "stats/lmm_common.h"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/students_t.hpp>

namespace cohortdb::stats::detail {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
constexpr double kEigenTolerance = 1e-8;  // lmerTest's tol for the Hessian's eigenvalues
}  // namespace

VectorXd ModifiedNewtonStep(const MatrixXd& hessian, const VectorXd& gradient) {
  const Eigen::SelfAdjointEigenSolver<MatrixXd> eig(hessian);
  VectorXd values = eig.eigenvalues();
  const double floor = 1e-8 * std::max(1.0, values.cwiseAbs().maxCoeff());
  for (Index i = 0; i < values.size(); ++i) values(i) = std::max(std::abs(values(i)), floor);
  return -(eig.eigenvectors() * (eig.eigenvectors().transpose() * gradient).cwiseQuotient(values));
}

void AppendComponents(const std::string& group, const std::vector<std::string>& z_names, const MatrixXd& covariance,
                      std::vector<VarianceComponent>& components) {
  const Index k = covariance.rows();
  for (Index a = 0; a < k; ++a) {
    components.push_back(
        {group, z_names[static_cast<std::size_t>(a)], "", covariance(a, a), std::sqrt(covariance(a, a))});
  }
  for (Index a = 0; a < k; ++a) {
    for (Index b = a + 1; b < k; ++b) {
      const double denom = std::sqrt(covariance(a, a) * covariance(b, b));
      components.push_back({group, z_names[static_cast<std::size_t>(a)], z_names[static_cast<std::size_t>(b)],
                            covariance(a, b), denom > 0.0 ? covariance(a, b) / denom : kNaN});
    }
  }
}

std::vector<double> SatterthwaiteDf(const MatrixXd& hessian, const std::vector<MatrixXd>& jacobian,
                                    const MatrixXd& covariance, bool singular, std::vector<std::string>& messages) {
  const Index m = hessian.rows();
  const Eigen::SelfAdjointEigenSolver<MatrixXd> eig(hessian);
  MatrixXd a = MatrixXd::Zero(m, m);
  bool negative = false;
  for (Index i = 0; i < m; ++i) {
    const double ev = eig.eigenvalues()(i);
    if (ev < -kEigenTolerance) negative = true;
    if (ev > kEigenTolerance) a += 2.0 / ev * eig.eigenvectors().col(i) * eig.eigenvectors().col(i).transpose();
  }
  if (negative && !singular) {
    messages.push_back("the deviance is not at a minimum in the variance parameters (a negative eigenvalue "
                       "of its Hessian; lmerTest: Model failed to converge); Satterthwaite df are unreliable");
  }
  std::vector<double> df(static_cast<std::size_t>(covariance.rows()), kNaN);
  for (Index j = 0; j < covariance.rows(); ++j) {
    VectorXd g(m);
    for (Index i = 0; i < m; ++i) g(i) = jacobian[static_cast<std::size_t>(i)](j, j);
    const double v = covariance(j, j);
    df[static_cast<std::size_t>(j)] = 2.0 * v * v / g.dot(a * g);
  }
  return df;
}

std::vector<TermEstimate> FixedEffectRows(const std::vector<std::string>& names, const VectorXd& beta,
                                          const MatrixXd& covariance, const std::vector<double>& df,
                                          double confidence) {
  std::vector<TermEstimate> rows;
  for (Index j = 0; j < beta.size(); ++j) {
    TermEstimate row;
    row.term = names[static_cast<std::size_t>(j)];
    row.estimate = beta(j);
    row.std_error = std::sqrt(covariance(j, j));
    row.statistic = row.estimate / row.std_error;
    const double d = df[static_cast<std::size_t>(j)];
    if (std::isfinite(d) && d > 0.0) {
      const boost::math::students_t t(d);
      row.p_value = 2.0 * boost::math::cdf(boost::math::complement(t, std::abs(row.statistic)));
      const double q = boost::math::quantile(boost::math::complement(t, (1.0 - confidence) / 2.0));
      row.conf_low = row.estimate - q * row.std_error;
      row.conf_high = row.estimate + q * row.std_error;
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace cohortdb::stats::detail
