#include "stats/mixed_logistic.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>


#include "common/error.h"
#include "stats/model_scaling.h"

namespace cohortdb::stats {

namespace {

using detail::ScaledDesign;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr int kMaxQuadraturePoints = 25;
constexpr int kModeIterations = 60;
constexpr double kModeTolerance = 1e-12;
constexpr double kHessianStep = 1e-6;  // forward differences for the final Hessian (scaled units)
constexpr double kThetaColumnStep = 1e-6;
// A fixed effect beyond this many logits per SD of its column (an odds ratio
// over e^10 per SD) is taken as a sign of separation and checked.
constexpr double kImplausibleScaledEffect = 10.0;
constexpr int kBoundaryEscapes = 3;

// Nodes and weights of Gauss-Hermite quadrature for the standard normal
// density (as lme4::GHrule): sum_k w_k f(z_k) ~ E f(Z). Golub-Welsch.
void NormalQuadrature(int points, VectorXd& nodes, VectorXd& weights) {
  if (points == 1) {
    nodes = VectorXd::Zero(1);
    weights = VectorXd::Ones(1);
    return;
  }
  MatrixXd jacobi = MatrixXd::Zero(points, points);
  for (int k = 1; k < points; ++k) jacobi(k, k - 1) = jacobi(k - 1, k) = std::sqrt(static_cast<double>(k));
  Eigen::SelfAdjointEigenSolver<MatrixXd> eig(jacobi);
  nodes = eig.eigenvalues();
  weights = eig.eigenvectors().row(0).transpose().array().square();
  weights /= weights.sum();
}

// log(1 + exp(eta)) and 1 / (1 + exp(-eta)) with one exp.
inline void Logistic(double eta, double& mu, double& log1pexp) {
  const double e = std::exp(-std::abs(eta));
  log1pexp = std::max(eta, 0.0) + std::log1p(e);
  mu = eta >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

// The approximate log-likelihood of the random-intercept model as a function of
// (beta on the scaled design, theta), with its analytic gradient. Rows are kept
// in group order internally (a stable counting sort), so each group's scalar
// problem runs over contiguous memory.
class MarginalLikelihood {
 public:
  MarginalLikelihood(const ScaledDesign& design, const VectorXd& y, const std::vector<int>& group, int groups,
                     int points)
      : design_(design), groups_(groups), offsets_(static_cast<size_t>(groups) + 1, 0) {
    const Index n = design.rows();
    for (Index i = 0; i < n; ++i) ++offsets_[static_cast<size_t>(group[static_cast<size_t>(i)]) + 1];
    for (int g = 0; g < groups; ++g) offsets_[static_cast<size_t>(g) + 1] += offsets_[static_cast<size_t>(g)];
    position_.resize(static_cast<size_t>(n));
    std::vector<Index> next(offsets_.begin(), offsets_.end() - 1);
    y_.resize(n);
    for (Index i = 0; i < n; ++i) {
      const Index pos = next[static_cast<size_t>(group[static_cast<size_t>(i)])]++;
      position_[static_cast<size_t>(i)] = static_cast<std::int32_t>(pos);
      y_(pos) = y(i);
    }
    eta_.resize(n);
    mu_.resize(n);
    work_.resize(n);
    weight_.resize(n);
    modes_ = VectorXd::Zero(groups);
    NormalQuadrature(points, nodes_, weights_);
  }

  const VectorXd& modes() const { return modes_; }

  // Sets the fixed part of the linear predictor for `beta`.
  void SetBeta(const VectorXd& beta) {
    MatrixXd block;
    VectorXd part;
    for (Index begin = 0; begin < design_.rows(); begin += ScaledDesign::kBlockRows) {
      const Index len = std::min(ScaledDesign::kBlockRows, design_.rows() - begin);
      design_.Block(begin, len, block);
      part.noalias() = block * beta;
      for (Index r = 0; r < len; ++r) eta_(position_[static_cast<size_t>(begin + r)]) = part(r);
    }
  }

  // Log-likelihood at the beta of the last SetBeta and `theta`. With
  // `gradient`, also d/d(beta, theta) (theta last). With `info`, also the
  // beta-block of the negative Hessian without the log-determinant's second
  // derivatives (X'WX minus the Schur term of the modes): the Newton matrix.
  double Evaluate(double theta, VectorXd* gradient, MatrixXd* info) {
    const bool derivs = gradient != nullptr;
    const Index q = design_.cols();
    const int points = static_cast<int>(nodes_.size());
    double loglik = 0.0;
    double grad_theta = 0.0;
    if (info != nullptr) group_weight_.setZero(groups_);
    for (int g = 0; g < groups_; ++g) {
      const Index begin = offsets_[static_cast<size_t>(g)];
      const Index end = offsets_[static_cast<size_t>(g) + 1];
      if (begin == end) continue;
      const double u = SolveMode(g, theta);
      // Quantities at the mode, from the probabilities SolveMode left in mu_.
      double sum_w = 0.0, sum_t = 0.0, sum_r = 0.0, ell_mode = 0.0;
      for (Index i = begin; i < end; ++i) {
        const double mu = mu_(i);
        const double eta = eta_(i) + theta * u;
        const double w = mu * (1.0 - mu);
        sum_w += w;
        sum_t += w * (1.0 - 2.0 * mu);
        sum_r += y_(i) - mu;
        // log(1 - mu) accurately on both sides of 0.5
        ell_mode += y_(i) * eta + (eta >= 0.0 ? std::log(mu) - eta : std::log1p(-mu));
        if (derivs) work_(i) = y_(i) - mu;  // node residual when Laplace
      }
      const double hess = 1.0 + theta * theta * sum_w;
      const double sigma = 1.0 / std::sqrt(hess);
      double log_lg = 0.0, c = 0.0, d = 0.0, dtheta_nodes = 0.0;
      if (points == 1) {
        log_lg = std::log(sigma) + ell_mode - 0.5 * u * u;
        c = theta * sum_r - u;
        dtheta_nodes = sum_r * u;
      } else {
        node_log_.resize(points);
        node_r_.resize(points);
        for (int k = 0; k < points; ++k) {
          const double uk = u + sigma * nodes_(k);
          double ell = 0.0, r = 0.0;
          for (Index i = begin; i < end; ++i) {
            double mu, l1pe;
            const double eta = eta_(i) + theta * uk;
            Logistic(eta, mu, l1pe);
            ell += y_(i) * eta - l1pe;
            r += y_(i) - mu;
          }
          node_r_(k) = r;
          node_log_(k) = std::log(weights_(k)) + ell - 0.5 * uk * uk + 0.5 * nodes_(k) * nodes_(k);
        }
        const double top = node_log_.maxCoeff();
        const double total = (node_log_.array() - top).exp().sum();
        log_lg = std::log(sigma) + top + std::log(total);
        if (derivs) {
          for (Index i = begin; i < end; ++i) work_(i) = 0.0;
          for (int k = 0; k < points; ++k) {
            const double a = std::exp(node_log_(k) - top) / total;
            const double uk = u + sigma * nodes_(k);
            const double hprime = theta * node_r_(k) - uk;
            c += a * hprime;
            d += a * hprime * nodes_(k);
            dtheta_nodes += a * node_r_(k) * uk;
            for (Index i = begin; i < end; ++i) {
              double mu, l1pe;
              Logistic(eta_(i) + theta * uk, mu, l1pe);
              work_(i) += a * (y_(i) - mu);
            }
          }
        }
      }
      loglik += log_lg;
      if (!derivs && info == nullptr) continue;
      // Chain rule through the mode u(beta, theta) and the scale sigma.
      const double e = d + 1.0 / sigma;                   // coefficient of d sigma
      const double ds_dh = -0.5 * sigma * sigma * sigma;  // d sigma / d hess
      const double du_dtheta = (sum_r - theta * u * sum_w) / hess;
      const double dh_dtheta =
          2.0 * theta * sum_w + theta * theta * u * sum_t + theta * theta * theta * sum_t * du_dtheta;
      grad_theta += dtheta_nodes + c * du_dtheta + e * ds_dh * dh_dtheta;
      for (Index i = begin; i < end; ++i) {
        const double mu = mu_(i);
        const double w = mu * (1.0 - mu);
        const double alpha = -theta * w / hess;  // d u / d beta, per row
        if (derivs) {
          work_(i) +=
              c * alpha +
              e * ds_dh * (theta * theta * w * (1.0 - 2.0 * mu) + theta * theta * theta * sum_t * alpha);
        }
        if (info != nullptr) weight_(i) = w;
      }
      if (info != nullptr) group_weight_(g) = theta * theta / hess;
    }
    if (derivs || info != nullptr) Accumulate(gradient, info, q);
    if (derivs) (*gradient)(q) = grad_theta;
    return loglik;
  }

 private:
  // Newton's method for the conditional mode of group g (warm start from the
  // last call), halving a step that makes the gradient larger. Leaves the
  // probabilities at the returned mode in mu_.
  double SolveMode(int g, double theta) {
    const Index begin = offsets_[static_cast<size_t>(g)];
    const Index end = offsets_[static_cast<size_t>(g) + 1];
    double u = modes_(g);
    double u_prev = u;
    double grad_prev = std::numeric_limits<double>::infinity();
    for (int it = 0; it < kModeIterations; ++it) {
      double sum_r = 0.0, sum_w = 0.0;
      for (Index i = begin; i < end; ++i) {
        const double eta = eta_(i) + theta * u;
        const double e = std::exp(-std::abs(eta));
        const double mu = eta >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        mu_(i) = mu;
        sum_r += y_(i) - mu;
        sum_w += mu * (1.0 - mu);
      }
      const double grad = theta * sum_r - u;
      if (!(std::abs(grad) <= std::abs(grad_prev)) && it + 1 < kModeIterations) {
        u = u_prev + 0.5 * (u - u_prev);  // overshoot: halve the step
        continue;
      }
      const double step = grad / (1.0 + theta * theta * sum_w);
      if (std::abs(step) < kModeTolerance * (1.0 + std::abs(u))) break;
      u_prev = u;
      grad_prev = grad;
      u += step;
    }
    modes_(g) = u;
    return u;
  }

  // gradient(beta) = X' v and info = X'WX - sum_g c_g s_g s_g', in original row order.
  void Accumulate(VectorXd* gradient, MatrixXd* info, Index q) {
    MatrixXd block;
    VectorXd v;
    VectorXd w;
    if (gradient != nullptr) gradient->setZero(q + 1);
    MatrixXd group_sums;
    if (info != nullptr) {
      info->setZero(q, q);
      group_sums.setZero(groups_, q);
    }
    const Index n = design_.rows();
    for (Index begin = 0; begin < n; begin += ScaledDesign::kBlockRows) {
      const Index len = std::min(ScaledDesign::kBlockRows, n - begin);
      design_.Block(begin, len, block);
      v.resize(len);
      w.resize(len);
      for (Index r = 0; r < len; ++r) {
        const Index pos = position_[static_cast<size_t>(begin + r)];
        v(r) = work_(pos);
        if (info != nullptr) w(r) = weight_(pos);
      }
      if (gradient != nullptr) gradient->head(q).noalias() += block.transpose() * v;
      if (info != nullptr) {
        block.array().colwise() *= w.array();
        for (Index r = 0; r < len; ++r) {
          group_sums.row(GroupOf(position_[static_cast<size_t>(begin + r)])) += block.row(r);
        }
        block.array().colwise() /= w.array().sqrt().max(1e-300);
        info->selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
      }
    }
    if (info != nullptr) {
      for (int g = 0; g < groups_; ++g) {
        info->selfadjointView<Eigen::Lower>().rankUpdate(group_sums.row(g).transpose(), -group_weight_(g));
      }
      *info = info->selfadjointView<Eigen::Lower>();
    }
  }

  Index GroupOf(Index pos) const {
    const auto it = std::upper_bound(offsets_.begin(), offsets_.end(), pos);
    return static_cast<Index>(it - offsets_.begin()) - 1;
  }

  const ScaledDesign& design_;
  int groups_;
  std::vector<Index> offsets_;          // group g holds sorted rows [offsets_[g], offsets_[g+1])
  std::vector<std::int32_t> position_;  // original row -> sorted row
  VectorXd y_;                          // sorted
  VectorXd eta_;                        // fixed part of the linear predictor, sorted
  VectorXd mu_;                         // per-row probability at the mode, sorted
  VectorXd work_;                       // per-row gradient coefficient, sorted
  VectorXd weight_;                     // per-row w at the mode, sorted (info only)
  VectorXd group_weight_;
  VectorXd modes_;  // u_g (b_g = theta * u_g)
  VectorXd nodes_, weights_;
  VectorXd node_log_, node_r_;
};

}  // namespace

const TermEstimate& MixedLogisticFit::Term(std::string_view term) const { return FindTerm(terms, term, "mixed logistic fit"); }

MixedLogisticFit FitMixedLogistic(const Eigen::MatrixXd& x, const std::vector<std::string>& names,
                                  const Eigen::VectorXd& y, const std::vector<int>& group,
                                  const MixedLogisticOptions& options) {
  constexpr const char* kCaller = "FitMixedLogistic";
  detail::CheckBinaryModelInputs(kCaller, x, names, y);
  const Index n = x.rows();
  if (static_cast<Index>(group.size()) != n) {
    throw InputError(std::string(kCaller) + ": group has " + std::to_string(group.size()) +
                     " rows but x has " + std::to_string(n) + "; expected the same number");
  }
  if (options.quadrature_points < 1 || options.quadrature_points > kMaxQuadraturePoints) {
    throw InputError(std::string(kCaller) + ": quadrature_points is " +
                     std::to_string(options.quadrature_points) + "; expected 1 (Laplace) to " +
                     std::to_string(kMaxQuadraturePoints));
  }
  int groups = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if (group[i] < 0) {
      throw InputError(std::string(kCaller) + ": group code in row " + std::to_string(i + 1) + " is " +
                       std::to_string(group[i]) + "; expected a code >= 0");
    }
    groups = std::max(groups, group[i] + 1);
  }
  std::vector<Index> counts(static_cast<size_t>(groups), 0);
  for (int g : group) ++counts[static_cast<size_t>(g)];
  const Index used_groups = std::count_if(counts.begin(), counts.end(), [](Index c) { return c > 0; });
  if (used_groups < 2) {
    throw NumericalError(std::string(kCaller) + ": the data hold " + std::to_string(used_groups) +
                         " group; a random intercept needs at least 2");
  }
  if (used_groups >= n) {
    throw NumericalError(std::string(kCaller) + ": " + std::to_string(used_groups) + " groups for " +
                         std::to_string(n) + " rows; a random intercept needs fewer groups than rows");
  }

