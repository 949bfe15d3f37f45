// Benchmark driver for tools/bench/lmm: generates repeated visits
// deterministically (participants x 3 visits, a random intercept and a random
// slope per participant) and either writes them as CSV (for R) or fits
// y ~ arm * day + (1 + day | participant) by REML with cohortdb's FitLmm
// (Satterthwaite df included) and prints the estimates and the wall time.
//
//   bench_lmm generate <participants> <out.csv>
//   bench_lmm fit <participants> <out.txt>
//
// Output of `fit`: "seconds <wall>", "cpu_seconds <cpu>", "converged",
// "iterations", "reml <criterion>", one line per fixed effect
// "<name> <estimate> <se>", then "theta <t1> <t2> <t3>".

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
#include "stats/lmm.h"

namespace {

constexpr int kVisits = 3;

using cohortdb::bench::Rng;

struct Visits {
  Eigen::MatrixXd x;  // (Intercept), arm, day, arm:day
  Eigen::MatrixXd z;  // (Intercept), day
  Eigen::VectorXd y;
  std::vector<int> participant;
};

Visits Generate(long participants) {
  Rng rng(20261204);
  const Eigen::Index n = participants * kVisits;
  Visits v;
  v.x.resize(n, 4);
  v.z.resize(n, 2);
  v.y.resize(n);
  v.participant.resize(static_cast<std::size_t>(n));
  Eigen::Index i = 0;
  for (long p = 0; p < participants; ++p) {
    const double arm = rng.Uniform() < 0.5 ? 1.0 : 0.0;
    const double b0 = 1.2 * rng.Normal();
    const double b1 = 0.3 * rng.Normal() + 0.1 * b0;
    for (int k = 0; k < kVisits; ++k, ++i) {
      const double day = static_cast<double>(k);
      v.x.row(i) << 1.0, arm, day, arm * day;
      v.z.row(i) << 1.0, day;
      v.y(i) = std::round(1000.0 * (6.0 + b0 - 0.3 * arm + (-0.2 - 0.15 * arm + b1) * day + 0.8 * rng.Normal())) /
               1000.0;
      v.participant[static_cast<std::size_t>(i)] = static_cast<int>(p);
    }
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::strcmp(argv[1], "generate") != 0 && std::strcmp(argv[1], "fit") != 0)) {
    std::fprintf(stderr, "usage: bench_lmm generate|fit <participants> <out>\n");
    return 2;
  }
  const long participants = std::atol(argv[2]);
  const Visits v = Generate(participants);
  std::FILE* out = std::fopen(argv[3], "w");
  if (out == nullptr) return 1;
  if (std::strcmp(argv[1], "generate") == 0) {
    std::fprintf(out, "participant,arm,day,y\n");
    for (Eigen::Index i = 0; i < v.y.size(); ++i) {
      std::fprintf(out, "%d,%g,%g,%.3f\n", v.participant[static_cast<std::size_t>(i)], v.x(i, 1), v.x(i, 2), v.y(i));
    }
    std::fclose(out);
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  const auto fit = cohortdb::stats::FitLmm(v.x, {"(Intercept)", "arm", "day", "arm:day"}, v.y, v.z,
                                           {"(Intercept)", "day"}, v.participant, "participant");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::fprintf(out, "seconds %.6f\ncpu_seconds %.6f\nconverged %d\niterations %d\nreml %.10f\n", seconds, cpu_seconds,
               fit.convergence.converged ? 1 : 0, fit.convergence.iterations, fit.criterion);
  for (const auto& t : fit.terms) std::fprintf(out, "%s %.12g %.12g\n", t.term.c_str(), t.estimate, t.std_error);
  std::fprintf(out, "theta");
  for (double t : fit.theta) std::fprintf(out, " %.10g", t);
  std::fprintf(out, "\n");
  std::fclose(out);
  return 0;
}
