#include "stats/mediation.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "stats/descriptives.h"
#include "stats/ols.h"
#include "stats/probability.h"

namespace cohortdb::stats {

namespace {

constexpr Eigen::Index kTreatment = 1;  // column of treatment in every design
constexpr Eigen::Index kMediator = 2;   // column of mediator in the outcome design

struct Designs {
  Eigen::MatrixXd mediator_x;  // 1, treatment, covariates
  Eigen::MatrixXd outcome_x;   // 1, treatment, mediator, covariates
  Eigen::VectorXd mediator;
  Eigen::VectorXd outcome;
};

struct Paths {
  OlsFit mediator_fit;
  OlsFit outcome_fit;
  OlsFit total_fit;
};

Paths FitPaths(const Designs& d, const std::vector<std::string>& mediator_names,
               const std::vector<std::string>& outcome_names, double conf_level) {
  Paths p{FitOls(d.mediator_x, d.mediator, mediator_names, conf_level),
          FitOls(d.outcome_x, d.outcome, outcome_names, conf_level),
          FitOls(d.mediator_x, d.outcome, mediator_names, conf_level)};
  return p;
}

bool PathsEstimable(const Paths& p) {
  return !p.mediator_fit.aliased[kTreatment] && !p.outcome_fit.aliased[kTreatment] &&
         !p.outcome_fit.aliased[kMediator] && !p.total_fit.aliased[kTreatment];
}

// Coefficient j of the least-squares fit of y on x, or NaN when x is rank
// deficient (the bootstrap needs only a and b, not the inference of FitOls).
double LeastSquaresCoefficient(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, Eigen::Index j) {
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
  if (qr.rank() < x.cols()) return kNaN;
  return qr.solve(y)(j);
}

Designs Resample(const Designs& d, const std::vector<Eigen::Index>& rows) {
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size());
  Designs r{Eigen::MatrixXd(n, d.mediator_x.cols()), Eigen::MatrixXd(n, d.outcome_x.cols()), Eigen::VectorXd(n),
            Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index src = rows[static_cast<std::size_t>(i)];
    r.mediator_x.row(i) = d.mediator_x.row(src);
    r.outcome_x.row(i) = d.outcome_x.row(src);
    r.mediator(i) = d.mediator(src);
    r.outcome(i) = d.outcome(src);
  }
  return r;
}

}  // namespace

std::uint64_t UniformIndex(std::mt19937_64& engine, std::uint64_t n) {
  // Accept words below the largest multiple of n representable in 64 bits;
  // (2^64 - n) % n == 2^64 % n in unsigned arithmetic.
  const std::uint64_t remainder = (0 - n) % n;
  const std::uint64_t limit = 0 - remainder;  // 2^64 - (2^64 % n), 0 meaning 2^64
  while (true) {
    const std::uint64_t word = engine();
    if (remainder == 0 || word < limit) return word % n;
  }
}

