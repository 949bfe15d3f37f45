#include "stats/lmm.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <numbers>
#include <optional>
#include <string>

#include <boost/math/distributions/chi_squared.hpp>

#include "common/error.h"
#include "common/parallel.h"
#include "stats/lmm_common.h"
#include "stats/model_scaling.h"

namespace cohortdb::stats {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr Index kMaxTerms = 4;
using SmallMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxTerms, kMaxTerms>;

// Solve splits at least kParallelGroups groups into kPieces pieces run in
// parallel (ParallelFor).
constexpr Index kParallelGroups = 8192;
constexpr std::size_t kPieces = 8;
constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)
constexpr int kLineSearchHalvings = 40;
constexpr double kHessianStep = 1e-6;        // forward differences of the analytic gradient
constexpr double kSatterthwaiteStep = 1e-6;  // relative, forward differences of the analytic gradient
constexpr double kSmallStep = 1e-6;          // a full step below this, at most kFastRatio of the
constexpr double kFastRatio = 0.05;          // one before, ends the search
constexpr Index kFewGroups = 5;
constexpr double kBoundaryCheck = 1e-3;       // |L(c, c)| below this: try the boundary
constexpr double kBoundaryTolerance = 1e-13;  // relative rise of the criterion accepted there

// The lower-triangular relative covariance factor from theta (column order).
SmallMatrix FactorFromTheta(const VectorXd& theta, Index k) {
  SmallMatrix lambda = SmallMatrix::Zero(k, k);
  Index t = 0;
  for (Index c = 0; c < k; ++c) {
    for (Index r = c; r < k; ++r) lambda(r, c) = theta(t++);
  }
  return lambda;
}

// What the penalised least-squares solution gives at one theta.
struct Solution {
  double ld_l2 = 0.0;   // log |L_theta|^2 = sum over groups of log det(L' Z_g'Z_g L + I)
  double ld_rx2 = 0.0;  // log |R_X|^2
  double r2 = 0.0;      // penalised residual sum of squares
  VectorXd beta;
  MatrixXd rx_cross;    // R_X' R_X = X' V^-1 X (sigma^2 = 1 scale)
  bool ok = true;
};

// Sums over groups from which the derivatives of the criterion in theta
// follow without another pass (sigma^2 = 1 scale, V_g = I + Z_g L L' Z_g'):
// with B_g = Z_g'V_g^-1 Z_g, C_g = Z_g'V_g^-1 X_g and e_g = Z_g'V_g^-1 y_g,
// sb = sum B_g, see = sum e_g e_g', sec = sum e_g vec(C_g)', and
// cc = sum vec(C_g) vec(C_g)' (vec(C)[a + k j] = C(a, j)).
struct GradientParts {
  MatrixXd sb;
  MatrixXd see;
  MatrixXd sec;
  MatrixXd cc;
};

// Column i of a Hessian by a forward difference of `gradient` (theta ->
// std::optional<VectorXd>, nullopt where it cannot be evaluated) with step h
// from `at_theta`, its value at theta; backward where the forward point
// cannot be evaluated; nullopt where neither can.
template <typename Gradient>
std::optional<VectorXd> DifferenceColumn(const Gradient& gradient, const VectorXd& theta, const VectorXd& at_theta,
                                         Index i, double h) {
  VectorXd shifted = theta;
  shifted(i) += h;
  if (const std::optional<VectorXd> g = gradient(shifted)) return VectorXd((*g - at_theta) / h);
  shifted(i) = theta(i) - h;
  if (const std::optional<VectorXd> g = gradient(shifted)) return VectorXd((at_theta - *g) / h);
  return std::nullopt;
}

// What one range of groups adds to Solve's sums (see AccumulateGroups).
struct GroupSums {
  MatrixXd rzx_sum;
  VectorXd cb;
  double cu2 = 0.0;
  double det_mantissa = 1.0;  // the product of det(L_g)^2 as mantissa and binary exponent
  long det_exponent = 0;
  GradientParts parts;
  bool ok = true;
};

// Per-group cross-products and the profiled deviance as a function of theta.
class ProfiledDeviance {
 public:
  // With subset_groups > 0, also the sums over the rows of groups
  // 0 .. subset_groups - 1, for Subset().
  ProfiledDeviance(const MatrixXd& x, const VectorXd& y, const MatrixXd& z, const std::vector<int>& group, int groups,
                   double y_shift, Index subset_groups = 0)
      : n_(x.rows()), p_(x.cols()), k_(z.cols()), groups_(groups), blocks_(std::make_shared<GroupBlocks>()) {
    std::vector<double>& ztz_all = blocks_->ztz;
    std::vector<double>& ztx_all = blocks_->ztx;
    std::vector<double>& zty_all = blocks_->zty;
    ztz_all.assign(static_cast<size_t>(groups_ * k_ * k_), 0.0);
    ztx_all.assign(static_cast<size_t>(groups_ * k_ * p_), 0.0);
    zty_all.assign(static_cast<size_t>(groups_ * k_), 0.0);
    xtx_ = MatrixXd::Zero(p_, p_);
    xty_ = VectorXd::Zero(p_);
    yty_ = 0.0;
    subset_.groups = subset_groups;
    subset_.xtx = MatrixXd::Zero(p_, p_);
    subset_.xty = VectorXd::Zero(p_);
    constexpr Index kBlock = 2048;
    for (Index begin = 0; begin < n_; begin += kBlock) {
      const Index len = std::min(kBlock, n_ - begin);
      const auto xb = x.middleRows(begin, len);
      xtx_.selfadjointView<Eigen::Lower>().rankUpdate(xb.transpose());
      for (Index r = 0; r < len; ++r) {
        const Index i = begin + r;
        const double yi = y(i) - y_shift;
        const auto g = static_cast<Index>(group[static_cast<size_t>(i)]);
        double* ztz = &ztz_all[static_cast<size_t>(g * k_ * k_)];
        double* ztx = &ztx_all[static_cast<size_t>(g * k_ * p_)];
        double* zty = &zty_all[static_cast<size_t>(g * k_)];
        for (Index a = 0; a < k_; ++a) {
          const double za = z(i, a);
          for (Index b = 0; b < k_; ++b) ztz[a + b * k_] += za * z(i, b);
          for (Index j = 0; j < p_; ++j) ztx[a + j * k_] += za * x(i, j);
          zty[a] += za * yi;
        }
        xty_ += x.row(i).transpose() * yi;
        yty_ += yi * yi;
        if (g < subset_groups) {
          ++subset_.n;
          for (Index j = 0; j < p_; ++j) {
            for (Index l = j; l < p_; ++l) subset_.xtx(l, j) += x(i, l) * x(i, j);
            subset_.xty(j) += x(i, j) * yi;
          }
          subset_.yty += yi * yi;
        }
      }
    }
    xtx_ = xtx_.selfadjointView<Eigen::Lower>();
    subset_.xtx = subset_.xtx.selfadjointView<Eigen::Lower>();
  }

