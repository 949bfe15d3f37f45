#include "stats/lmm_sparse.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>

#include <Eigen/Sparse>

#include "common/error.h"
#include "common/parallel.h"
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
constexpr double kSmallStep = 1e-6;  // a full step below this, at most kFastRatio of the
constexpr double kFastRatio = 0.05;  // one before, ends the search
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

// What one evaluation writes: the penalised matrix's values, its factor and
// the solves. A deviance evaluates through its own workspace; a caller
// evaluating on several threads gives each thread one (NewWorkspace).
struct Workspace {
  SparseMatrix a;  // upper triangle of P (Lambda' Z'Z Lambda + I) P', fixed pattern
  Eigen::SimplicialLLT<SparseMatrix, Eigen::Upper, Eigen::NaturalOrdering<int>> llt;
  std::vector<double> products;  // theta_a theta_b, m x m
  // L^-1 P Lambda' [Z'X | Z'y]: R_ZX' in the first p columns, c_u in the last.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rhs;
};

class SparseDeviance {
 public:
  SparseDeviance(const MatrixXd& x, const VectorXd& y, const std::vector<Term>& terms, double y_shift)
      : n_(x.rows()), p_(x.cols()) {
    q_ = 0;
    m_ = 0;
    for (const Term& t : terms) {
      q_ += t.levels * t.k;
      m_ += ThetaSize(t.k);
    }
    std::vector<Eigen::Triplet<double>> entries;
    std::size_t nnz = 0;
    for (const Term& t : terms) nnz += static_cast<std::size_t>(n_ * t.k);
    entries.reserve(nnz);
    for (const Term& t : terms) {
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
    entries = {};
    const SparseMatrix zt = z.transpose();
    const SparseMatrix ztz = zt * z;
    const VectorXd yc = y.array() - y_shift;
    const MatrixXd ztx = zt * x;
    const VectorXd zty = zt * yc;
    xtx_ = x.transpose() * x;
    xty_ = x.transpose() * yc;
    yty_ = yc.squaredNorm();

    // Lambda's entries: per term and level, the lower triangle of a k x k
    // block, each tied to its theta position; by row.
    struct LambdaEntry {
      Index column, theta;
    };
    std::vector<std::vector<LambdaEntry>> lambda_rows(static_cast<std::size_t>(q_));
    for (const Term& t : terms) {
      for (Index l = 0; l < t.levels; ++l) {
        Index pos = t.theta;
        const Index base = t.column + l * t.k;
        for (Index c = 0; c < t.k; ++c) {
          for (Index r = c; r < t.k; ++r) lambda_rows[static_cast<std::size_t>(base + r)].push_back({base + c, pos++});
        }
      }
    }

    // The fill-reducing (AMD) order of Lambda' Z'Z Lambda + I with every
    // entry of Lambda structural, as SimplicialLLT would choose it.
    {
      std::vector<Eigen::Triplet<double>> pattern;
      for (Index s = 0; s < q_; ++s) {
        for (SparseMatrix::InnerIterator it(ztz, s); it; ++it) {
          for (const LambdaEntry& i : lambda_rows[static_cast<std::size_t>(it.row())]) {
            for (const LambdaEntry& j : lambda_rows[static_cast<std::size_t>(s)]) {
              pattern.emplace_back(static_cast<int>(i.column), static_cast<int>(j.column), 1.0);
            }
          }
        }
      }
      for (Index i = 0; i < q_; ++i) pattern.emplace_back(static_cast<int>(i), static_cast<int>(i), 1.0);
      SparseMatrix full(q_, q_);
      full.setFromTriplets(pattern.begin(), pattern.end());
      Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, int> inverse;
      Eigen::AMDOrdering<int> amd;
      amd(full, inverse);
      const Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, int> order = inverse.inverse();
      permutation_.assign(order.indices().data(), order.indices().data() + q_);
    }
    const auto at = [&](Index i) { return static_cast<Index>(permutation_[static_cast<std::size_t>(i)]); };

    // The pattern of the upper triangle of P A P' and, per entry, the terms
    // it sums: A(i, j) = sum over r, s of Lambda(r, i) Z'Z(r, s) Lambda(s, j),
    // each kept once, where it falls in the upper triangle.
    struct Contribution {
      int column, row;
      int ztz, pair;
    };
    std::vector<Contribution> contributions;
    const std::vector<double> ztz_values(ztz.valuePtr(), ztz.valuePtr() + ztz.nonZeros());
    for (Index s = 0; s < q_; ++s) {
      for (SparseMatrix::InnerIterator it(ztz, s); it; ++it) {
        const auto value_index = static_cast<int>(&it.value() - ztz.valuePtr());
        for (const LambdaEntry& i : lambda_rows[static_cast<std::size_t>(it.row())]) {
          for (const LambdaEntry& j : lambda_rows[static_cast<std::size_t>(s)]) {
            const Index pi = at(i.column);
            const Index pj = at(j.column);
            if (pi > pj) continue;
            contributions.push_back({static_cast<int>(pj), static_cast<int>(pi), value_index,
                                     static_cast<int>(i.theta * m_ + j.theta)});
          }
        }
      }
    }
    lambda_rows = {};
    for (Index i = 0; i < q_; ++i) contributions.push_back({static_cast<int>(i), static_cast<int>(i), -1, -1});
    std::sort(contributions.begin(), contributions.end(), [](const Contribution& a, const Contribution& b) {
      return a.column != b.column ? a.column < b.column : a.row < b.row;
    });
    pattern_.resize(q_, q_);
    std::vector<int> column_counts(static_cast<std::size_t>(q_), 0);
    for (std::size_t c = 0; c < contributions.size(); ++c) {
      if (c == 0 || contributions[c].column != contributions[c - 1].column ||
          contributions[c].row != contributions[c - 1].row) {
        ++column_counts[static_cast<std::size_t>(contributions[c].column)];
      }
    }
    pattern_.reserve(column_counts);
    for (std::size_t c = 0; c < contributions.size(); ++c) {
      const Contribution& e = contributions[c];
      if (c > 0 && e.column == contributions[c - 1].column && e.row == contributions[c - 1].row) continue;
      pattern_.insert(e.row, e.column) = 0.0;
    }
    pattern_.makeCompressed();
    // Each contribution's value position (the pattern is in the same order).
    int position = -1;
    for (std::size_t c = 0; c < contributions.size(); ++c) {
      const Contribution& e = contributions[c];
      if (c == 0 || e.column != contributions[c - 1].column || e.row != contributions[c - 1].row) ++position;
      if (e.ztz < 0) {
        diagonal_.push_back(position);
      } else {
        sums_.push_back({ztz_values[static_cast<std::size_t>(e.ztz)], position, e.pair});
      }
    }

    // Lambda' applied to the rows of Z'X and Z'y, in the permuted order.
    for (const Term& t : terms) {
      for (Index l = 0; l < t.levels; ++l) {
        Index pos = t.theta;
        const Index base = t.column + l * t.k;
        for (Index c = 0; c < t.k; ++c) {
          for (Index r = c; r < t.k; ++r) scale_.push_back({static_cast<int>(at(base + c)), static_cast<int>(base + r),
                                                           static_cast<int>(pos++)});
        }
      }
    }
    std::sort(scale_.begin(), scale_.end(), [](const Scale& a, const Scale& b) { return a.to < b.to; });
    ztxy_.resize(q_, p_ + 1);
    ztxy_.leftCols(p_) = ztx;
    ztxy_.col(p_) = zty;
    workspace_ = NewWorkspace();
  }

  Index rows() const { return n_; }
  Index fixed() const { return p_; }

  // A workspace for Solve on another thread (symbolic analysis done).
  std::unique_ptr<Workspace> NewWorkspace() const {
    auto w = std::make_unique<Workspace>();
    w->a = pattern_;
    w->llt.analyzePattern(w->a);
    w->products.resize(static_cast<std::size_t>(m_ * m_));
    return w;
  }

  Solution Solve(const VectorXd& theta) const { return Solve(theta, *workspace_); }

  // The workspace of the calls without one (not to be used concurrently with them).
  Workspace& OwnWorkspace() const { return *workspace_; }

  Solution Solve(const VectorXd& theta, Workspace& w) const {
    Solution s;
    Fill(theta, w);
    w.llt.factorize(w.a);
    if (w.llt.info() != Eigen::Success) {
      s.ok = false;
      return s;
    }
    // L (compressed, column-major) holds each column's diagonal first.
    const SparseMatrix& l = w.llt.matrixL().nestedExpression();
    const int* outer = l.outerIndexPtr();
    const int* inner = l.innerIndexPtr();
    const double* value = l.valuePtr();
    for (Index j = 0; j < q_; ++j) {
      if (inner[outer[j]] != j) throw std::logic_error("FitLmmTerms: the sparse factor's layout is not the expected one");
      const double d = value[outer[j]];
      if (!(d > 0.0)) {
        s.ok = false;
        return s;
      }
      s.ld_l2 += 2.0 * std::log(d);
    }
    // P Lambda' [Z'X | Z'y], then L^-1 of it: one pass over L for all p + 1
    // columns (rows of the row-major right-hand side are contiguous).
    const Index width = p_ + 1;
    w.rhs.setZero(q_, width);
    for (const Scale& e : scale_) w.rhs.row(e.to) += theta(e.theta) * ztxy_.row(e.from);
    double* x = w.rhs.data();
    for (Index j = 0; j < q_; ++j) {
      double* xj = x + j * width;
      const double d = value[outer[j]];
      for (Index c = 0; c < width; ++c) xj[c] /= d;
      for (int k = outer[j] + 1; k < outer[j + 1]; ++k) {
        double* xi = x + static_cast<Index>(inner[k]) * width;
        const double v = value[k];
        for (Index c = 0; c < width; ++c) xi[c] -= v * xj[c];
      }
    }
    // [R_ZX' | c_u]' [R_ZX' | c_u] in one pass over the rows: R_ZX R_ZX',
    // R_ZX c_u and |c_u|^2 (lower triangle).
    MatrixXd cross = MatrixXd::Zero(width, width);
    for (Index j = 0; j < q_; ++j) {
      const double* xj = x + j * width;
      for (Index a = 0; a < width; ++a) {
        for (Index b = 0; b <= a; ++b) cross(a, b) += xj[a] * xj[b];
      }
    }
    s.rx_cross = xtx_ - cross.topLeftCorner(p_, p_);
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
    VectorXd cbeta = xty_ - cross.row(p_).head(p_).transpose();
    rx.matrixL().solveInPlace(cbeta);
    s.r2 = yty_ - cross(p_, p_) - cbeta.squaredNorm();
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
  double Criterion(const VectorXd& theta, bool reml, Workspace& w) const { return Criterion(Solve(theta, w), reml); }

  // lmerTest's devfun_vp: the deviance at (theta, sigma) without profiling sigma.
  double DevianceAt(const VectorXd& varpar, bool reml, Workspace& w) const {
    const Index m = varpar.size() - 1;
    const double sigma2 = varpar(m) * varpar(m);
    const Solution s = Solve(varpar.head(m), w);
    if (!s.ok) return std::numeric_limits<double>::quiet_NaN();
    const auto n = static_cast<double>(n_);
    double dev = s.ld_l2 + s.r2 / sigma2 + n * (kLog2Pi + std::log(sigma2));
    if (reml) dev += s.ld_rx2 - static_cast<double>(p_) * (kLog2Pi + std::log(sigma2));
    return dev;
  }

  // lmerTest's get_covbeta: sigma^2 (R_X' R_X)^-1 at (theta, sigma).
  MatrixXd CovarianceAt(const VectorXd& varpar, Workspace& w) const {
    const Index m = varpar.size() - 1;
    const Solution s = Solve(varpar.head(m), w);
    if (!s.ok) return MatrixXd::Constant(p_, p_, std::numeric_limits<double>::quiet_NaN());
    return varpar(m) * varpar(m) * s.rx_cross.llt().solve(MatrixXd::Identity(p_, p_));
  }

 private:
  // One term of a penalised matrix entry: values[position] += ztz x
  // theta_a theta_b (pair = a m + b).
  struct Entry {
    double ztz;
    int position, pair;
  };
  // Row "to" (permuted) of Lambda' M gains theta(theta) x row "from" of M.
  struct Scale {
    int to, from, theta;
  };

  // The values of P (Lambda' Z'Z Lambda + I) P' (upper triangle) at theta.
  void Fill(const VectorXd& theta, Workspace& w) const {
    for (Index a = 0; a < m_; ++a) {
      for (Index b = 0; b < m_; ++b) w.products[static_cast<std::size_t>(a * m_ + b)] = theta(a) * theta(b);
    }
    double* values = w.a.valuePtr();
    std::fill(values, values + w.a.nonZeros(), 0.0);
    for (const Entry& e : sums_) {
      values[e.position] += e.ztz * w.products[static_cast<std::size_t>(e.pair)];
    }
    for (const int d : diagonal_) values[d] += 1.0;
  }

  Index n_;
  Index p_;
  Index q_ = 0;
  Index m_ = 0;
  std::vector<int> permutation_;  // new index of each column of Z
  SparseMatrix pattern_;
  std::vector<Entry> sums_;  // in position order
  std::vector<int> diagonal_;
  std::vector<Scale> scale_;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ztxy_;  // [Z'X | Z'y]
  MatrixXd xtx_;
  VectorXd xty_;
  double yty_ = 0.0;
  std::unique_ptr<Workspace> workspace_;
};

// Evaluates the deviance at several points, on up to kMaxWorkspaces threads
// (each with its own workspace): value i is f(points[i], workspace), the
// same bits whatever the number of threads.
constexpr std::size_t kMaxWorkspaces = 4;

class Evaluator {
 public:
  explicit Evaluator(const SparseDeviance& deviance) : deviance_(deviance) {}

  template <typename T, typename F>
  std::vector<T> All(const std::vector<VectorXd>& points, const F& f) {
    const std::size_t pieces = std::min({kMaxWorkspaces, WorkerThreads(), points.size()});
    while (workspaces_.size() + 1 < pieces) workspaces_.push_back(deviance_.NewWorkspace());
    std::vector<T> out(points.size());
    ParallelFor(pieces, [&](std::size_t piece) {
      Workspace& w = piece == 0 ? deviance_.OwnWorkspace() : *workspaces_[piece - 1];
      for (std::size_t i = piece; i < points.size(); i += pieces) out[i] = f(points[i], w);
    });
    return out;
  }

 private:
  const SparseDeviance& deviance_;
  std::vector<std::unique_ptr<Workspace>> workspaces_;  // pieces 1, 2, ... (piece 0: the deviance's own)
};

// x + h e_i (+ g e_j).
VectorXd Shifted(const VectorXd& x, Index i, double h, Index j = -1, double g = 0.0) {
  VectorXd out = x;
  out(i) += h;
  if (j >= 0) out(j) += g;
  return out;
}

// Central-difference gradient and, when "hessian" is given, Hessian of the
// criterion at x, fx = its value there: 2 m (+ 2 m + 2 m (m - 1))
// evaluations, run together.
void Derivatives(Evaluator& evaluator, const SparseDeviance& deviance, const VectorXd& x, double fx, bool reml,
                 VectorXd& gradient, MatrixXd* hessian) {
  const Index m = x.size();
  const double g = kGradientStep;
  const double h = kHessianStep;
  std::vector<VectorXd> points;
  for (Index i = 0; i < m; ++i) {
    points.push_back(Shifted(x, i, g));
    points.push_back(Shifted(x, i, -g));
    if (hessian == nullptr) continue;
    points.push_back(Shifted(x, i, h));
    points.push_back(Shifted(x, i, -h));
    for (Index j = 0; j < i; ++j) {
      points.push_back(Shifted(x, i, h, j, h));
      points.push_back(Shifted(x, i, h, j, -h));
      points.push_back(Shifted(x, i, -h, j, h));
      points.push_back(Shifted(x, i, -h, j, -h));
    }
  }
  const std::vector<double> f = evaluator.All<double>(
      points, [&](const VectorXd& t, Workspace& w) { return deviance.Criterion(t, reml, w); });
  gradient.resize(m);
  if (hessian != nullptr) hessian->resize(m, m);
  std::size_t at = 0;
  for (Index i = 0; i < m; ++i) {
    gradient(i) = (f[at] - f[at + 1]) / (2.0 * g);
    at += 2;
    if (hessian == nullptr) continue;
    (*hessian)(i, i) = (f[at] - 2.0 * fx + f[at + 1]) / (h * h);
    at += 2;
    for (Index j = 0; j < i; ++j) {
      (*hessian)(i, j) = (*hessian)(j, i) = (f[at] - f[at + 1] - f[at + 2] + f[at + 3]) / (4.0 * h * h);
      at += 4;
    }
  }
}

// Second derivatives of the deviance in (theta, sigma) by central differences
// with one Richardson extrapolation (error O(h^4)), steps relative to |x_i|.
MatrixXd RichardsonHessian(Evaluator& evaluator, const SparseDeviance& deviance, const VectorXd& x, bool reml) {
  const Index m = x.size();
  VectorXd h(m);
  for (Index i = 0; i < m; ++i) h(i) = kSatterthwaiteStep * std::max(std::abs(x(i)), 0.1);
  std::vector<VectorXd> points{x};
  for (const double scale : {0.5, 1.0}) {
    for (Index i = 0; i < m; ++i) {
      points.push_back(Shifted(x, i, scale * h(i)));
      points.push_back(Shifted(x, i, -scale * h(i)));
      for (Index j = 0; j < i; ++j) {
        const double hi = scale * h(i);
        const double hj = scale * h(j);
        points.push_back(Shifted(x, i, hi, j, hj));
        points.push_back(Shifted(x, i, hi, j, -hj));
        points.push_back(Shifted(x, i, -hi, j, hj));
        points.push_back(Shifted(x, i, -hi, j, -hj));
      }
    }
  }
  const std::vector<double> f = evaluator.All<double>(
      points, [&](const VectorXd& v, Workspace& w) { return deviance.DevianceAt(v, reml, w); });
  const double fx = f[0];
  std::size_t at = 1;
  const auto at_scale = [&](double scale) {
    MatrixXd out(m, m);
    for (Index i = 0; i < m; ++i) {
      const double hi = scale * h(i);
      out(i, i) = (f[at] - 2.0 * fx + f[at + 1]) / (hi * hi);
      at += 2;
      for (Index j = 0; j < i; ++j) {
        const double hj = scale * h(j);
        out(i, j) = out(j, i) = (f[at] - f[at + 1] - f[at + 2] + f[at + 3]) / (4.0 * hi * hj);
        at += 4;
      }
    }
    return out;
  };
  const MatrixXd half = at_scale(0.5);
  const MatrixXd full = at_scale(1.0);
  return (4.0 * half - full) / 3.0;
}

// d Cov(beta) / dx_i, same scheme.
std::vector<MatrixXd> RichardsonJacobian(Evaluator& evaluator, const SparseDeviance& deviance, const VectorXd& x) {
  const Index m = x.size();
  std::vector<VectorXd> points;
  std::vector<double> steps;
  for (Index i = 0; i < m; ++i) {
    const double h = kSatterthwaiteStep * std::max(std::abs(x(i)), 0.1);
    for (const double step : {h / 2.0, h}) {
      points.push_back(Shifted(x, i, step));
      points.push_back(Shifted(x, i, -step));
      steps.push_back(step);
    }
  }
  const std::vector<MatrixXd> f = evaluator.All<MatrixXd>(
      points, [&](const VectorXd& v, Workspace& w) { return deviance.CovarianceAt(v, w); });
  std::vector<MatrixXd> out;
  for (Index i = 0; i < m; ++i) {
    const auto k = static_cast<std::size_t>(4 * i);
    const MatrixXd half = (f[k] - f[k + 1]) / (2.0 * steps[static_cast<std::size_t>(2 * i)]);
    const MatrixXd full = (f[k + 2] - f[k + 3]) / (2.0 * steps[static_cast<std::size_t>(2 * i + 1)]);
    out.push_back((4.0 * half - full) / 3.0);
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

  // Newton's method over theta from lme4's start (identity factors), with
  // central-difference derivatives (evaluated together, on several
  // threads). The criterion is even in the sign of each column of a term's
  // factor, so the search runs unconstrained and the signs are normalised at
  // the end. (A quasi-Newton search, BFGS after full steps, was tried: it
  // needs fewer evaluations on a regular fit, but where a variance is 0 its
  // updated Hessian misjudged the flat direction and took 101 iterations
  // instead of 10 on a 1.4 million-row fit.) Converged after a full step
  // below kSmallStep that was at most kFastRatio of the one before (what is
  // left is far below it), after a step below the tolerance, or where no
  // step along the Newton direction lowers the criterion (the optimum to
  // working precision).
  Evaluator evaluator(deviance);
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
  double previous_change = std::numeric_limits<double>::infinity();
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
    Derivatives(evaluator, deviance, theta, value, options.reml, gradient, &hessian);
    const VectorXd step = detail::ModifiedNewtonStep(hessian, gradient);
    double scale = 1.0;
    double next = f(theta + step);
    // A step already below kSmallStep that does not descend is at the
    // optimum to the precision of the differenced derivatives: halving it 40
    // times would only spend evaluations.
    const int halvings = step.cwiseAbs().maxCoeff() < kSmallStep ? 2 : kLineSearchHalvings;
    for (int h = 0; h < halvings && !(next <= value); ++h) {
      scale /= 2.0;
      next = f(theta + scale * step);
    }
    fit.convergence.iterations = iter;
    if (!(next <= value)) {  // no descent along the step: at the optimum to working precision
      fit.convergence.relative_change = 0.0;
      fit.convergence.converged = true;
      break;
    }
    const VectorXd taken = scale * step;
    theta += taken;
    value = next;
    const double change = taken.cwiseAbs().maxCoeff();
    fit.convergence.relative_change = change;
    if (change < options.tolerance ||
        (scale == 1.0 && change < kSmallStep && change <= kFastRatio * previous_change)) {
      fit.convergence.converged = true;
      break;
    }
    previous_change = change;
  }
  // The gradient where the search stopped.
  Derivatives(evaluator, deviance, theta, value, options.reml, gradient, nullptr);
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
    const MatrixXd h = RichardsonHessian(evaluator, deviance, varpar, options.reml);
    const std::vector<MatrixXd> jac = RichardsonJacobian(evaluator, deviance, varpar);
    fit.df = detail::SatterthwaiteDf(h, jac, fit.covariance, fit.singular, fit.messages);
  }

  fit.terms = detail::FixedEffectRows(names, beta, fit.covariance, fit.df, options.confidence);
  return fit;
}

}  // namespace cohortdb::stats
