#include "stats/lmm_sparse.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>

#include <Eigen/Sparse>

#include "common/error.h"
#include "stats/lmm_common.h"
#include "stats/model_scaling.h"

namespace cohortdb::stats {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using SparseMatrix = Eigen::SparseMatrix<double>;

constexpr Index kMaxEffects = 4;
constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)
constexpr int kLineSearchHalvings = 40;
constexpr double kGradientStep = 1e-5;
constexpr double kHessianStep = 1e-4;
constexpr double kSatterthwaiteStep = 1e-3;  // relative, then Richardson-extrapolated
constexpr Index kFewGroups = 5;
constexpr double kBoundaryCheck = 1e-3;       // |L(c, c)| below this: try the boundary
constexpr double kBoundaryTolerance = 1e-13;  // relative rise of the criterion accepted there
const char* const kCaller = "FitLmmTerms";

// A term after checks: dense level codes and its place in u and theta.
struct Term {
  const RandomEffectTerm* source = nullptr;
  std::vector<int> level;  // dense code per row, in order of first appearance
  Index levels = 0;
  Index k = 0;
  Index column = 0;  // first column of the term in Z
  Index theta = 0;   // first position of the term in theta
  std::string name;  // group name as lme4 prints it (".1" suffix for a repeat)
};

Index ThetaSize(Index k) { return k * (k + 1) / 2; }

// What the penalised least-squares solution gives at one theta (lme4's
// notation: L the sparse factor, R_ZX, R_X, c_u, c_beta).
struct Solution {
  double ld_l2 = 0.0;   // log |L|^2
  double ld_rx2 = 0.0;  // log |R_X|^2
  double r2 = 0.0;      // penalised residual sum of squares
  VectorXd beta;
  MatrixXd rx_cross;  // R_X' R_X = X' V^-1 X on the sigma^2 = 1 scale
  bool ok = true;
};

class SparseDeviance {
 public:
  SparseDeviance(const MatrixXd& x, const VectorXd& y, const std::vector<Term>& terms, double y_shift)
      : n_(x.rows()), p_(x.cols()), terms_(terms) {
    q_ = 0;
    for (const Term& t : terms_) q_ += t.levels * t.k;
    std::vector<Eigen::Triplet<double>> entries;
    std::size_t nnz = 0;
    for (const Term& t : terms_) nnz += static_cast<std::size_t>(n_ * t.k);
    entries.reserve(nnz);
    for (const Term& t : terms_) {
      for (Index i = 0; i < n_; ++i) {
        const Index base = t.column + t.level[static_cast<std::size_t>(i)] * t.k;
        for (Index a = 0; a < t.k; ++a) {
          const double v = t.source->z(i, a);
          if (v != 0.0) entries.emplace_back(static_cast<int>(i), static_cast<int>(base + a), v);
        }
      }
    }
    SparseMatrix z(n_, q_);
    z.setFromTriplets(entries.begin(), entries.end());
    const SparseMatrix zt = z.transpose();
    ztz_ = zt * z;
    const VectorXd yc = y.array() - y_shift;
    ztx_ = zt * x;
    zty_ = zt * yc;
    xtx_ = x.transpose() * x;
    xty_ = x.transpose() * yc;
    yty_ = yc.squaredNorm();

    // Lambda's pattern: per term and level, the lower triangle of a k x k
    // block, each entry tied to its theta position (kept even when 0 so
    // that the pattern, and the symbolic factorisation, never change).
    std::vector<Eigen::Triplet<double>> lambda_entries;
    for (const Term& t : terms_) {
      for (Index l = 0; l < t.levels; ++l) {
        Index pos = t.theta;
        for (Index c = 0; c < t.k; ++c) {
          for (Index r = c; r < t.k; ++r) {
            const Index base = t.column + l * t.k;
            lambda_entries.emplace_back(static_cast<int>(base + r), static_cast<int>(base + c),
                                        static_cast<double>(pos++) + 1.0);
          }
        }
      }
    }
    lambda_.resize(q_, q_);
    lambda_.setFromTriplets(lambda_entries.begin(), lambda_entries.end());
    lambda_.makeCompressed();
    theta_index_.resize(static_cast<std::size_t>(lambda_.nonZeros()));
    for (Index i = 0; i < lambda_.nonZeros(); ++i) {
      theta_index_[static_cast<std::size_t>(i)] = static_cast<Index>(lambda_.valuePtr()[i]) - 1;
    }
    identity_.resize(q_, q_);
    identity_.setIdentity();
    // Symbolic analysis once, on the pattern at theta = 1 (every entry structural).
    SetLambda(VectorXd::Ones(theta_index_.empty() ? 0 : 1 + *std::max_element(theta_index_.begin(),
                                                                                theta_index_.end())));
    const SparseMatrix a = Penalised();
    pattern_nonzeros_ = a.nonZeros();
    llt_.analyzePattern(a);
  }