  // The criterion of the rows of the first subset_groups groups only (the
  // per-group blocks shared, not copied): a cheap model of the whole for
  // starting values. Needs subset_groups > 0 at construction.
  ProfiledDeviance Subset() const {
    ProfiledDeviance out(*this);
    out.n_ = subset_.n;
    out.groups_ = subset_.groups;
    out.xtx_ = subset_.xtx;
    out.xty_ = subset_.xty;
    out.yty_ = subset_.yty;
    out.subset_ = SubsetSums{};
    return out;
  }
  bool HasSubset() const { return subset_.groups > 0; }
  Index groups() const { return groups_; }

  // The Hessian of the criterion at theta by forward differences of the
  // analytic gradient (`gradient`: the one at theta), symmetrised.
  MatrixXd DifferenceHessian(const VectorXd& theta, const VectorXd& gradient, bool reml) const {
    const Index m = theta.size();
    const auto gradient_at = [&](const VectorXd& t) -> std::optional<VectorXd> {
      VectorXd g;
      if (!std::isfinite(CriterionAndGradient(t, reml, g))) return std::nullopt;
      return g;
    };
    MatrixXd hessian(m, m);
    for (Index i = 0; i < m; ++i) {
      const double h = kHessianStep * std::max(1.0, std::abs(theta(i)));
      if (const auto column = DifferenceColumn(gradient_at, theta, gradient, i, h)) {
        hessian.col(i) = *column;
      } else {  // not evaluable on either side: a unit curvature, the line search decides
        hessian.col(i).setZero();
        hessian(i, i) = 1.0;
      }
    }
    return (hessian + hessian.transpose()) / 2.0;
  }

  Index rows() const { return n_; }
  Index fixed() const { return p_; }
  Index terms() const { return k_; }

  // The penalised least-squares solution at theta; with `parts`, also the
  // sums the derivatives need (same pass over the groups).
  Solution Solve(const VectorXd& theta, GradientParts* parts = nullptr) const {
    Solution s;
    const SmallMatrix lambda = FactorFromTheta(theta, k_);
    // A fixed number of pieces (not one per thread), summed in order: the
    // same bits with any number of threads.
    const std::size_t pieces = groups_ >= kParallelGroups ? kPieces : 1;
    std::vector<GroupSums> sums(pieces);
    ParallelFor(pieces, [&](std::size_t piece) {
      const Index begin = groups_ * static_cast<Index>(piece) / static_cast<Index>(pieces);
      const Index end = groups_ * static_cast<Index>(piece + 1) / static_cast<Index>(pieces);
      GroupSums& out = sums[piece];
      out.rzx_sum = MatrixXd::Zero(p_, p_);
      out.cb = VectorXd::Zero(p_);
      if (parts != nullptr) {
        out.parts.sb = MatrixXd::Zero(k_, k_);
        out.parts.see = MatrixXd::Zero(k_, k_);
        out.parts.sec = MatrixXd::Zero(k_, k_ * p_);
        out.parts.cc = MatrixXd::Zero(k_ * p_, k_ * p_);
      }
      Accumulate(lambda, begin, end, parts != nullptr, out);
    });
    MatrixXd rzx_sum = MatrixXd::Zero(p_, p_);
    VectorXd cb = VectorXd::Zero(p_);
    double cu2 = 0.0;
    bool ok = true;
    if (parts != nullptr) {
      parts->sb = MatrixXd::Zero(k_, k_);
      parts->see = MatrixXd::Zero(k_, k_);
      parts->sec = MatrixXd::Zero(k_, k_ * p_);
      parts->cc = MatrixXd::Zero(k_ * p_, k_ * p_);
    }
    for (const GroupSums& part : sums) {
      s.ld_l2 += std::log(part.det_mantissa) + static_cast<double>(part.det_exponent) * std::numbers::ln2;
      ok = ok && part.ok;
      rzx_sum += part.rzx_sum;
      cb += part.cb;
      cu2 += part.cu2;
      if (parts != nullptr) {
        parts->sb += part.parts.sb;
        parts->see += part.parts.see;
        parts->sec += part.parts.sec;
        parts->cc += part.parts.cc;
      }
    }
    if (parts != nullptr) {
      parts->cc.triangularView<Eigen::StrictlyUpper>() = parts->cc.transpose().triangularView<Eigen::StrictlyUpper>();
    }
    if (!ok) {
      s.ok = false;
      return s;
    }
    rzx_sum.triangularView<Eigen::StrictlyUpper>() = rzx_sum.transpose().triangularView<Eigen::StrictlyUpper>();
    s.rx_cross = xtx_ - rzx_sum;
    const Eigen::LLT<MatrixXd> rx(s.rx_cross);
    if (rx.info() != Eigen::Success) {
      s.ok = false;
      return s;
    }
    for (Index d = 0; d < p_; ++d) s.ld_rx2 += 2.0 * std::log(rx.matrixLLT()(d, d));
    VectorXd cbeta = xty_ - cb;
    rx.matrixL().solveInPlace(cbeta);
    s.r2 = yty_ - cu2 - cbeta.squaredNorm();
    s.beta = rx.matrixU().solve(cbeta);
    if (!(s.r2 > 0.0)) s.ok = false;
    return s;
  }

