#include "stats/poisson.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>

#include "common/error.h"
#include "stats/model_scaling.h"

namespace cohortdb::stats {

namespace {

using detail::ScaledDesign;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// R's poisson()$linkinv and $mu.eta: pmax(exp(eta), .Machine$double.eps).
double LinkInverse(double eta) { return std::max(std::exp(eta), DBL_EPSILON); }

// poisson()$dev.resids for one row (weight 1).
double DevianceResidual(double y, double mu) {
  return y > 0.0 ? 2.0 * (y * std::log(y / mu) - (y - mu)) : 2.0 * mu;
}

double LogDensity(double y, double mu) { return y * std::log(mu) - mu - std::lgamma(y + 1.0); }

void CheckInputs(const MatrixXd& x, const std::vector<std::string>& names, const VectorXd& y,
                 const VectorXd& offset, const std::vector<int>& cluster, PoissonCovariance covariance) {
  const char* caller = "FitPoisson";
  if (static_cast<Index>(names.size()) != x.cols()) {
    throw InputError(std::string(caller) + ": " + std::to_string(names.size()) + " names for " +
                     std::to_string(x.cols()) + " columns of x; expected one name per column");
  }
  if (y.size() != x.rows()) {
    throw InputError(std::string(caller) + ": y has " + std::to_string(y.size()) + " rows but x has " +
                     std::to_string(x.rows()) + "; expected the same number");
  }
  if (offset.size() != 0 && offset.size() != x.rows()) {
    throw InputError(std::string(caller) + ": offset has " + std::to_string(offset.size()) + " rows but x has " +
                     std::to_string(x.rows()) + "; expected the same number (or no offset)");
  }
  if (x.cols() == 0) throw InputError(std::string(caller) + ": x has no columns; expected at least one term");
  if (x.rows() < 2) {
    throw NumericalError(std::string(caller) + ": need at least 2 rows, found " + std::to_string(x.rows()));
  }
  for (Index i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y(i)) || y(i) < 0.0) {
      throw NumericalError(std::string(caller) + ": y row " + std::to_string(i + 1) + " is " +
                           std::to_string(y(i)) + "; expected a count >= 0");
    }
    if (offset.size() != 0 && !std::isfinite(offset(i))) {
      throw NumericalError(std::string(caller) + ": offset row " + std::to_string(i + 1) +
                           " is not finite (log of a zero or negative exposure?); expected a number");
    }
  }
  if (covariance == PoissonCovariance::kCluster) {
    if (static_cast<Index>(cluster.size()) != x.rows()) {
      throw InputError(std::string(caller) + ": cluster-robust SEs need one cluster code per row; found " +
                       std::to_string(cluster.size()) + " codes for " + std::to_string(x.rows()) + " rows");
    }
    for (size_t i = 0; i < cluster.size(); ++i) {
      if (cluster[i] < 0) {
        throw InputError(std::string(caller) + ": cluster code of row " + std::to_string(i + 1) +
                         " is negative; expected a code >= 0");
      }
    }
  }
}

struct IrlsState {
  VectorXd eta;  // includes the offset
  VectorXd mu;
};

}  // namespace

std::string_view CovarianceName(PoissonCovariance covariance) {
  switch (covariance) {
    case PoissonCovariance::kModel:
      return "model";
    case PoissonCovariance::kRobust:
      return "robust";
    case PoissonCovariance::kCluster:
      return "cluster";
  }
  return "model";
}

const TermEstimate& PoissonFit::Term(std::string_view term) const { return FindTerm(terms, term, "Poisson fit"); }

