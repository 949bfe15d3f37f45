// Benchmark driver for tools/bench/lmm_nested: generates a nested design
// deterministically (sites x participants per site x 5 visits; participants
// numbered within their site, a random intercept per site SD 0.6 and per
// participant SD 1.0, residual SD 0.8) and either writes it as CSV (for R)
// or fits y ~ arm + visit + (1 | site/participant) by REML with cohortdb's
// FitLmmTerms (Satterthwaite df included) and prints the estimates and times.
//
//   bench_lmm_nested generate <sites> <participants per site> <out.csv>
//   bench_lmm_nested fit <sites> <participants per site> <out.txt>
//
// Output of `fit`: "seconds <wall>", "cpu_seconds <cpu>", "converged",
// "iterations", "reml <criterion>", one line per fixed effect
// "<name> <estimate> <se> <df>", then "theta <t1> <t2>".

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <numbers>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "bench_rng.h"
#include "stats/lmm_sparse.h"

namespace {

constexpr int kVisits = 5;

using cohortdb::bench::Rng;

struct Nested {
  Eigen::MatrixXd x;  // (Intercept), arm, visit
  Eigen::VectorXd y;
  std::vector<int> site;
  std::vector<int> participant;  // within site
  std::vector<int> site_participant;
};

Nested Generate(long sites, long per_site) {
  Rng rng(20261214);
  const Eigen::Index n = sites * per_site * kVisits;
  Nested d;
  d.x.resize(n, 3);
  d.y.resize(n);
  Eigen::Index i = 0;
  for (long s = 0; s < sites; ++s) {
    const double bs = 0.6 * rng.Normal();
    for (long p = 0; p < per_site; ++p) {
      const double arm = rng.Uniform() < 0.5 ? 1.0 : 0.0;
      const double bp = rng.Normal();
      for (int k = 0; k < kVisits; ++k, ++i) {
        const double visit = static_cast<double>(k);
        d.x.row(i) << 1.0, arm, visit;
        d.y(i) = std::round(1000.0 * (5.0 + bs + bp - 0.4 * arm - 0.3 * visit + 0.8 * rng.Normal())) / 1000.0;
        d.site.push_back(static_cast<int>(s));
        d.participant.push_back(static_cast<int>(p));
        d.site_participant.push_back(static_cast<int>(s * per_site + p));
      }
    }
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 || (std::strcmp(argv[1], "generate") != 0 && std::strcmp(argv[1], "fit") != 0)) {
    std::fprintf(stderr, "usage: bench_lmm_nested generate|fit <sites> <participants per site> <out>\n");
    return 2;
  }
  const Nested d = Generate(std::atol(argv[2]), std::atol(argv[3]));
  std::FILE* out = std::fopen(argv[4], "w");
  if (out == nullptr) return 1;
  if (std::strcmp(argv[1], "generate") == 0) {
    std::fprintf(out, "site,participant,arm,visit,y\n");
    for (Eigen::Index i = 0; i < d.y.size(); ++i) {
      const auto r = static_cast<std::size_t>(i);
      std::fprintf(out, "%d,%d,%g,%g,%.3f\n", d.site[r], d.participant[r], d.x(i, 1), d.x(i, 2), d.y(i));
    }
    std::fclose(out);
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  const Eigen::Index n = d.y.size();
  const Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(n, 1);
  const auto fit = cohortdb::stats::FitLmmTerms(d.x, {"(Intercept)", "arm", "visit"}, d.y,
                                                {{ones, {"(Intercept)"}, d.site, "site"},
                                                 {ones, {"(Intercept)"}, d.site_participant, "participant:site"}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::fprintf(out, "seconds %.6f\ncpu_seconds %.6f\nconverged %d\niterations %d\nreml %.10f\n", seconds, cpu_seconds,
               fit.convergence.converged ? 1 : 0, fit.convergence.iterations, fit.criterion);
  for (std::size_t j = 0; j < fit.terms.size(); ++j) {
    const auto& t = fit.terms[j];
    std::fprintf(out, "%s %.12g %.12g %.10g\n", t.term.c_str(), t.estimate, t.std_error, fit.df[j]);
  }
  std::fprintf(out, "theta");
  for (double t : fit.theta) std::fprintf(out, " %.10g", t);
  std::fprintf(out, "\n");
  std::fclose(out);
  return 0;
}