  // AccumulateGroups with K = k_, and P = p_ when p_ <= 6
  // (the loops over the fixed effects unrolled too), else P = 0 (p_ at run
  // time).
  void Accumulate(const SmallMatrix& lambda, Index begin, Index end, bool with_parts, GroupSums& out) const {
    switch (k_) {
      case 1:
        return AccumulateFixed<1>(lambda, begin, end, with_parts, out);
      case 2:
        return AccumulateFixed<2>(lambda, begin, end, with_parts, out);
      case 3:
        return AccumulateFixed<3>(lambda, begin, end, with_parts, out);
      default:
        return AccumulateFixed<4>(lambda, begin, end, with_parts, out);
    }
  }
  template <int K>
  void AccumulateFixed(const SmallMatrix& lambda, Index begin, Index end, bool with_parts, GroupSums& out) const {
    switch (p_) {
      case 1:
        return AccumulateGroups<K, 1>(lambda, begin, end, with_parts, out);
      case 2:
        return AccumulateGroups<K, 2>(lambda, begin, end, with_parts, out);
      case 3:
        return AccumulateGroups<K, 3>(lambda, begin, end, with_parts, out);
      case 4:
        return AccumulateGroups<K, 4>(lambda, begin, end, with_parts, out);
      case 5:
        return AccumulateGroups<K, 5>(lambda, begin, end, with_parts, out);
      case 6:
        return AccumulateGroups<K, 6>(lambda, begin, end, with_parts, out);
      default:
        return AccumulateGroups<K, 0>(lambda, begin, end, with_parts, out);
    }
  }