  const ScaledDesign design(x, names, kCaller);
  const Index q = design.cols();
  if (q == 0) throw NumericalError(std::string(kCaller) + ": every column of x is zero; nothing to estimate");

  MixedLogisticFit fit;
  fit.n = n;
  fit.groups = used_groups;
  fit.quadrature_points = options.quadrature_points;
  for (Index j : design.aliased()) fit.aliased.push_back(names[static_cast<size_t>(j)]);
  if (!fit.aliased.empty()) {
    fit.messages.push_back("term" + std::string(fit.aliased.size() > 1 ? "s " : " ") +
                           detail::JoinNames(fit.aliased) +
                           " aliased: a linear combination of earlier terms (for example constant or "
                           "duplicated); not estimable, reported as NaN");
  }

  MarginalLikelihood model(design, y, group, groups, options.quadrature_points);

  // Start: intercept at the logit of the mean outcome, other effects 0, sd 1
  // (glmer also starts theta at 1).
  VectorXd beta = VectorXd::Zero(q);
  if (design.intercept() >= 0) {
    const double ybar = y.mean();
    beta(design.intercept()) = std::log(ybar / (1.0 - ybar));
  }
  double theta = 1.0;
  bool theta_fixed = false;  // held at the boundary 0 in this iteration
  int boundary_escapes = 0;
  VectorXd grad(q + 1), grad_shift(q + 1);
  MatrixXd info(q, q);
  model.SetBeta(beta);
  double loglik = model.Evaluate(theta, &grad, &info);
  double last_step = kNaN;
  for (int iter = 1; iter <= options.max_iterations; ++iter) {
    fit.convergence.iterations = iter;
    // Newton matrix: the beta block from Evaluate, the theta column by a
    // forward difference of the analytic gradient.
    MatrixXd neg_hess = MatrixXd::Zero(q + 1, q + 1);
    neg_hess.topLeftCorner(q, q) = info;
    theta_fixed = false;
    {
      const double h = kThetaColumnStep * std::max(1.0, theta);
      model.Evaluate(theta + h, &grad_shift, nullptr);
      const VectorXd column = -(grad_shift - grad) / h;
      if (theta == 0.0 && column(q) < 0.0 && boundary_escapes < kBoundaryEscapes) {
        // sd = 0 is a minimum along sd: leave the boundary.
        ++boundary_escapes;
        theta = 0.1;
        loglik = model.Evaluate(theta, &grad, &info);
        continue;
      }
      // At sd = 0 with the log-likelihood falling along sd, the boundary is
      // the estimate for sd; keep iterating on beta alone.
      theta_fixed = theta == 0.0;
      if (!theta_fixed) {
        neg_hess.col(q) = column;
        neg_hess.row(q) = column.transpose();
      }
    }
    if (theta_fixed) {
      neg_hess(q, q) = 1.0;
    }
    VectorXd g = grad;
    if (theta_fixed) g(q) = 0.0;
    VectorXd step;
    double ridge = 0.0;
    for (int attempt = 0; attempt < 30; ++attempt) {
      MatrixXd m = neg_hess;
      m.diagonal().array() += ridge;
      Eigen::LLT<MatrixXd> llt(m);
      if (llt.info() == Eigen::Success) {
        step = llt.solve(g);
        break;
      }
      ridge = ridge == 0.0 ? 1e-8 * std::max(1.0, neg_hess.diagonal().cwiseAbs().maxCoeff()) : ridge * 10.0;
    }
    if (step.size() == 0) {
      fit.convergence.message = "Newton matrix not positive definite";
      break;
    }
    // Keep sd >= 0: shorten the step to land on the boundary if needed.
    double t = 1.0;
    if (theta + step(q) < 0.0) t = theta / -step(q);
    bool accepted = false;
    VectorXd beta_new;
    double theta_new = theta, loglik_new = loglik;
    for (int half = 0; half < 40; ++half) {
      beta_new = beta + t * step.head(q);
      theta_new = std::max(0.0, theta + t * step(q));
      model.SetBeta(beta_new);
      loglik_new = model.Evaluate(theta_new, nullptr, nullptr);
      if (std::isfinite(loglik_new) && loglik_new >= loglik - 1e-10 * (1.0 + std::abs(loglik))) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      model.SetBeta(beta);
      model.Evaluate(theta, nullptr, nullptr);
      fit.convergence.message = "line search failed to improve the log-likelihood";
      break;
    }
    last_step = std::max((beta_new - beta).cwiseAbs().maxCoeff(), std::abs(theta_new - theta));
    beta = beta_new;
    theta = theta_new;
    loglik = model.Evaluate(theta, &grad, &info);
    if (last_step < options.tolerance) {
      fit.convergence.converged = true;
      break;
    }
  }
  fit.convergence.relative_change = last_step;
  {
    VectorXd g = grad;
    if (theta_fixed) g(q) = 0.0;
    fit.convergence.max_abs_score = g.cwiseAbs().maxCoeff();
  }
  if (!fit.convergence.converged) {
    if (fit.convergence.message.empty()) {
      fit.convergence.message =
          "did not converge in " + std::to_string(options.max_iterations) + " iterations";
    }
    fit.messages.push_back("mixed logistic fit: " + fit.convergence.message);
  }
  {
    // Diverging fixed effects: ask glm's separation check (the random
    // intercept cannot bound an effect that separates the outcome).
    double largest = 0;
    for (Index j = 0; j < q; ++j) {
      if (j != design.intercept()) largest = std::max(largest, std::fabs(beta(j)));
    }
    if (!fit.convergence.converged || largest > kImplausibleScaledEffect) {
      const LogisticFit glm = FitLogistic(x, names, y);
      if (glm.separation.detected) {
        fit.separation = glm.separation;
        fit.separation.message += "; the mixed model's estimates for these terms do not exist either";
        fit.messages.push_back(fit.separation.message);
      }
    }
  }
  const VectorXd modes = model.modes();