  Index rows() const { return n_; }
  Index fixed() const { return p_; }

  Solution Solve(const VectorXd& theta) const {
    Solution s;
    SetLambda(theta);
    const SparseMatrix a = Penalised();
    if (a.nonZeros() != pattern_nonzeros_) {
      pattern_nonzeros_ = a.nonZeros();
      llt_.analyzePattern(a);
    }
    llt_.factorize(a);
    if (llt_.info() != Eigen::Success) {
      s.ok = false;
      return s;
    }
    const VectorXd diagonal = llt_.matrixL().nestedExpression().diagonal();
    for (Index i = 0; i < diagonal.size(); ++i) {
      if (!(diagonal(i) > 0.0)) {
        s.ok = false;
        return s;
      }
      s.ld_l2 += 2.0 * std::log(diagonal(i));
    }
    const SparseMatrix lambda_t = lambda_.transpose();
    MatrixXd rzx = llt_.permutationP() * (lambda_t * ztx_);
    llt_.matrixL().solveInPlace(rzx);
    VectorXd cu = llt_.permutationP() * (lambda_t * zty_);
    llt_.matrixL().solveInPlace(cu);
    s.rx_cross = xtx_;
    s.rx_cross.selfadjointView<Eigen::Lower>().rankUpdate(rzx.transpose(), -1.0);
    s.rx_cross = s.rx_cross.selfadjointView<Eigen::Lower>();
    const Eigen::LLT<MatrixXd> rx(s.rx_cross);
    if (rx.info() != Eigen::Success) {
      s.ok = false;
      return s;
    }
    for (Index d = 0; d < p_; ++d) {
      const double v = rx.matrixLLT()(d, d);
      if (!(v > 0.0)) {
        s.ok = false;
        return s;
      }
      s.ld_rx2 += 2.0 * std::log(v);
    }
    VectorXd cbeta = xty_ - rzx.transpose() * cu;
    rx.matrixL().solveInPlace(cbeta);
    s.r2 = yty_ - cu.squaredNorm() - cbeta.squaredNorm();
    s.beta = rx.matrixU().solve(cbeta);
    if (!(s.r2 > 0.0)) s.ok = false;
    return s;
  }

  // lme4's profiled deviance (ML) or REML criterion; +inf where the factorisation fails.
  double Criterion(const Solution& s, bool reml) const {
    if (!s.ok) return std::numeric_limits<double>::infinity();
    const auto n = static_cast<double>(n_);
    const auto p = static_cast<double>(p_);
    if (!reml) return s.ld_l2 + n * (1.0 + kLog2Pi + std::log(s.r2 / n));
    return s.ld_l2 + s.ld_rx2 + (n - p) * (1.0 + kLog2Pi + std::log(s.r2 / (n - p)));
  }

  double Criterion(const VectorXd& theta, bool reml) const { return Criterion(Solve(theta), reml); }