  // The per-group part of Solve for K random-effect terms, unrolled, over
  // groups [begin, end): adds R_ZX,g'R_ZX,g (lower triangle) to rzx_sum,
  // R_ZX,g'c_u,g to cb, |c_u,g|^2 to cu2 and det(L_g)^2 to the determinant,
  // and `with_parts` the sums of GradientParts (cc: lower triangle). ok is
  // false when a factorisation fails.
  template <int K, int P>
  void AccumulateGroups(const SmallMatrix& lambda_dynamic, Index begin, Index end, bool with_parts,
                        GroupSums& out) const {
    GradientParts* parts = with_parts ? &out.parts : nullptr;
    double& cu2 = out.cu2;
    double lambda[K][K];  // [row][col], lower triangular
    for (int r = 0; r < K; ++r) {
      for (int c = 0; c < K; ++c) lambda[r][c] = lambda_dynamic(r, c);
    }
    const int p = P > 0 ? P : static_cast<int>(p_);
    // R_ZX,g at [a * p + j] and C_g(a, j) at [a + K j]: on the stack when P
    // is fixed.
    std::array<double, static_cast<size_t>(K * std::max(P, 1))> rzx_fixed{};
    std::array<double, static_cast<size_t>(K * std::max(P, 1))> vec_c_fixed{};
    std::vector<double> rzx_dynamic(P > 0 ? 0 : static_cast<size_t>(K * p));
    std::vector<double> vec_c_dynamic(P > 0 ? 0 : static_cast<size_t>(K * p));
    double* rzx = P > 0 ? rzx_fixed.data() : rzx_dynamic.data();
    double* vec_c = P > 0 ? vec_c_fixed.data() : vec_c_dynamic.data();
    const int kp = K * p;
    // The sums, on the stack when P is fixed (the compiler keeps them apart
    // from the per-group blocks it reads), added to `out` at the end.
    constexpr auto kFixed = static_cast<size_t>(std::max(P, 1));
    std::array<double, kFixed * kFixed> sum_fixed{};
    std::array<double, kFixed> cb_fixed{};
    std::array<double, K * K * kFixed> sec_fixed{};
    std::array<double, K * K * kFixed * kFixed> cc_fixed{};
    std::array<double, K * K> sb_local{};
    std::array<double, K * K> see_local{};
    double* sum = P > 0 ? sum_fixed.data() : out.rzx_sum.data();  // column-major p x p, lower triangle used
    double* cbd = P > 0 ? cb_fixed.data() : out.cb.data();
    double* sb = sb_local.data();
    double* see = see_local.data();
    double* sec = P > 0 ? sec_fixed.data() : (parts != nullptr ? parts->sec.data() : nullptr);
    double* cc = P > 0 ? cc_fixed.data() : (parts != nullptr ? parts->cc.data() : nullptr);
    // log det(L_g)^2 summed as one product (mantissa and binary exponent
    // kept apart so it cannot overflow): a log per group cost as much as the
    // rest of the group's work.
    double det_mantissa = 1.0;
    long det_exponent = 0;
    for (Index g = begin; g < end; ++g) {
      if (g > begin) {
        int e = 0;
        det_mantissa = std::frexp(det_mantissa, &e);
        det_exponent += e;
      }
      const double* ztz = &blocks_->ztz[static_cast<size_t>(g * K * K)];  // column-major K x K
      const double* ztx = &blocks_->ztx[static_cast<size_t>(g * K * p)];  // column-major K x p
      const double* zty = &blocks_->zty[static_cast<size_t>(g * K)];
      // M = lambda' ZtZ lambda + I, then its Cholesky factor L (lower).
      double t[K][K];  // ZtZ lambda
      for (int r = 0; r < K; ++r) {
        for (int c = 0; c < K; ++c) {
          double v = 0.0;
          for (int b = c; b < K; ++b) v += ztz[r + b * K] * lambda[b][c];
          t[r][c] = v;
        }
      }
      double l[K][K];
      for (int r = 0; r < K; ++r) {
        for (int c = 0; c <= r; ++c) {
          double v = r == c ? 1.0 : 0.0;
          for (int b = r; b < K; ++b) v += lambda[b][r] * t[b][c];
          for (int e = 0; e < c; ++e) v -= l[r][e] * l[c][e];
          if (r == c) {
            if (!(v > 0.0)) {
              out.ok = false;
              return;
            }
            l[r][r] = std::sqrt(v);
            det_mantissa *= v;
          } else {
            l[r][c] = v / l[c][c];
          }
        }
      }
      // R_ZX = L^-1 lambda' ZtX and c_u = L^-1 lambda' Zty.
      double cu[K];
      for (int a = 0; a < K; ++a) {
        double v = 0.0;
        for (int b = a; b < K; ++b) v += lambda[b][a] * zty[b];
        for (int e = 0; e < a; ++e) v -= l[a][e] * cu[e];
        cu[a] = v / l[a][a];
        cu2 += cu[a] * cu[a];
      }
      for (int j = 0; j < p; ++j) {
        const double* col = ztx + static_cast<std::ptrdiff_t>(j) * K;
        for (int a = 0; a < K; ++a) {
          double v = 0.0;
          for (int b = a; b < K; ++b) v += lambda[b][a] * col[b];
          for (int e = 0; e < a; ++e) v -= l[a][e] * rzx[static_cast<size_t>(e * p + j)];
          rzx[static_cast<size_t>(a * p + j)] = v / l[a][a];
        }
      }
      for (int j = 0; j < p; ++j) {
        double cbj = 0.0;
        for (int a = 0; a < K; ++a) cbj += rzx[static_cast<size_t>(a * p + j)] * cu[a];
        cbd[j] += cbj;
        for (int i = j; i < p; ++i) {
          double v = 0.0;
          for (int a = 0; a < K; ++a) v += rzx[static_cast<size_t>(a * p + i)] * rzx[static_cast<size_t>(a * p + j)];
          sum[i + static_cast<std::ptrdiff_t>(j) * p] += v;
        }
      }
      if (parts == nullptr) continue;
      // J = L^-1 lambda', so lambda M^-1 lambda' = J'J and V_g^-1 = I - Z_g J'J Z_g'.
      double jm[K][K];
      for (int c = 0; c < K; ++c) {
        for (int a = 0; a < K; ++a) {
          double v = lambda[c][a];
          for (int e = 0; e < a; ++e) v -= l[a][e] * jm[e][c];
          jm[a][c] = v / l[a][a];
        }
      }
      double ajt[K][K];  // ZtZ J'
      for (int r = 0; r < K; ++r) {
        for (int a = 0; a < K; ++a) {
          double v = 0.0;
          for (int b = 0; b < K; ++b) v += ztz[r + b * K] * jm[a][b];
          ajt[r][a] = v;
        }
      }
      // B = ZtZ - ZtZ J'J ZtZ, C = ZtX - ZtZ J' R_ZX, e = Zty - ZtZ J' c_u.
      double e[K];
      for (int r = 0; r < K; ++r) {
        double v = zty[r];
        for (int a = 0; a < K; ++a) v -= ajt[r][a] * cu[a];
        e[r] = v;
      }
      for (int r = 0; r < K; ++r) {
        for (int c = 0; c < K; ++c) {
          double v = ztz[r + c * K];
          for (int a = 0; a < K; ++a) {
            double jz = 0.0;  // (J ZtZ)(a, c)
            for (int b = 0; b < K; ++b) jz += jm[a][b] * ztz[b + c * K];
            v -= ajt[r][a] * jz;
          }
          sb[r + c * K] += v;
          see[r + c * K] += e[r] * e[c];
        }
      }
      for (int j = 0; j < p; ++j) {
        for (int r = 0; r < K; ++r) {
          double v = ztx[r + j * K];
          for (int a = 0; a < K; ++a) v -= ajt[r][a] * rzx[static_cast<size_t>(a * p + j)];
          vec_c[static_cast<size_t>(r + K * j)] = v;
        }
      }
      for (int v2 = 0; v2 < kp; ++v2) {
        const double c2 = vec_c[static_cast<size_t>(v2)];
        for (int r = 0; r < K; ++r) sec[r + v2 * K] += e[r] * c2;
        double* col = cc + static_cast<std::ptrdiff_t>(v2) * kp;
        for (int v1 = v2; v1 < kp; ++v1) col[v1] += vec_c[static_cast<size_t>(v1)] * c2;
      }
    }
    out.det_mantissa = det_mantissa;
    out.det_exponent = det_exponent;
    if constexpr (P > 0) {
      for (int j = 0; j < p; ++j) {
        out.cb(j) += cb_fixed[static_cast<size_t>(j)];
        for (int i = j; i < p; ++i) out.rzx_sum(i, j) += sum_fixed[static_cast<size_t>(i + j * p)];
      }
    }
    if (parts == nullptr) return;
    for (int c = 0; c < K; ++c) {
      for (int r = 0; r < K; ++r) {
        parts->sb(r, c) += sb_local[static_cast<size_t>(r + c * K)];
        parts->see(r, c) += see_local[static_cast<size_t>(r + c * K)];
      }
    }
    if constexpr (P > 0) {
      for (int v2 = 0; v2 < kp; ++v2) {
        for (int r = 0; r < K; ++r) parts->sec(r, v2) += sec_fixed[static_cast<size_t>(r + v2 * K)];
        for (int v1 = v2; v1 < kp; ++v1) parts->cc(v1, v2) += cc_fixed[static_cast<size_t>(v1 + v2 * kp)];
      }
    }
  }

  // The derivative of sum_g log|V_g| + weight * r2 (+ log|X'V^-1 X| when
  // `reml`) with respect to theta, from the parts at theta (parts.sb zero
  // drops the first term). Each term's differential is tr(G dD) with
  // D = L L', so d/dtheta for L(r, c) is 2 (G L)(r, c):
  // d log|V_g| = tr(B_g dD), d r2 = -sum_g u_g' dD u_g with u_g = e_g - C_g beta
  // (beta minimises r2), d log|X'V^-1 X| = -tr(sum_g C_g Q C_g' dD), Q = (X'V^-1 X)^-1.
  VectorXd ThetaGradient(const VectorXd& theta, const Solution& s, const GradientParts& parts, double weight,
                         bool reml) const {
    const MatrixXd uu = ResidualCross(s, parts);
    MatrixXd g = parts.sb - weight * uu;
    if (reml) g -= Contract(parts.cc, s.rx_cross.llt().solve(MatrixXd::Identity(p_, p_)));
    g = (g + g.transpose()) / 2.0;
    const SmallMatrix lambda = FactorFromTheta(theta, k_);
    const MatrixXd gl = g * lambda;
    VectorXd out(theta.size());
    Index t = 0;
    for (Index c = 0; c < k_; ++c) {
      for (Index r = c; r < k_; ++r) out(t++) = 2.0 * gl(r, c);
    }
    return out;
  }