MediationResult FitMediation(const MediationInput& input, const MediationOptions& options) {
  const std::size_t n_all = input.treatment.size();
  const Eigen::Index q = input.covariates.cols();
  if (input.mediator.size() != n_all || input.outcome.size() != n_all ||
      (q > 0 && static_cast<std::size_t>(input.covariates.rows()) != n_all)) {
    throw NumericalError("FitMediation: treatment, mediator, outcome and covariates differ in length (" +
                         std::to_string(n_all) + ", " + std::to_string(input.mediator.size()) + ", " +
                         std::to_string(input.outcome.size()) + ", " + std::to_string(input.covariates.rows()) + ")");
  }
  if (static_cast<std::size_t>(q) != input.covariate_names.size()) {
    throw NumericalError("FitMediation: argument covariate_names has " +
                         std::to_string(input.covariate_names.size()) + " names for " + std::to_string(q) +
                         " covariate columns");
  }
  if (!(options.conf_level > 0 && options.conf_level < 1)) {
    throw NumericalError("FitMediation: option conf_level must be in (0, 1), found " +
                         std::to_string(options.conf_level));
  }

  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < n_all; ++i) {
    const Eigen::Index r = static_cast<Eigen::Index>(i);
    if (std::isnan(input.treatment[i]) || std::isnan(input.mediator[i]) || std::isnan(input.outcome[i]) ||
        (q > 0 && input.covariates.row(r).hasNaN())) {
      continue;
    }
    rows.push_back(i);
  }
  if (rows.size() < 2) {
    throw NumericalError("FitMediation: " + std::to_string(rows.size()) +
                         " complete rows (treatment, mediator, outcome and covariates), at least 2 needed");
  }
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size());
  Designs d{Eigen::MatrixXd(n, 2 + q), Eigen::MatrixXd(n, 3 + q), Eigen::VectorXd(n), Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::size_t src = rows[static_cast<std::size_t>(i)];
    d.mediator_x(i, 0) = 1;
    d.mediator_x(i, 1) = input.treatment[src];
    d.outcome_x(i, 0) = 1;
    d.outcome_x(i, 1) = input.treatment[src];
    d.outcome_x(i, 2) = input.mediator[src];
    if (q > 0) {
      d.mediator_x.row(i).tail(q) = input.covariates.row(static_cast<Eigen::Index>(src));
      d.outcome_x.row(i).tail(q) = input.covariates.row(static_cast<Eigen::Index>(src));
    }
    d.mediator(i) = input.mediator[src];
    d.outcome(i) = input.outcome[src];
  }
  std::vector<std::string> mediator_names{"intercept", "treatment"};
  std::vector<std::string> outcome_names{"intercept", "treatment", "mediator"};
  mediator_names.insert(mediator_names.end(), input.covariate_names.begin(), input.covariate_names.end());
  outcome_names.insert(outcome_names.end(), input.covariate_names.begin(), input.covariate_names.end());

  const Paths paths = FitPaths(d, mediator_names, outcome_names, options.conf_level);
  if (!PathsEstimable(paths)) {
    const std::string which = paths.mediator_fit.aliased[kTreatment] ? "treatment" : "mediator";
    throw NumericalError("FitMediation: '" + which +
                         "' is constant or collinear with the covariates; the paths cannot be estimated");
  }

  MediationResult out;
  out.n = rows.size();
  out.a = paths.mediator_fit.terms[kTreatment];
  out.b = paths.outcome_fit.terms[kMediator];
  out.direct = paths.outcome_fit.terms[kTreatment];
  out.total = paths.total_fit.terms[kTreatment];
  out.a.term = "a";
  out.b.term = "b";
  out.direct.term = "direct";
  out.total.term = "total";

  const double a = out.a.estimate;
  const double b = out.b.estimate;
  const double z_crit = prob::NormalQuantile(1 - (1 - options.conf_level) / 2);
  out.indirect.term = "indirect";
  out.indirect.estimate = a * b;
  out.indirect.std_error = std::sqrt(b * b * out.a.std_error * out.a.std_error +
                                     a * a * out.b.std_error * out.b.std_error);
  out.indirect.statistic = out.indirect.estimate / out.indirect.std_error;
  out.indirect.p_value = prob::NormalTwoSided(out.indirect.statistic);
  out.indirect.conf_low = out.indirect.estimate - z_crit * out.indirect.std_error;
  out.indirect.conf_high = out.indirect.estimate + z_crit * out.indirect.std_error;
  out.proportion_mediated = out.indirect.estimate / out.total.estimate;

  if (options.bootstrap_draws > 0) {
    std::mt19937_64 engine(options.seed);
    std::vector<double> draws;
    draws.reserve(options.bootstrap_draws);
    std::vector<Eigen::Index> sample(rows.size());
    for (std::size_t draw = 0; draw < options.bootstrap_draws; ++draw) {
      for (auto& row : sample) row = static_cast<Eigen::Index>(UniformIndex(engine, rows.size()));
      const Designs resampled = Resample(d, sample);
      const double boot_a = LeastSquaresCoefficient(resampled.mediator_x, resampled.mediator, kTreatment);
      const double boot_b = LeastSquaresCoefficient(resampled.outcome_x, resampled.outcome, kMediator);
      if (std::isnan(boot_a) || std::isnan(boot_b)) continue;  // a degenerate resample: skipped
      draws.push_back(boot_a * boot_b);
    }
    out.boot_draws_used = draws.size();
    if (!draws.empty()) {
      std::sort(draws.begin(), draws.end());
      const double alpha = (1 - options.conf_level) / 2;
      out.boot_conf_low = QuantileSorted(draws, alpha);
      out.boot_conf_high = QuantileSorted(draws, 1 - alpha);
    }
  }
  return out;
}

}  // namespace cohortdb::stats