  // lmerTest's devfun_vp: the deviance at (theta, sigma) without profiling sigma.
  double DevianceAt(const VectorXd& varpar, bool reml) const {
    const Index m = varpar.size() - 1;
    const double sigma2 = varpar(m) * varpar(m);
    const Solution s = Solve(varpar.head(m));
    if (!s.ok) return std::numeric_limits<double>::quiet_NaN();
    const auto n = static_cast<double>(n_);
    double dev = s.ld_l2 + s.r2 / sigma2 + n * (kLog2Pi + std::log(sigma2));
    if (reml) dev += s.ld_rx2 - static_cast<double>(p_) * (kLog2Pi + std::log(sigma2));
    return dev;
  }

  // lmerTest's get_covbeta: sigma^2 (R_X' R_X)^-1 at (theta, sigma).
  MatrixXd CovarianceAt(const VectorXd& varpar) const {
    const Index m = varpar.size() - 1;
    const Solution s = Solve(varpar.head(m));
    if (!s.ok) return MatrixXd::Constant(p_, p_, std::numeric_limits<double>::quiet_NaN());
    return varpar(m) * varpar(m) * s.rx_cross.llt().solve(MatrixXd::Identity(p_, p_));
  }

 private:
  void SetLambda(const VectorXd& theta) const {
    double* values = lambda_.valuePtr();
    for (std::size_t i = 0; i < theta_index_.size(); ++i) values[i] = theta(theta_index_[i]);
  }

  // Lambda' Z'Z Lambda + I.
  SparseMatrix Penalised() const {
    const SparseMatrix lambda_t = lambda_.transpose();
    SparseMatrix a = lambda_t * ztz_ * lambda_;
    return a + identity_;
  }

  Index n_;
  Index p_;
  Index q_ = 0;
  const std::vector<Term>& terms_;
  SparseMatrix ztz_;
  MatrixXd ztx_;
  VectorXd zty_;
  MatrixXd xtx_;
  VectorXd xty_;
  double yty_ = 0.0;
  SparseMatrix identity_;
  mutable SparseMatrix lambda_;
  std::vector<Index> theta_index_;  // theta position of each stored entry of lambda_
  mutable Index pattern_nonzeros_ = 0;
  mutable Eigen::SimplicialLLT<SparseMatrix, Eigen::Lower, Eigen::AMDOrdering<int>> llt_;
};

// Central-difference gradient and Hessian of f at x.
template <typename F>
void Derivatives(const F& f, const VectorXd& x, double fx, VectorXd& gradient, MatrixXd& hessian) {
  const Index m = x.size();
  gradient.resize(m);
  hessian.resize(m, m);
  for (Index i = 0; i < m; ++i) {
    VectorXd e = VectorXd::Zero(m);
    e(i) = kGradientStep;
    gradient(i) = (f(x + e) - f(x - e)) / (2.0 * kGradientStep);
    e(i) = kHessianStep;
    hessian(i, i) = (f(x + e) - 2.0 * fx + f(x - e)) / (kHessianStep * kHessianStep);
    for (Index j = 0; j < i; ++j) {
      VectorXd d = VectorXd::Zero(m);
      d(i) = kHessianStep;
      d(j) = kHessianStep;
      VectorXd c = d;
      c(j) = -kHessianStep;
      hessian(i, j) = hessian(j, i) =
          (f(x + d) - f(x + c) - f(x - c) + f(x - d)) / (4.0 * kHessianStep * kHessianStep);
    }
  }
}