  // sum_g u_g u_g' (k x k).
  MatrixXd ResidualCross(const Solution& s, const GradientParts& parts) const {
    MatrixXd e1(k_, k_);  // sum_g e_g (C_g beta)'
    for (Index a = 0; a < k_; ++a) {
      for (Index b = 0; b < k_; ++b) {
        double v = 0.0;
        for (Index j = 0; j < p_; ++j) v += parts.sec(a, b + k_ * j) * s.beta(j);
        e1(a, b) = v;
      }
    }
    return parts.see - e1 - e1.transpose() + Contract(parts.cc, s.beta * s.beta.transpose());
  }

  // sum_g C_g W C_g' (k x k) for a p x p matrix W.
  MatrixXd Contract(const MatrixXd& cc, const MatrixXd& w) const {
    MatrixXd out(k_, k_);
    for (Index a = 0; a < k_; ++a) {
      for (Index b = 0; b < k_; ++b) {
        double v = 0.0;
        for (Index i = 0; i < p_; ++i) {
          for (Index j = 0; j < p_; ++j) v += cc(a + k_ * i, b + k_ * j) * w(i, j);
        }
        out(a, b) = v;
      }
    }
    return out;
  }

  // sum_g C_g' W C_g (p x p) for a k x k matrix W.
  MatrixXd ContractFixed(const MatrixXd& cc, const MatrixXd& w) const {
    MatrixXd out(p_, p_);
    for (Index i = 0; i < p_; ++i) {
      for (Index j = 0; j < p_; ++j) {
        double v = 0.0;
        for (Index a = 0; a < k_; ++a) {
          for (Index b = 0; b < k_; ++b) v += w(a, b) * cc(a + k_ * i, b + k_ * j);
        }
        out(i, j) = v;
      }
    }
    return out;
  }

  // The criterion and its gradient in theta; +inf (gradient untouched) where
  // the factorisation fails.
  double CriterionAndGradient(const VectorXd& theta, bool reml, VectorXd& gradient) const {
    GradientParts parts;
    const Solution s = Solve(theta, &parts);
    const double value = Criterion(s, reml);
    if (!std::isfinite(value)) return value;
    const auto dof = static_cast<double>(reml ? n_ - p_ : n_);
    gradient = ThetaGradient(theta, s, parts, dof / s.r2, reml);
    return value;
  }

  // lmerTest's devfun_vp at (theta, sigma): its Hessian (theta block by
  // forward differences of the analytic gradient, the sigma row analytic),
  // and the Jacobian of vcov(beta) = sigma^2 (X'V^-1 X)^-1 (analytic): entry
  // i of `jacobian` is d vcov / d varpar_i.
  void SatterthwaiteParts(const VectorXd& varpar, bool reml, MatrixXd& hessian, std::vector<MatrixXd>& jacobian) const {
    const Index m = varpar.size() - 1;
    const VectorXd theta = varpar.head(m);
    const double sigma = varpar(m);
    const double sigma2 = sigma * sigma;
    const auto dof = static_cast<double>(reml ? n_ - p_ : n_);
    hessian.resize(m + 1, m + 1);
    const auto theta_gradient = [&](const VectorXd& t) -> std::optional<VectorXd> {
      GradientParts parts;
      const Solution s = Solve(t, &parts);
      if (!s.ok) return std::nullopt;
      VectorXd g = ThetaGradient(t, s, parts, 1.0 / sigma2, reml);
      if (!g.allFinite()) return std::nullopt;
      return g;
    };
    GradientParts parts;
    const Solution s = Solve(theta, &parts);
    if (!s.ok) {
      hessian.setConstant(std::numeric_limits<double>::quiet_NaN());
      jacobian.assign(static_cast<size_t>(m + 1), MatrixXd::Constant(p_, p_, std::numeric_limits<double>::quiet_NaN()));
      return;
    }
    // Forward differences of the analytic gradient: its rounding is about
    // 1e-10 of the Hessian's scale per unit step, so a step of 1e-6 leaves
    // an error near 1e-6 relative (the truncation), far inside lmerTest's
    // own (numDeriv at lmer's optimum); one pass per parameter. Backward
    // where the forward point cannot be evaluated.
    const VectorXd at_theta = ThetaGradient(theta, s, parts, 1.0 / sigma2, reml);
    for (Index i = 0; i < m; ++i) {
      const double h = kSatterthwaiteStep * std::max(std::abs(theta(i)), 0.1);
      const auto column = DifferenceColumn(theta_gradient, theta, at_theta, i, h);
      hessian.col(i).head(m) = column ? *column : VectorXd::Constant(m, std::numeric_limits<double>::quiet_NaN());
    }
    hessian.topLeftCorner(m, m) = (hessian.topLeftCorner(m, m) + hessian.topLeftCorner(m, m).transpose()) / 2.0;
    // d r2 / d theta: the gradient without the log-determinant terms, weight 1.
    const VectorXd dr2 = ThetaGradient(theta, s, GradientParts{MatrixXd::Zero(k_, k_), parts.see, parts.sec, parts.cc},
                                        1.0, false);
    for (Index i = 0; i < m; ++i) hessian(i, m) = hessian(m, i) = -2.0 * dr2(i) / (sigma2 * sigma);
    hessian(m, m) = 6.0 * s.r2 / (sigma2 * sigma2) - 2.0 * dof / sigma2;
    const MatrixXd q = s.rx_cross.llt().solve(MatrixXd::Identity(p_, p_));
    const SmallMatrix lambda = FactorFromTheta(theta, k_);
    jacobian.clear();
    Index t = 0;
    for (Index c = 0; c < k_; ++c) {
      for (Index r = c; r < k_; ++r, ++t) {
        MatrixXd unit = MatrixXd::Zero(k_, k_);
        unit(r, c) = 1.0;
        const MatrixXd dd = unit * lambda.transpose() + lambda * unit.transpose();
        jacobian.push_back(sigma2 * q * ContractFixed(parts.cc, dd) * q);
      }
    }
    jacobian.push_back(2.0 * sigma * q);
  }

