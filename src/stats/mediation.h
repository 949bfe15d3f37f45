#pragma once
// Mediation analysis with linear paths (product-of-coefficients method):
//   mediator ~ treatment + covariates            -> a
//   outcome  ~ treatment + mediator + covariates -> b (mediator), c' (direct)
//   outcome  ~ treatment + covariates            -> c (total)
// indirect = a b, Sobel SE sqrt(b^2 SE(a)^2 + a^2 SE(b)^2) with a z test,
// proportion mediated a b / c, and a percentile bootstrap CI of a b from
// resampled rows. Each fit is FitOls (ols.h) with an intercept; rows with a
// NaN anywhere are dropped first. The bootstrap is reproducible: the same
// data, seed and draw count give the same CI on every platform (mt19937_64
// with our own unbiased integer mapping). Pure function, thread-safe.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "stats/tidy.h"

namespace cohortdb::stats {

struct MediationInput {
  std::vector<double> treatment;
  std::vector<double> mediator;
  std::vector<double> outcome;
  Eigen::MatrixXd covariates;               // n x q, q may be 0 (default: none)
  std::vector<std::string> covariate_names;  // q names
};

struct MediationOptions {
  std::size_t bootstrap_draws = 1000;  // 0: no bootstrap
  std::uint64_t seed = 1;
  double conf_level = 0.95;
};

struct MediationResult {
  std::size_t n = 0;           // complete rows used
  TermEstimate a;              // treatment -> mediator (t test)
  TermEstimate b;              // mediator -> outcome given treatment (t test)
  TermEstimate direct;         // c': treatment -> outcome given mediator
  TermEstimate total;          // c: treatment -> outcome
  TermEstimate indirect;       // a b; Sobel SE, z, normal p and CI;
                               // conf_low/high here are the Sobel (normal) CI
  double proportion_mediated = kNaN;  // a b / c
  double boot_conf_low = kNaN;        // percentile bootstrap CI of a b
  double boot_conf_high = kNaN;       // (quantile type 7 of the draws)
  std::size_t boot_draws_used = 0;    // draws where all three fits succeeded
};

// Throws NumericalError when the vectors or covariate rows differ in length,
// fewer than 2 complete rows remain (message names the count), the treatment
// or mediator is constant (aliased, named), or conf_level is not in (0, 1).
// Each bootstrap draw refits only the a and b paths (least squares by
// column-pivoting QR); a draw whose resampled design is rank deficient (e.g.
// constant treatment) is skipped and not counted in boot_draws_used.
MediationResult FitMediation(const MediationInput& input, const MediationOptions& options = {});

// Uniform integer in [0, n) from the engine by rejection sampling (no modulo
// bias). Unlike std::uniform_int_distribution its output is fixed by the
// engine's (standardised) output, so identical on every standard library.
// n must be > 0.
std::uint64_t UniformIndex(std::mt19937_64& engine, std::uint64_t n);

}  // namespace cohortdb::stats
