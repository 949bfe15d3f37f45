#include "stats/logistic.h"

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

// R's binomial()$linkinv and $mu.eta (src/library/stats/src/family.c): the
// clamping at |eta| > 30 is part of what makes the iterates identical to glm's.
constexpr double kEtaThreshold = 30.0;

double LinkInverse(double eta) {
  const double t =
      eta < -kEtaThreshold ? DBL_EPSILON : (eta > kEtaThreshold ? 1.0 / DBL_EPSILON : std::exp(eta));
  return t / (1.0 + t);
}

double MuEta(double eta) {
  if (eta > kEtaThreshold || eta < -kEtaThreshold) return DBL_EPSILON;
  const double opexp = 1.0 + std::exp(eta);
  return std::exp(eta) / (opexp * opexp);
}

double DevianceResidual(double y, double mu) {
  return y > 0.5 ? -2.0 * std::log(mu) : -2.0 * std::log1p(-mu);
}

// Continued Newton steps that decide whether the estimate exists.
constexpr int kSeparationIterations = 60;
constexpr double kStepConverged = 1e-8;   // scaled units
constexpr double kStepDiverging = 1e-3;   // scaled units
constexpr double kDirectionShare = 1e-2;  // of the largest component, to name a term

struct IrlsWork {
  const ScaledDesign& design;
  const Eigen::VectorXd& y;
  Eigen::VectorXd eta;
  Eigen::VectorXd mu;
  Eigen::MatrixXd block;

  double Deviance() const {
    double dev = 0.0;
    for (Index i = 0; i < y.size(); ++i) dev += DevianceResidual(y(i), mu(i));
    return dev;
  }

  void SetEta(const Eigen::VectorXd& beta) {
    for (Index begin = 0; begin < design.rows(); begin += ScaledDesign::kBlockRows) {
      const Index len = std::min(ScaledDesign::kBlockRows, design.rows() - begin);
      design.Block(begin, len, block);
      eta.segment(begin, len).noalias() = block * beta;
    }
    for (Index i = 0; i < eta.size(); ++i) mu(i) = LinkInverse(eta(i));
  }

  // X'WX and X'Wz of glm's weighted least-squares step at the current eta.
  void Normal(Eigen::MatrixXd& info, Eigen::VectorXd& rhs, bool working_response) {
    const Index q = design.cols();
    info.setZero(q, q);
    rhs.setZero(q);
    Eigen::VectorXd w2;
    Eigen::VectorXd z;
    for (Index begin = 0; begin < design.rows(); begin += ScaledDesign::kBlockRows) {
      const Index len = std::min(ScaledDesign::kBlockRows, design.rows() - begin);
      design.Block(begin, len, block);
      w2.resize(len);
      z.resize(len);
      for (Index r = 0; r < len; ++r) {
        const Index i = begin + r;
        const double me = MuEta(eta(i));
        const double var = mu(i) * (1.0 - mu(i));
        w2(r) = me * me / var;
        const double resid = (y(i) - mu(i)) / me;  // working residual
        z(r) = working_response ? eta(i) + resid : resid;
      }
      rhs.noalias() += block.transpose() * (w2.array() * z.array()).matrix();
      block.array().colwise() *= w2.array().sqrt();
      info.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
    }
    info = info.selfadjointView<Eigen::Lower>();
  }
};

}  // namespace

const TermEstimate& LogisticFit::Term(std::string_view term) const { return FindTerm(terms, term, "logistic fit"); }