  // lme4's profiled deviance (ML) or REML criterion at theta; +inf where the
  // factorisation fails.
  double Criterion(const VectorXd& theta, bool reml) const {
    const Solution s = Solve(theta);
    return Criterion(s, reml);
  }

  double Criterion(const Solution& s, bool reml) const {
    if (!s.ok) return std::numeric_limits<double>::infinity();
    const auto n = static_cast<double>(n_);
    const auto p = static_cast<double>(p_);
    if (!reml) return s.ld_l2 + n * (1.0 + kLog2Pi + std::log(s.r2 / n));
    return s.ld_l2 + s.ld_rx2 + (n - p) * (1.0 + kLog2Pi + std::log(s.r2 / (n - p)));
  }

 private:
  Index n_;
  Index p_;
  Index k_;
  Index groups_;
  struct GroupBlocks {
    std::vector<double> ztz;  // per group, k x k column-major
    std::vector<double> ztx;  // per group, k x p column-major
    std::vector<double> zty;  // per group, k
  };
  std::shared_ptr<GroupBlocks> blocks_;
  MatrixXd xtx_;
  VectorXd xty_;
  double yty_ = 0.0;
  struct SubsetSums {
    Index groups = 0;
    Index n = 0;
    MatrixXd xtx;
    VectorXd xty;
    double yty = 0.0;
  };
  SubsetSums subset_;
};

// Where a search over theta ended.
struct Search {
  VectorXd theta;
  double value = 0.0;
  VectorXd gradient;
  int iterations = 0;
  double change = 0.0;
  bool converged = false;
};

// Minimises the criterion over theta from `theta`: a quasi-Newton search
// with the analytic gradient. `start_hessian`, when given, stands for the
// first Hessian (else it is taken by differences). `small_step`: see
// kSmallStep. Throws NumericalError when the criterion cannot be evaluated
// at the start.
Search Minimise(const ProfiledDeviance& deviance, VectorXd theta, const MatrixXd* start_hessian,
                const LmmOptions& options, double small_step) {
  const Index m = theta.size();
  const Index k = deviance.terms();
  const auto f = [&](const VectorXd& t) { return deviance.Criterion(t, options.reml); };
  Search out;
  VectorXd gradient;
  double value = deviance.CriterionAndGradient(theta, options.reml, gradient);
  if (!std::isfinite(value)) throw NumericalError("FitLmm: the model cannot be evaluated at the starting values");
  // The Hessian by forward differences of the analytic gradient (m more
  // passes over the groups) where the search starts, after a step the line
  // search had to shorten (far from the optimum) and at the boundary; after
  // a full step, BFGS's update from the change of the gradient instead (no
  // pass). Converged after a full step below kSmallStep that was at most
  // kFastRatio of the one before (superlinear convergence: what is left is
  // far below it), after a step below the tolerance, or where no step along
  // the search direction lowers the criterion (the optimum to working
  // precision: the criterion's rounding is larger than what is left).
  MatrixXd hessian(m, m);
  bool fresh_hessian = start_hessian == nullptr;
  if (!fresh_hessian) hessian = *start_hessian;
  double previous_change = std::numeric_limits<double>::infinity();
  for (int iter = 1; iter <= options.max_iterations; ++iter) {
    // The boundary diag(L) = 0 (a singular fit): where the criterion is as
    // flat as a quartic there, Newton only creeps towards it; a column of L
    // near 0 is set to exactly 0 when that does not raise the criterion, as
    // lme4's bounded optimiser stops at the bound.
    bool moved = false;
    for (Index c = 0; c < k; ++c) {
      const Index diag = c * k - c * (c - 1) / 2;  // position of L(c, c) in theta
      if (std::abs(theta(diag)) >= kBoundaryCheck || theta(diag) == 0.0) continue;
      VectorXd bound = theta;
      for (Index r = c; r < k; ++r) bound(diag + r - c) = 0.0;
      const double at_bound = f(bound);
      if (at_bound <= value + kBoundaryTolerance * (1.0 + std::abs(value))) {
        theta = bound;
        value = std::min(value, at_bound);
        moved = true;
      }
    }
    if (moved) {
      value = deviance.CriterionAndGradient(theta, options.reml, gradient);
      fresh_hessian = true;
    }
    if (fresh_hessian) hessian = deviance.DifferenceHessian(theta, gradient, options.reml);
    const VectorXd step = detail::ModifiedNewtonStep(hessian, gradient);
    double scale = 1.0;
    VectorXd next_gradient;
    double next = deviance.CriterionAndGradient(theta + step, options.reml, next_gradient);
    for (int h = 0; h < kLineSearchHalvings && !(next <= value); ++h) {
      scale /= 2.0;
      next = f(theta + scale * step);
    }
    out.iterations = iter;
    if (!(next <= value)) {  // no descent along the step: at the optimum to working precision
      out.change = 0.0;
      out.converged = true;
      break;
    }
    const VectorXd taken = scale * step;
    theta += taken;
    if (scale != 1.0) deviance.CriterionAndGradient(theta, options.reml, next_gradient);
    const double change = taken.cwiseAbs().maxCoeff();
    out.change = change;
    value = next;
    const VectorXd gradient_change = next_gradient - gradient;
    gradient = next_gradient;
    if (change < options.tolerance ||
        (scale == 1.0 && change < small_step && change <= kFastRatio * previous_change)) {
      out.converged = true;
      break;
    }
    previous_change = change;
    fresh_hessian = scale != 1.0;
    if (!fresh_hessian) {
      // BFGS, skipped where the curvature along the step is not positive.
      const double sy = taken.dot(gradient_change);
      const VectorXd hs = hessian * taken;
      const double shs = taken.dot(hs);
      if (sy > 1e-12 * taken.norm() * gradient_change.norm() && shs > 0.0) {
        hessian += gradient_change * gradient_change.transpose() / sy - hs * hs.transpose() / shs;
      }
    }
  }
  out.theta = theta;
  out.value = value;
  out.gradient = gradient;
  return out;
}

