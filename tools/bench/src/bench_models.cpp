// Benchmark driver for tools/bench/models: generates a NAKO-like cohort
// deterministically and either writes it as CSV (for R) or fits it with
// cohortdb's logistic IRLS or random-intercept Laplace fit and prints the
// estimates and the fit's wall time.
//
//   bench_models generate <n> <out.csv>
//   bench_models fit <n> glm|glmm <out.txt>
//
// Output of `fit`: "seconds <wall>", "cpu_seconds <cpu>", "converged", "iterations", then one line per term
// "<name> <estimate> <se>", and for glmm "site_sd <sd>".

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
#include "stats/logistic.h"
#include "stats/mixed_logistic.h"

namespace {

constexpr int kSites = 18;
const std::vector<std::string> kNames{
    "(Intercept)",    "age",     "sex",      "diabetes", "dyslipidemia", "osteoporosis",
    "osteoarthritis", "act_low", "act_high", "lmm_z",    "intermat_z",   "bmi"};

using cohortdb::bench::Rng;

struct Cohort {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  std::vector<int> site;
};

// 18 sites of unequal size, site effects with SD 0.3, about 22% with CBP.
Cohort Generate(Eigen::Index n) {
  Rng rng(20261122);
  std::vector<double> site_weight(kSites), site_effect(kSites);
  double total = 0.0;
  for (int s = 0; s < kSites; ++s) {
    site_weight[static_cast<size_t>(s)] = 0.5 + rng.Uniform();
    total += site_weight[static_cast<size_t>(s)];
    site_effect[static_cast<size_t>(s)] = 0.3 * rng.Normal();
  }
  Cohort c;
  c.x.resize(n, static_cast<Eigen::Index>(kNames.size()));
  c.y.resize(n);
  c.site.resize(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    double r = rng.Uniform() * total;
    int s = 0;
    while (s < kSites - 1 && r >= site_weight[static_cast<size_t>(s)])
      r -= site_weight[static_cast<size_t>(s++)];
    const double age = std::round(20.0 + 52.0 * rng.Uniform());
    const double sex = rng.Bernoulli(0.5);
    const double diabetes = rng.Bernoulli(0.02 + 0.002 * (age - 20.0));
    const double dyslipidemia = rng.Bernoulli(0.2);
    const double osteoporosis = rng.Bernoulli(sex > 0 ? 0.06 : 0.02);
    const double osteoarthritis = rng.Bernoulli(0.05 + 0.004 * (age - 20.0));
    const double activity = rng.Uniform();
    const double act_low = activity<0.2, act_high = activity> 0.8;
    const double lmm_z = rng.Normal();
    const double intermat_z = -0.4 * lmm_z + std::sqrt(1.0 - 0.16) * rng.Normal();
    const double bmi = 27.0 + 4.0 * rng.Normal();
    const double eta = -2.6 + 0.008 * age + 0.25 * sex + 0.2 * diabetes + 0.15 * dyslipidemia +
                       0.3 * osteoporosis + 0.45 * osteoarthritis + 0.2 * act_low + 0.1 * act_high -
                       0.07 * lmm_z + 0.1 * intermat_z + 0.015 * (bmi - 27.0) +
                       site_effect[static_cast<size_t>(s)];
    c.x.row(i) << 1.0, age, sex, diabetes, dyslipidemia, osteoporosis, osteoarthritis, act_low, act_high,
        lmm_z, intermat_z, bmi;
    c.y(i) = rng.Bernoulli(1.0 / (1.0 + std::exp(-eta)));
    c.site[static_cast<size_t>(i)] = s;
  }
  return c;
}

int WriteCsv(const Cohort& c, const char* path) {
  std::FILE* out = std::fopen(path, "w");
  if (out == nullptr) {
    std::fprintf(stderr, "bench_models: cannot write %s\n", path);
    return 1;
  }
  std::fprintf(out, "y,site");
  for (size_t j = 1; j < kNames.size(); ++j) std::fprintf(out, ",%s", kNames[j].c_str());
  std::fprintf(out, "\n");
  for (Eigen::Index i = 0; i < c.x.rows(); ++i) {
    std::fprintf(out, "%d,%d", static_cast<int>(c.y(i)), c.site[static_cast<size_t>(i)]);
    for (Eigen::Index j = 1; j < c.x.cols(); ++j) std::fprintf(out, ",%.17g", c.x(i, j));
    std::fprintf(out, "\n");
  }
  return std::fclose(out) == 0 ? 0 : 1;
}

int Fit(const Cohort& c, const std::string& model, const char* path) {
  std::FILE* out = std::fopen(path, "w");
  if (out == nullptr) {
    std::fprintf(stderr, "bench_models: cannot write %s\n", path);
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  std::vector<cohortdb::stats::TermEstimate> terms;
  double sd = -1.0;
  bool converged = false;
  int iterations = 0;
  if (model == "glm") {
    const auto fit = cohortdb::stats::FitLogistic(c.x, kNames, c.y);
    terms = fit.terms;
    converged = fit.convergence.converged;
    iterations = fit.convergence.iterations;
  } else {
    const auto fit = cohortdb::stats::FitMixedLogistic(c.x, kNames, c.y, c.site);
    terms = fit.terms;
    sd = fit.site_sd;
    converged = fit.convergence.converged;
    iterations = fit.convergence.iterations;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::fprintf(out, "seconds %.6f\ncpu_seconds %.6f\nconverged %d\niterations %d\n", seconds, cpu_seconds,
               converged ? 1 : 0, iterations);
  for (const auto& t : terms) std::fprintf(out, "%s %.15g %.15g\n", t.term.c_str(), t.estimate, t.std_error);
  if (sd >= 0.0) std::fprintf(out, "site_sd %.15g\n", sd);
  return std::fclose(out) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "generate") == 0) {
    return WriteCsv(Generate(std::atol(argv[2])), argv[3]);
  }
  if (argc == 5 && std::strcmp(argv[1], "fit") == 0 &&
      (std::strcmp(argv[3], "glm") == 0 || std::strcmp(argv[3], "glmm") == 0)) {
    return Fit(Generate(std::atol(argv[2])), argv[3], argv[4]);
  }
  std::fprintf(stderr, "usage: bench_models generate <n> <out.csv> | fit <n> glm|glmm <out.txt>\n");
  return 2;
}