PoissonFit FitPoisson(const MatrixXd& x, const std::vector<std::string>& names, const VectorXd& y,
                      const VectorXd& offset, const std::vector<int>& cluster, const PoissonOptions& options) {
  CheckInputs(x, names, y, offset, cluster, options.covariance);
  const ScaledDesign design(x, names, "FitPoisson");
  const Index n = x.rows();
  const Index q = design.cols();
  if (q == 0) throw NumericalError("FitPoisson: every column of x is zero; nothing to estimate");
  const bool has_offset = offset.size() != 0;
  const auto offset_at = [&](Index i) { return has_offset ? offset(i) : 0.0; };

  PoissonFit fit;
  fit.n = n;
  fit.rank = q;
  fit.covariance_type = options.covariance;
  fit.binary_outcome = ((y.array() == 0.0) || (y.array() == 1.0)).all();
  for (Index j : design.aliased()) fit.aliased.push_back(names[static_cast<size_t>(j)]);
  if (!fit.aliased.empty()) {
    fit.messages.push_back("term" + std::string(fit.aliased.size() > 1 ? "s " : " ") +
                           detail::JoinNames(fit.aliased) +
                           " aliased: a linear combination of earlier terms (for example constant or "
                           "duplicated); not estimable, reported as NaN");
  }

  // glm.fit: mustart = y + 0.1, eta = log(mustart) (the offset is not part of
  // the start), then weighted least squares on z = eta - offset + (y - mu) / mu.
  IrlsState state{VectorXd(n), VectorXd(n)};
  for (Index i = 0; i < n; ++i) {
    state.eta(i) = std::log(y(i) + 0.1);
    state.mu(i) = LinkInverse(state.eta(i));
  }
  const auto deviance = [&]() {
    double dev = 0.0;
    for (Index i = 0; i < n; ++i) dev += DevianceResidual(y(i), state.mu(i));
    return dev;
  };
  double dev_old = deviance();
  double dev = dev_old;
  VectorXd beta = VectorXd::Zero(q);
  MatrixXd info;
  MatrixXd last_info;
  VectorXd rhs;
  MatrixXd block;
  VectorXd w;
  VectorXd z;
  VectorXd part;
  VectorXd last_weight(n);  // glm's working weights of the last step (before its eta update)
  bool solve_failed = false;
  for (int iter = 1; iter <= options.max_iterations; ++iter) {
    info.setZero(q, q);
    rhs.setZero(q);
    for (Index begin = 0; begin < n; begin += ScaledDesign::kBlockRows) {
      const Index len = std::min(ScaledDesign::kBlockRows, n - begin);
      design.Block(begin, len, block);
      w.resize(len);
      z.resize(len);
      for (Index r = 0; r < len; ++r) {
        const Index i = begin + r;
        const double me = std::max(std::exp(state.eta(i)), DBL_EPSILON);
        w(r) = me * me / state.mu(i);
        last_weight(i) = w(r);
        z(r) = state.eta(i) - offset_at(i) + (y(i) - state.mu(i)) / me;
      }
      rhs.noalias() += block.transpose() * (w.array() * z.array()).matrix();
      block.array().colwise() *= w.array().sqrt();
      info.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
    }
    info = info.selfadjointView<Eigen::Lower>();
    Eigen::LLT<MatrixXd> llt(info);
    if (llt.info() != Eigen::Success) {
      solve_failed = true;
      break;
    }
    last_info = info;
    beta = llt.solve(rhs);
    for (Index begin = 0; begin < n; begin += ScaledDesign::kBlockRows) {
      const Index len = std::min(ScaledDesign::kBlockRows, n - begin);
      design.Block(begin, len, block);
      part.noalias() = block * beta;
      for (Index r = 0; r < len; ++r) {
        state.eta(begin + r) = part(r) + offset_at(begin + r);
        state.mu(begin + r) = LinkInverse(state.eta(begin + r));
      }
    }
    dev = deviance();
    fit.convergence.iterations = iter;
    fit.convergence.relative_change = std::abs(dev - dev_old) / (std::abs(dev) + 0.1);
    if (fit.convergence.relative_change < options.epsilon) {
      fit.convergence.converged = true;
      break;
    }
    dev_old = dev;
  }
  if (last_info.size() == 0) {
    throw NumericalError("FitPoisson: the weighted cross-product matrix is not positive definite at the start");
  }
  if (!fit.convergence.converged) {
    fit.convergence.message = solve_failed
                                  ? "IRLS stopped: weighted cross-product matrix not positive definite"
                                  : "IRLS did not converge in " + std::to_string(options.max_iterations) +
                                        " iterations (R: glm.fit: algorithm did not converge)";
    fit.messages.push_back(fit.convergence.message);
  }

  const MatrixXd t = design.Transform();
  const Eigen::LLT<MatrixXd> info_llt(last_info);
  const MatrixXd bread = info_llt.solve(MatrixXd::Identity(q, q));
  MatrixXd chosen = bread;
  if (options.covariance != PoissonCovariance::kModel) {
    // Scores as sandwich's estfun.glm: working residual (y - mu) / mu at the
    // final estimate times glm's working weight, which glm.fit keeps from
    // the start of its last iteration; u_i = that product times x_i (scaled
    // design), summed per cluster for kCluster.
    const bool by_cluster = options.covariance == PoissonCovariance::kCluster;
    int groups = 0;
    if (by_cluster) groups = *std::max_element(cluster.begin(), cluster.end()) + 1;
    MatrixXd cluster_scores = MatrixXd::Zero(by_cluster ? groups : 0, q);
    std::vector<char> seen(static_cast<size_t>(groups), 0);
    MatrixXd meat = MatrixXd::Zero(q, q);
    for (Index begin = 0; begin < n; begin += ScaledDesign::kBlockRows) {
      const Index len = std::min(ScaledDesign::kBlockRows, n - begin);
      design.Block(begin, len, block);
      for (Index r = 0; r < len; ++r) {
        const Index i = begin + r;
        const double me = std::max(std::exp(state.eta(i)), DBL_EPSILON);
        block.row(r) *= (y(i) - state.mu(i)) / me * last_weight(i);
      }
      if (by_cluster) {
        for (Index r = 0; r < len; ++r) {
          const int g = cluster[static_cast<size_t>(begin + r)];
          cluster_scores.row(g) += block.row(r);
          seen[static_cast<size_t>(g)] = 1;
        }
      } else {
        meat.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
      }
    }
    if (by_cluster) {
      const auto used = static_cast<Index>(std::count(seen.begin(), seen.end(), 1));
      if (used < 2) {
        throw NumericalError("FitPoisson: cluster-robust SEs need at least 2 clusters, found " +
                             std::to_string(used));
      }
      meat.selfadjointView<Eigen::Lower>().rankUpdate(cluster_scores.transpose());
      meat *= static_cast<double>(used) / static_cast<double>(used - 1);
      fit.clusters = used;
    }
    meat = meat.selfadjointView<Eigen::Lower>();
    chosen = bread * meat * bread;
  }
  const VectorXd beta_user = t * beta;
  fit.model_covariance = t * bread * t.transpose();
  const MatrixXd cov_user = t * chosen * t.transpose();
  detail::FillWaldTerms(names, design.kept(), beta_user, cov_user, options.confidence, fit.terms, fit.covariance);
  {
    // Model-based covariance in the user's column layout (NaN for aliased columns).
    MatrixXd full = MatrixXd::Constant(x.cols(), x.cols(), kNaN);
    for (Index a = 0; a < q; ++a) {
      for (Index b = 0; b < q; ++b) full(design.kept()[static_cast<size_t>(a)], design.kept()[static_cast<size_t>(b)]) =
          fit.model_covariance(a, b);
    }
    fit.model_covariance = full;
  }

  fit.deviance = dev;
  double loglik = 0.0;
  for (Index i = 0; i < n; ++i) loglik += LogDensity(y(i), state.mu(i));
  fit.log_likelihood = loglik;
  fit.aic = -2.0 * loglik + 2.0 * static_cast<double>(q);
  const bool intercept = design.intercept() >= 0;
  // Null model: intercept only (its MLE has the closed form mu_i = exp(offset_i)
  // * sum(y) / sum(exp(offset))), or the offset alone without an intercept.
  double null_dev = 0.0;
  if (intercept) {
    double sum_exposure = 0.0;
    for (Index i = 0; i < n; ++i) sum_exposure += std::exp(offset_at(i));
    const double rate = y.sum() / sum_exposure;
    for (Index i = 0; i < n; ++i) null_dev += DevianceResidual(y(i), LinkInverse(offset_at(i)) * rate);
  } else {
    for (Index i = 0; i < n; ++i) null_dev += DevianceResidual(y(i), LinkInverse(offset_at(i)));
  }
  fit.null_deviance = null_dev;
  fit.df_null = n - (intercept ? 1 : 0);
  fit.df_residual = n - q;
  if (y.sum() == 0.0) {
    fit.messages.push_back("the outcome is 0 in every row: the rates are 0 and the estimates diverge");
  }
  return fit;
}

std::vector<OddsRatio> RateRatios(const PoissonFit& fit) {
  std::vector<OddsRatio> out;
  for (const TermEstimate& row : fit.terms) {
    const bool aliased = std::find(fit.aliased.begin(), fit.aliased.end(), row.term) != fit.aliased.end();
    out.push_back(ToOddsRatio(row, 1.0, aliased ? "aliased term, not estimable" : ""));
  }
  return out;
}

}  // namespace cohortdb::stats