// Second derivatives by central differences with one Richardson
// extrapolation (error O(h^4)), steps relative to |x_i|.
template <typename F>
MatrixXd RichardsonHessian(const F& f, const VectorXd& x) {
  const Index m = x.size();
  VectorXd h(m);
  for (Index i = 0; i < m; ++i) h(i) = kSatterthwaiteStep * std::max(std::abs(x(i)), 0.1);
  const double fx = f(x);
  const auto at = [&](double scale) {
    MatrixXd out(m, m);
    for (Index i = 0; i < m; ++i) {
      VectorXd e = VectorXd::Zero(m);
      e(i) = scale * h(i);
      out(i, i) = (f(x + e) - 2.0 * fx + f(x - e)) / (e(i) * e(i));
      for (Index j = 0; j < i; ++j) {
        VectorXd d = VectorXd::Zero(m);
        d(i) = scale * h(i);
        d(j) = scale * h(j);
        VectorXd c = d;
        c(j) = -d(j);
        out(i, j) = out(j, i) = (f(x + d) - f(x + c) - f(x - c) + f(x - d)) / (4.0 * d(i) * d(j));
      }
    }
    return out;
  };
  return (4.0 * at(0.5) - at(1.0)) / 3.0;
}

// d F(x) / dx_i for a matrix-valued F, same scheme.
template <typename F>
std::vector<MatrixXd> RichardsonJacobian(const F& f, const VectorXd& x) {
  const Index m = x.size();
  std::vector<MatrixXd> out;
  for (Index i = 0; i < m; ++i) {
    const double h = kSatterthwaiteStep * std::max(std::abs(x(i)), 0.1);
    const auto at = [&](double step) {
      VectorXd e = VectorXd::Zero(m);
      e(i) = step;
      return MatrixXd((f(x + e) - f(x - e)) / (2.0 * step));
    };
    out.push_back((4.0 * at(h / 2.0) - at(h)) / 3.0);
  }
  return out;
}

void CheckFinite(const MatrixXd& m, const std::vector<std::string>& column_names, const std::string& what) {
  for (Index j = 0; j < m.cols(); ++j) {
    for (Index i = 0; i < m.rows(); ++i) {
      if (!std::isfinite(m(i, j))) {
        throw NumericalError(std::string(kCaller) + ": " + what + "column '" +
                             column_names[static_cast<std::size_t>(j)] + "' row " + std::to_string(i + 1) +
                             " is not finite; expected a number (drop missing rows first)");
      }
    }
  }
}

void CheckInputs(const MatrixXd& x, const std::vector<std::string>& names, const VectorXd& y,
                 const std::vector<RandomEffectTerm>& terms) {
  const std::string caller = kCaller;
  if (static_cast<Index>(names.size()) != x.cols()) {
    throw InputError(caller + ": " + std::to_string(names.size()) + " names for " + std::to_string(x.cols()) +
                     " fixed-effect columns; expected one name per column");
  }
  if (x.cols() == 0) throw InputError(caller + ": no fixed-effect columns; expected at least one term");
  if (terms.empty()) throw InputError(caller + ": no random-effect term; expected at least one");
  if (y.size() != x.rows()) {
    throw InputError(caller + ": y has " + std::to_string(y.size()) + " rows and x " + std::to_string(x.rows()) +
                     "; expected the same number");
  }
  CheckFinite(x, names, "fixed-effect ");
  for (Index i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y(i))) {
      throw NumericalError(caller + ": outcome row " + std::to_string(i + 1) +
                           " is not finite; expected a number (drop missing rows first)");
    }
  }
  for (const RandomEffectTerm& t : terms) {
    const std::string where = caller + ": random-effect term on '" + t.group_name + "': ";
    if (static_cast<Index>(t.z_names.size()) != t.z.cols()) {
      throw InputError(where + std::to_string(t.z_names.size()) + " names for " + std::to_string(t.z.cols()) +
                       " columns; expected one name per column");
    }
    if (t.z.cols() < 1 || t.z.cols() > kMaxEffects) {
      throw InputError(where + std::to_string(t.z.cols()) + " random effects; expected 1 to " +
                       std::to_string(kMaxEffects));
    }
    if (t.z.rows() != x.rows() || static_cast<Index>(t.group.size()) != x.rows()) {
      throw InputError(where + std::to_string(t.z.rows()) + " rows of z and " + std::to_string(t.group.size()) +
                       " group codes for " + std::to_string(x.rows()) + " rows; expected the same number");
    }
    CheckFinite(t.z, t.z_names, "random-effect ");
    for (std::size_t i = 0; i < t.group.size(); ++i) {
      if (t.group[i] < 0) {
        throw InputError(where + "group code of row " + std::to_string(i + 1) + " is negative; expected >= 0");
      }
    }
  }
}