LogisticFit FitLogistic(const Eigen::MatrixXd& x, const std::vector<std::string>& names,
                        const Eigen::VectorXd& y, const LogisticOptions& options) {
  detail::CheckBinaryModelInputs("FitLogistic", x, names, y);
  const ScaledDesign design(x, names, "FitLogistic");
  const Index n = x.rows();
  const Index q = design.cols();
  if (q == 0) throw NumericalError("FitLogistic: every column of x is zero; nothing to estimate");

  LogisticFit fit;
  fit.n = n;
  fit.rank = q;
  for (Index j : design.aliased()) fit.aliased.push_back(names[static_cast<size_t>(j)]);
  if (!fit.aliased.empty()) {
    fit.messages.push_back("term" + std::string(fit.aliased.size() > 1 ? "s " : " ") +
                           detail::JoinNames(fit.aliased) +
                           " aliased: a linear combination of earlier terms (for example constant or "
                           "duplicated); not estimable, reported as NaN");
  }

  IrlsWork work{design, y, Eigen::VectorXd(n), Eigen::VectorXd(n), Eigen::MatrixXd()};
  for (Index i = 0; i < n; ++i) {
    const double mustart = (y(i) + 0.5) / 2.0;
    work.eta(i) = std::log(mustart / (1.0 - mustart));
    work.mu(i) = LinkInverse(work.eta(i));
  }
  double dev_old = work.Deviance();
  double dev = dev_old;
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(q);
  Eigen::MatrixXd info;
  Eigen::MatrixXd last_info;
  Eigen::VectorXd rhs;
  bool solve_failed = false;
  for (int iter = 1; iter <= options.max_iterations; ++iter) {
    work.Normal(info, rhs, /*working_response=*/true);
    Eigen::LLT<Eigen::MatrixXd> llt(info);
    if (llt.info() != Eigen::Success) {
      solve_failed = true;
      break;
    }
    last_info = info;
    beta = llt.solve(rhs);
    work.SetEta(beta);
    dev = work.Deviance();
    fit.convergence.iterations = iter;
    fit.convergence.relative_change = std::abs(dev - dev_old) / (std::abs(dev) + 0.1);
    if (fit.convergence.relative_change < options.epsilon) {
      fit.convergence.converged = true;
      break;
    }
    dev_old = dev;
  }
  if (last_info.size() == 0) {
    throw NumericalError(
        "FitLogistic: the weighted cross-product matrix is not positive definite at the start");
  }
  if (!fit.convergence.converged) {
    fit.convergence.message = solve_failed
                                  ? "IRLS stopped: weighted cross-product matrix not positive definite"
                                  : "IRLS did not converge in " + std::to_string(options.max_iterations) +
                                        " iterations (R: glm.fit: algorithm did not converge)";
    fit.messages.push_back(fit.convergence.message);
  }
  constexpr double kExtreme = 10.0 * DBL_EPSILON;
  fit.fitted_probabilities_extreme =
      ((work.mu.array() > 1.0 - kExtreme) || (work.mu.array() < kExtreme)).any();
  if (fit.fitted_probabilities_extreme)
    fit.messages.push_back("fitted probabilities numerically 0 or 1 occurred");

  // Report what glm reports: the estimate where its iteration stopped and the
  // covariance of its last weighted least-squares step.
  const Eigen::MatrixXd t = design.Transform();
  const Eigen::VectorXd beta_user = t * beta;
  const Eigen::MatrixXd cov_user = t * last_info.llt().solve(Eigen::MatrixXd::Identity(q, q)) * t.transpose();
  fit.deviance = dev;
  fit.log_likelihood = -dev / 2.0;
  fit.aic = dev + 2.0 * static_cast<double>(q);
  const bool intercept = design.intercept() >= 0;
  {
    const double ybar = intercept ? y.mean() : 0.5;
    double null_dev = 0.0;
    for (Index i = 0; i < n; ++i) null_dev += DevianceResidual(y(i), ybar);
    fit.null_deviance = null_dev;
  }
  fit.df_null = n - (intercept ? 1 : 0);
  fit.df_residual = n - q;

  detail::FillWaldTerms(names, design.kept(), beta_user, cov_user, options.confidence, fit.terms, fit.covariance);

  // Does the estimate exist? Continue Newton steps from where glm stopped: they
  // shrink quadratically when it does, and stay of order one along the
  // separating direction when it does not.
  work.Normal(info, rhs, /*working_response=*/false);
  fit.convergence.max_abs_score = rhs.cwiseAbs().maxCoeff();
  Eigen::VectorXd step = Eigen::VectorXd::Zero(q);
  {
    Eigen::LLT<Eigen::MatrixXd> llt(info);
    if (llt.info() == Eigen::Success) {
      step = llt.solve(rhs);
    } else {
      solve_failed = true;
    }
  }
  double step_size = step.cwiseAbs().maxCoeff();
  if (step_size > kStepConverged || solve_failed) {
    Eigen::VectorXd beta_newton = beta;
    Eigen::VectorXd direction = step;
    double dev_newton = dev;
    for (int iter = 0; iter < kSeparationIterations; ++iter) {
      work.Normal(info, rhs, /*working_response=*/false);
      Eigen::LLT<Eigen::MatrixXd> llt(info);
      if (llt.info() != Eigen::Success) break;  // flat along the direction: keep the last one
      step = llt.solve(rhs);
      step_size = step.cwiseAbs().maxCoeff();
      if (step_size < kStepConverged) break;
      direction = step;
      beta_newton += step;
      work.SetEta(beta_newton);
      dev_newton = work.Deviance();
    }
    if (step_size > kStepDiverging) {
      SeparationInfo& sep = fit.separation;
      sep.detected = true;
      sep.complete = dev_newton < 1e-6;
      double largest = 0.0;
      for (Index a = 0; a < q; ++a) {
        if (a != design.intercept()) largest = std::max(largest, std::abs(direction(a)));
      }
      for (Index a = 0; a < q; ++a) {
        const bool named =
            a == design.intercept() ? largest == 0.0 : std::abs(direction(a)) >= kDirectionShare * largest;
        if (named) sep.terms.push_back(names[static_cast<size_t>(design.kept()[static_cast<size_t>(a)])]);
      }
      sep.message = std::string(sep.complete ? "complete" : "quasi-complete") +
                    " separation: " + detail::JoinNames(sep.terms) +
                    (sep.terms.size() > 1 ? " predict" : " predicts") + " the outcome " +
                    (sep.complete ? "perfectly" : "perfectly in part of the data") +
                    "; the maximum likelihood estimate does not exist (estimates diverge, odds ratios are "
                    "infinite or zero); remove or merge the term, or use a penalised fit";
      fit.messages.push_back(sep.message);
    }
  }
  return fit;
}

std::vector<OddsRatio> OddsRatios(const LogisticFit& fit) { return detail::FitOddsRatios(fit); }

OddsRatio OddsRatioPerSd(const LogisticFit& fit, const Eigen::MatrixXd& x, std::string_view term, double k) {
  return detail::FitOddsRatioPerSd(fit, x, term, k);
}

}  // namespace cohortdb::stats