  // Hessian of the log-likelihood in (beta, theta) by forward differences of
  // the analytic gradient (lme4 differences the deviance itself). Relative
  // error about kHessianStep; the likelihood is even in theta, so at theta = 0
  // the forward step is as good as a central one.
  MatrixXd neg_hess(q + 1, q + 1);
  VectorXd g_base(q + 1), g_plus(q + 1);
  model.SetBeta(beta);
  model.Evaluate(theta, &g_base, nullptr);
  for (Index j = 0; j <= q; ++j) {
    VectorXd b_plus = beta;
    double t_plus = theta;
    if (j < q) {
      b_plus(j) += kHessianStep;
    } else {
      t_plus += kHessianStep;
    }
    model.SetBeta(b_plus);
    model.Evaluate(t_plus, &g_plus, nullptr);
    neg_hess.col(j) = -(g_plus - g_base) / kHessianStep;
  }
  neg_hess = (0.5 * (neg_hess + neg_hess.transpose())).eval();
  MatrixXd cov_scaled;
  {
    Eigen::LLT<MatrixXd> llt(neg_hess);
    if (llt.info() == Eigen::Success) {
      cov_scaled = llt.solve(MatrixXd::Identity(q + 1, q + 1)).topLeftCorner(q, q);
    } else {
      // lme4 falls back to RX when its Hessian is not positive definite.
      cov_scaled = info.llt().solve(MatrixXd::Identity(q, q));
      fit.messages.push_back(
          "Hessian of the log-likelihood not positive definite; standard errors from the "
          "conditional information (as lme4's fallback)");
    }
  }