std::vector<Term> PrepareTerms(const std::vector<RandomEffectTerm>& terms, Index n) {
  std::vector<Term> out;
  for (const RandomEffectTerm& source : terms) {
    Term t;
    t.source = &source;
    t.k = source.z.cols();
    const int max_code = *std::max_element(source.group.begin(), source.group.end());
    std::vector<int> code(static_cast<std::size_t>(max_code) + 1, -1);
    t.level.resize(source.group.size());
    int levels = 0;
    for (std::size_t i = 0; i < source.group.size(); ++i) {
      int& c = code[static_cast<std::size_t>(source.group[i])];
      if (c < 0) c = levels++;
      t.level[i] = c;
    }
    t.levels = levels;
    const std::string factor = "'" + source.group_name + "'";
    if (levels < 2) {
      throw NumericalError(std::string(kCaller) + ": the grouping factor " + factor + " has " +
                           std::to_string(levels) +
                           " level; a random effect needs at least 2 groups (lme4: grouping factors must have > 1 "
                           "sampled level)");
    }
    if (t.levels * t.k >= n) {
      throw NumericalError(std::string(kCaller) + ": " + std::to_string(n) + " rows for " + std::to_string(levels) +
                           " groups of " + factor + " with " + std::to_string(t.k) +
                           " random effects each: the random effects are not identifiable from the residual "
                           "(lme4: number of observations <= number of random effects); use fewer random terms "
                           "or a grouping with repeated rows");
    }
    out.push_back(std::move(t));
  }
  // lme4 orders the terms by decreasing number of levels (stable).
  std::stable_sort(out.begin(), out.end(), [](const Term& a, const Term& b) { return a.levels > b.levels; });
  Index column = 0;
  Index theta = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    Term& t = out[i];
    t.column = column;
    t.theta = theta;
    column += t.levels * t.k;
    theta += ThetaSize(t.k);
    int repeat = 0;
    for (std::size_t j = 0; j < i; ++j) repeat += out[j].source->group_name == t.source->group_name ? 1 : 0;
    t.name = t.source->group_name;
    if (repeat > 0) t.name.append(".").append(std::to_string(repeat));
  }
  return out;
}

// The k x k lower-triangular factor of a term from theta.
MatrixXd Factor(const VectorXd& theta, const Term& t) {
  MatrixXd lambda = MatrixXd::Zero(t.k, t.k);
  Index pos = t.theta;
  for (Index c = 0; c < t.k; ++c) {
    for (Index r = c; r < t.k; ++r) lambda(r, c) = theta(pos++);
  }
  return lambda;
}

// Position in theta of diagonal entry c of a term's factor.
Index DiagonalPosition(const Term& t, Index c) { return t.theta + c * t.k - c * (c - 1) / 2; }

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + ("'" + names[i] + "'");
  }
  return out;
}

}  // namespace