// Groups of a fit from which the search starts on a subset (Subset()) of
// kSubsetShare of them, at least kSubsetGroups.
constexpr Index kSubsetFrom = 50000;
constexpr Index kSubsetGroups = 20000;
constexpr Index kSubsetShare = 16;
// The subset's optimum is a start only (it differs from that of all rows by
// its sampling error, about 1 / sqrt(groups)): its search may stop early.
constexpr double kSubsetSmallStep = 1e-3;

void CheckInputs(const MatrixXd& x, const std::vector<std::string>& names, const VectorXd& y, const MatrixXd& z,
                 const std::vector<std::string>& z_names, const std::vector<int>& group) {
  const std::string caller = "FitLmm";
  if (static_cast<Index>(names.size()) != x.cols()) {
    throw InputError(caller + ": " + std::to_string(names.size()) + " names for " + std::to_string(x.cols()) +
                     " fixed-effect columns; expected one name per column");
  }
  if (static_cast<Index>(z_names.size()) != z.cols()) {
    throw InputError(caller + ": " + std::to_string(z_names.size()) + " names for " + std::to_string(z.cols()) +
                     " random-effect columns; expected one name per column");
  }
  if (z.cols() < 1 || z.cols() > kMaxTerms) {
    throw InputError(caller + ": " + std::to_string(z.cols()) +
                     " random-effect terms for one grouping factor; expected 1 to " + std::to_string(kMaxTerms));
  }
  if (x.cols() == 0) throw InputError(caller + ": no fixed-effect columns; expected at least one term");
  if (y.size() != x.rows() || z.rows() != x.rows() || static_cast<Index>(group.size()) != x.rows()) {
    throw InputError(caller + ": y, x, z and group must have the same number of rows; found " +
                     std::to_string(y.size()) + ", " + std::to_string(x.rows()) + ", " + std::to_string(z.rows()) +
                     " and " + std::to_string(group.size()));
  }
  const auto finite = [&](const MatrixXd& m, const std::vector<std::string>& column_names) {
    for (Index j = 0; j < m.cols(); ++j) {
      for (Index i = 0; i < m.rows(); ++i) {
        if (!std::isfinite(m(i, j))) {
          throw NumericalError(caller + ": column '" + column_names[static_cast<size_t>(j)] + "' row " +
                               std::to_string(i + 1) + " is not finite; expected a number (drop missing rows first)");
        }
      }
    }
  };
  finite(x, names);
  finite(z, z_names);
  for (Index i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y(i))) {
      throw NumericalError(caller + ": outcome row " + std::to_string(i + 1) +
                           " is not finite; expected a number (drop missing rows first)");
    }
    if (group[static_cast<size_t>(i)] < 0) {
      throw InputError(caller + ": group code of row " + std::to_string(i + 1) + " is negative; expected >= 0");
    }
  }
}

std::string Quoted(std::string_view s) {
  std::string out(1, '\'');
  out.append(s);
  out += '\'';
  return out;
}

}  // namespace

const TermEstimate& LmmFit::Term(std::string_view term) const { return FindTerm(terms, term, "linear mixed model"); }