  const MatrixXd t = design.Transform();
  const VectorXd beta_user = t * beta;
  const MatrixXd cov_user = t * cov_scaled * t.transpose();
  fit.site_sd = theta;
  fit.site_effects.assign(static_cast<size_t>(groups), 0.0);
  for (int g = 0; g < groups; ++g) fit.site_effects[static_cast<size_t>(g)] = theta * modes(g);
  fit.log_likelihood = loglik;
  fit.deviance = -2.0 * loglik;
  const double df = static_cast<double>(q + 1);
  fit.aic = fit.deviance + 2.0 * df;
  fit.bic = fit.deviance + std::log(static_cast<double>(n)) * df;
  fit.singular = theta < options.singular_tolerance;
  if (fit.singular) {
    fit.singular_message = "singular fit: the site random-intercept SD is estimated as " +
                           std::string(theta == 0.0 ? "0" : "practically 0") +
                           " (boundary); sites do not differ beyond the fixed effects, and the fixed effects "
                           "equal those of ordinary logistic regression";
    fit.messages.push_back(fit.singular_message);
  }

  detail::FillWaldTerms(names, design.kept(), beta_user, cov_user, options.confidence, fit.terms, fit.covariance);
  return fit;
}

std::vector<OddsRatio> OddsRatios(const MixedLogisticFit& fit) { return detail::FitOddsRatios(fit); }

OddsRatio OddsRatioPerSd(const MixedLogisticFit& fit, const Eigen::MatrixXd& x, std::string_view term, double k) {
  return detail::FitOddsRatioPerSd(fit, x, term, k);
}

}  // namespace cohortdb::stats