MultiLmmFit FitLmmTerms(const MatrixXd& x, const std::vector<std::string>& names, const VectorXd& y,
                        const std::vector<RandomEffectTerm>& random, const LmmOptions& options) {
  CheckInputs(x, names, y, random);
  const Index n = x.rows();
  const Index p = x.cols();
  if (n < 2) throw NumericalError(std::string(kCaller) + ": need at least 2 rows, found " + std::to_string(n));
  {
    const detail::ScaledDesign design(x, names, kCaller);
    if (!design.aliased().empty()) {
      std::vector<std::string> aliased;
      for (Index j : design.aliased()) aliased.push_back(names[static_cast<std::size_t>(j)]);
      throw NumericalError(std::string(kCaller) + ": the fixed-effect design is rank deficient: " +
                           detail::JoinNames(aliased) +
                           (aliased.size() > 1 ? " are linear combinations" : " is a linear combination") +
                           " of earlier terms (for example constant or duplicated); remove " +
                           (aliased.size() > 1 ? "them" : "it"));
    }
  }
  const std::vector<Term> terms = PrepareTerms(random, n);
  Index m = 0;
  for (const Term& t : terms) m += ThetaSize(t.k);

  Index intercept = -1;
  for (Index j = 0; j < p && intercept < 0; ++j) {
    if ((x.col(j).array() == 1.0).all()) intercept = j;
  }
  const double y_shift = intercept >= 0 ? y.mean() : 0.0;
  const SparseDeviance deviance(x, y, terms, y_shift);

  MultiLmmFit fit;
  fit.n = n;
  fit.groups = terms.front().levels;
  for (const Term& t : terms) fit.groupings.push_back({t.name, t.levels});
  fit.reml = options.reml;
  fit.parameters = static_cast<int>(p + m + 1);

  // Newton's method over theta with numerical derivatives from lme4's start
  // (identity factors), as FitLmm: the criterion is even in the sign of each
  // column of a term's factor, so the search runs unconstrained and the
  // signs are normalised at the end.
  const auto f = [&](const VectorXd& t) { return deviance.Criterion(t, options.reml); };
  VectorXd theta = VectorXd::Zero(m);
  for (const Term& t : terms) {
    for (Index c = 0; c < t.k; ++c) theta(DiagonalPosition(t, c)) = 1.0;
  }
  double value = f(theta);
  if (!std::isfinite(value)) {
    throw NumericalError(std::string(kCaller) + ": the model cannot be evaluated at the starting values");
  }
  VectorXd gradient;
  MatrixXd hessian;
  for (int iter = 1; iter <= options.max_iterations; ++iter) {
    // The boundary (a column of a factor at 0, a singular fit): set a column
    // near 0 to exactly 0 when that does not raise the criterion, as lme4's
    // bounded optimiser stops at the bound.
    for (const Term& t : terms) {
      for (Index c = 0; c < t.k; ++c) {
        const Index diag = DiagonalPosition(t, c);
        if (std::abs(theta(diag)) >= kBoundaryCheck || theta(diag) == 0.0) continue;
        VectorXd bound = theta;
        for (Index r = c; r < t.k; ++r) bound(diag + r - c) = 0.0;
        const double at_bound = f(bound);
        if (at_bound <= value + kBoundaryTolerance * (1.0 + std::abs(value))) {
          theta = bound;
          value = std::min(value, at_bound);
        }
      }
    }
    Derivatives(f, theta, value, gradient, hessian);
    const VectorXd step = detail::ModifiedNewtonStep(hessian, gradient);
    double scale = 1.0;
    double next = f(theta + step);
    for (int h = 0; h < kLineSearchHalvings && !(next <= value); ++h) {
      scale /= 2.0;
      next = f(theta + scale * step);
    }
    fit.convergence.iterations = iter;
    if (!(next <= value)) {  // no descent along the step: at the optimum to working precision
      fit.convergence.relative_change = 0.0;
      fit.convergence.converged = true;
      break;
    }
    theta += scale * step;
    const double change = (scale * step).cwiseAbs().maxCoeff();
    fit.convergence.relative_change = change;
    value = next;
    if (change < options.tolerance) {
      fit.convergence.converged = true;
      break;
    }
  }
  Derivatives(f, theta, value, gradient, hessian);
  fit.convergence.max_abs_score = gradient.cwiseAbs().maxCoeff();
  if (!fit.convergence.converged) {
    fit.convergence.message = "the optimisation over the random-effect parameters did not converge in " +
                              std::to_string(options.max_iterations) +
                              " iterations (lme4: Model failed to converge); the estimates are where it stopped";
    fit.messages.push_back(fit.convergence.message);
  }
  // Normalise: non-negative diagonal of each factor (flip a column with a negative one).
  for (const Term& t : terms) {
    for (Index c = 0; c < t.k; ++c) {
      const Index diag = DiagonalPosition(t, c);
      if (theta(diag) < 0.0) theta.segment(diag, t.k - c) *= -1.0;
    }
  }
  const Solution s = deviance.Solve(theta);
  if (!s.ok) throw NumericalError(std::string(kCaller) + ": the model cannot be evaluated at the estimate");
  const auto nd = static_cast<double>(n);
  const auto pd = static_cast<double>(p);
  fit.criterion = deviance.Criterion(s, options.reml);
  fit.sigma = std::sqrt(s.r2 / (options.reml ? nd - pd : nd));
  fit.log_likelihood = -fit.criterion / 2.0;
  fit.aic = fit.criterion + 2.0 * fit.parameters;
  fit.bic = fit.criterion + std::log(nd) * fit.parameters;
  fit.theta.assign(theta.data(), theta.data() + theta.size());
  VectorXd beta = s.beta;
  if (intercept >= 0) beta(intercept) += y_shift;
  fit.covariance = fit.sigma * fit.sigma * s.rx_cross.llt().solve(MatrixXd::Identity(p, p));

  // Variance components, as.data.frame(VarCorr(fit)) order: per term its
  // SDs then its correlations, then the residual.
  std::vector<std::string> singular_terms;
  std::vector<const Term*> few_levels;
  for (const Term& t : terms) {
    const MatrixXd lambda = Factor(theta, t);
    const MatrixXd cov = fit.sigma * fit.sigma * lambda * lambda.transpose();
    detail::AppendComponents(t.name, t.source->z_names, cov, fit.components);
    bool singular = false;
    for (Index c = 0; c < t.k; ++c) singular = singular || lambda(c, c) < options.singular_tolerance;
    if (singular) singular_terms.push_back(t.name);
    if (t.levels < kFewGroups) few_levels.push_back(&t);
  }
  fit.components.push_back({"Residual", "", "", fit.sigma * fit.sigma, fit.sigma});
  fit.singular = !singular_terms.empty();
  if (fit.singular) {
    fit.messages.push_back(
        "singular fit: the estimated covariance of the random effects of " + JoinQuoted(singular_terms) +
        " is at the boundary (an SD of 0 or a correlation of +/-1); the data do not support this random-effect "
        "structure: simplify it (for example drop that term or a random slope), or read the fixed effects as "
        "those of a model without the degenerate term (lme4: boundary (singular) fit)");
  }
  for (const Term* t : few_levels) {
    fit.messages.push_back("only " + std::to_string(t->levels) + " groups of '" + t->name +
                           "': a variance estimated from fewer than " + std::to_string(kFewGroups) +
                           " groups is very imprecise; consider a fixed effect for '" + t->name + "' instead");
  }

  // Satterthwaite df, as lmerTest: A = 2 H^+ with H the Hessian of the
  // deviance in (theta, sigma); df_j = 2 V_j^2 / (g' A g), g = dV_j/d(theta, sigma).
  fit.df.assign(static_cast<std::size_t>(p), kNaN);
  if (options.satterthwaite) {
    VectorXd varpar(m + 1);
    varpar.head(m) = theta;
    varpar(m) = fit.sigma;
    const MatrixXd h =
        RichardsonHessian([&](const VectorXd& v) { return deviance.DevianceAt(v, options.reml); }, varpar);
    const std::vector<MatrixXd> jac =
        RichardsonJacobian([&](const VectorXd& v) { return deviance.CovarianceAt(v); }, varpar);
    fit.df = detail::SatterthwaiteDf(h, jac, fit.covariance, fit.singular, fit.messages);
  }

  fit.terms = detail::FixedEffectRows(names, beta, fit.covariance, fit.df, options.confidence);
  return fit;
}

}  // namespace cohortdb::stats