LmmFit FitLmm(const MatrixXd& x, const std::vector<std::string>& names, const VectorXd& y, const MatrixXd& z,
              const std::vector<std::string>& z_names, const std::vector<int>& group, std::string_view group_name,
              const LmmOptions& options) {
  CheckInputs(x, names, y, z, z_names, group);
  const Index n = x.rows();
  const Index p = x.cols();
  const Index k = z.cols();
  if (n < 2) throw NumericalError("FitLmm: need at least 2 rows, found " + std::to_string(n));
  {
    const detail::ScaledDesign design(x, names, "FitLmm");
    if (!design.aliased().empty()) {
      std::vector<std::string> aliased;
      for (Index j : design.aliased()) aliased.push_back(names[static_cast<size_t>(j)]);
      throw NumericalError("FitLmm: the fixed-effect design is rank deficient: " + detail::JoinNames(aliased) +
                           (aliased.size() > 1 ? " are linear combinations" : " is a linear combination") +
                           " of earlier terms (for example constant or duplicated); remove " +
                           (aliased.size() > 1 ? "them" : "it"));
    }
  }
  // Renumber the groups that occur, in order of first appearance.
  const int max_code = *std::max_element(group.begin(), group.end());
  std::vector<int> code(static_cast<size_t>(max_code) + 1, -1);
  std::vector<int> dense(group.size());
  int groups = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    int& c = code[static_cast<size_t>(group[i])];
    if (c < 0) c = groups++;
    dense[i] = c;
  }
  const std::string factor = Quoted(group_name);
  if (groups < 2) {
    throw NumericalError("FitLmm: the grouping factor " + factor + " has " + std::to_string(groups) +
                         " level; a random effect needs at least 2 groups (lme4: grouping factors must have > 1 "
                         "sampled level)");
  }
  if (static_cast<Index>(groups) * k >= n) {
    throw NumericalError("FitLmm: " + std::to_string(n) + " rows for " + std::to_string(groups) + " groups of " +
                         factor + " with " + std::to_string(k) +
                         " random effects each: the random effects are not identifiable from the residual "
                         "(lme4: number of observations <= number of random effects); use fewer random terms "
                         "or a grouping with repeated rows");
  }

  Index intercept = -1;
  for (Index j = 0; j < p && intercept < 0; ++j) {
    if ((x.col(j).array() == 1.0).all()) intercept = j;
  }
  const double y_shift = intercept >= 0 ? y.mean() : 0.0;
  const Index subset_groups =
      groups >= kSubsetFrom ? std::max<Index>(kSubsetGroups, static_cast<Index>(groups) / kSubsetShare) : 0;
  const ProfiledDeviance deviance(x, y, z, dense, groups, y_shift, subset_groups);

  LmmFit fit;
  fit.n = n;
  fit.groups = groups;
  fit.reml = options.reml;
  const Index m = k * (k + 1) / 2;
  fit.parameters = static_cast<int>(p + m + 1);

  // A quasi-Newton search over theta with the analytic gradient, started
  // where lme4 starts (identity factor). The criterion depends on theta only
  // through L L', so it is even in the sign of each column of L: the search
  // runs unconstrained and the signs are normalised at the end. No
  // evaluation touches the n rows. With many groups, the search first runs
  // on a subset of them (a sixteenth, each pass as cheap): its optimum, and
  // its Hessian scaled to all rows, start the search on all groups, which
  // then needs a few passes instead of a dozen. The subset only moves the
  // start: the optimum is that of all rows, under the same convergence
  // rules.
  VectorXd theta = VectorXd::Zero(m);
  {
    Index t = 0;
    for (Index c = 0; c < k; ++c) {
      for (Index r = c; r < k; ++r) theta(t++) = r == c ? 1.0 : 0.0;
    }
  }
  std::optional<MatrixXd> start_hessian;
  if (deviance.HasSubset()) {
    const ProfiledDeviance subset = deviance.Subset();
    try {
      const Search first = Minimise(subset, theta, nullptr, options, kSubsetSmallStep);
      if (first.converged) {
        theta = first.theta;
        start_hessian = subset.DifferenceHessian(theta, first.gradient, options.reml) *
                        (static_cast<double>(deviance.rows()) / static_cast<double>(subset.rows()));
      }
    } catch (const NumericalError&) {
      // The subset alone cannot be fitted (say, a predictor constant in it):
      // the search on all groups starts where lme4 starts.
    }
  }
  const Search search = Minimise(deviance, theta, start_hessian ? &*start_hessian : nullptr, options, kSmallStep);
  theta = search.theta;
  const VectorXd& gradient = search.gradient;
  fit.convergence.iterations = search.iterations;
  fit.convergence.relative_change = search.change;
  fit.convergence.converged = search.converged;
  fit.convergence.max_abs_score = gradient.cwiseAbs().maxCoeff();
  if (!fit.convergence.converged) {
    fit.convergence.message = "the optimisation over the random-effect parameters did not converge in " +
                              std::to_string(options.max_iterations) +
                              " iterations (lme4: Model failed to converge); the estimates are where it stopped";
    fit.messages.push_back(fit.convergence.message);
  }
  // Normalise: non-negative diagonal of L (flip each column with a negative one).
  {
    SmallMatrix lambda = FactorFromTheta(theta, k);
    for (Index c = 0; c < k; ++c) {
      if (lambda(c, c) < 0.0) lambda.col(c) *= -1.0;
    }
    Index t = 0;
    for (Index c = 0; c < k; ++c) {
      for (Index r = c; r < k; ++r) theta(t++) = lambda(r, c);
    }
  }
  const Solution s = deviance.Solve(theta);
  if (!s.ok) throw NumericalError("FitLmm: the model cannot be evaluated at the estimate");
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

  // Variance components, as.data.frame(VarCorr(fit)) order: SDs, then correlations, then the residual.
  const SmallMatrix lambda = FactorFromTheta(theta, k);
  const SmallMatrix cov = fit.sigma * fit.sigma * lambda * lambda.transpose();
  detail::AppendComponents(std::string(group_name), z_names, cov, fit.components);
  fit.components.push_back({"Residual", "", "", fit.sigma * fit.sigma, fit.sigma});

  for (Index c = 0; c < k; ++c) {
    if (lambda(c, c) < options.singular_tolerance) fit.singular = true;
  }
  if (fit.singular) {
    fit.messages.push_back(
        "singular fit: the estimated covariance of the random effects of " + factor +
        " is at the boundary (an SD of 0 or a correlation of +/-1); the data do not support this random-effect "
        "structure: simplify it (for example drop a random slope), or read the fixed effects as those of a model "
        "without the degenerate term (lme4: boundary (singular) fit)");
  }
  if (groups < kFewGroups) {
    fit.messages.push_back("only " + std::to_string(groups) + " groups of " + factor +
                           ": a variance estimated from fewer than " + std::to_string(kFewGroups) +
                           " groups is very imprecise; consider a fixed effect for " + factor + " instead");
  }

  // Satterthwaite df, as lmerTest: A = 2 H^+ with H the Hessian of the
  // deviance in (theta, sigma); df_j = 2 V_j^2 / (g' A g), g = dV_j/d(theta, sigma).
  fit.df.assign(static_cast<size_t>(p), kNaN);
  if (options.satterthwaite) {
    VectorXd varpar(m + 1);
    varpar.head(m) = theta;
    varpar(m) = fit.sigma;
    MatrixXd h;
    std::vector<MatrixXd> jac;
    deviance.SatterthwaiteParts(varpar, options.reml, h, jac);
    fit.df = detail::SatterthwaiteDf(h, jac, fit.covariance, fit.singular, fit.messages);
  }
  fit.terms = detail::FixedEffectRows(names, beta, fit.covariance, fit.df, options.confidence);
  return fit;
}

LikelihoodRatioTest CompareNestedLmm(const LmmFit& small, const LmmFit& large) {
  if (small.reml || large.reml) {
    throw NumericalError("CompareNestedLmm: REML criteria of models with different fixed effects are not "
                         "comparable; refit both models by maximum likelihood (as anova() does)");
  }
  if (small.n != large.n) {
    throw NumericalError("CompareNestedLmm: the models used " + std::to_string(small.n) + " and " +
                         std::to_string(large.n) + " rows; a likelihood-ratio test needs the same rows");
  }
  if (large.parameters <= small.parameters) {
    throw NumericalError("CompareNestedLmm: the larger model has " + std::to_string(large.parameters) +
                         " parameters, the smaller " + std::to_string(small.parameters) +
                         "; expected the larger model to have more");
  }
  LikelihoodRatioTest test;
  test.log_likelihood_small = small.log_likelihood;
  test.log_likelihood_large = large.log_likelihood;
  test.df = large.parameters - small.parameters;
  test.statistic = std::max(0.0, 2.0 * (large.log_likelihood - small.log_likelihood));
  const boost::math::chi_squared chi(test.df);
  test.p_value = boost::math::cdf(boost::math::complement(chi, test.statistic));
  return test;
}

}  // namespace cohortdb::stats
