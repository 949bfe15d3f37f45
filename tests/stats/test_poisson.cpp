// Poisson regression against R's glm(family = poisson) with model-based,
// sandwich::vcovHC(type = "HC0") and sandwich::vcovCL(cluster = ~g) standard
// errors. Expected values come from tests/reference/stats_poisson.R (which
// also writes the CSV files read here); rerun it and paste its output to
// refresh them. Tolerance 1e-8 relative (issue 14).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "common/error.h"
#include "model_csv.h"
#include "stats/poisson.h"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using cohortdb::stats::FitPoisson;
using cohortdb::stats::PoissonCovariance;
using cohortdb::stats::PoissonFit;
using cohortdb::stats::PoissonOptions;
using cohortdb::stats::testing::ModelCsv;
using cohortdb::stats::testing::ReadModelCsv;

namespace {

constexpr double kTolerance = 1e-8;

struct Expected {
  std::vector<double> coef, se, z, p, lo, hi;
};

void CheckWald(const PoissonFit& fit, const Expected& e) {
  REQUIRE(fit.terms.size() == e.coef.size());
  for (size_t j = 0; j < e.coef.size(); ++j) {
    INFO("term " << fit.terms[j].term);
    CHECK_THAT(fit.terms[j].estimate, WithinRel(e.coef[j], kTolerance));
    CHECK_THAT(fit.terms[j].std_error, WithinRel(e.se[j], kTolerance));
    CHECK_THAT(fit.terms[j].statistic, WithinRel(e.z[j], kTolerance));
    CHECK_THAT(fit.terms[j].p_value, WithinRel(e.p[j], 1e-7));
    CHECK_THAT(fit.terms[j].conf_low, WithinRel(e.lo[j], kTolerance));
    CHECK_THAT(fit.terms[j].conf_high, WithinRel(e.hi[j], kTolerance));
  }
}

std::vector<int> Codes(const Eigen::VectorXd& column) {
  std::vector<int> out;
  for (Eigen::Index i = 0; i < column.size(); ++i) out.push_back(static_cast<int>(column(i)));
  return out;
}

PoissonFit FitRates(PoissonCovariance covariance) {
  const ModelCsv csv = ReadModelCsv("poisson_rates.csv");
  PoissonOptions options;
  options.covariance = covariance;
  const Eigen::VectorXd offset = csv.Column("py").array().log();
  return FitPoisson(csv.Design({"age", "smoker"}), {"(Intercept)", "age", "smoker"}, csv.Column("events"), offset,
                    Codes(csv.Column("clinic")), options);
}

PoissonFit FitBinary(PoissonCovariance covariance) {
  const ModelCsv csv = ReadModelCsv("poisson_binary.csv");
  PoissonOptions options;
  options.covariance = covariance;
  return FitPoisson(csv.Design({"treated", "bmi"}), {"(Intercept)", "treated", "bmi"}, csv.Column("event"), {},
                    Codes(csv.Column("site")), options);
}

}  // namespace

TEST_CASE("Poisson rate model with an offset equals glm", "[poisson]") {
  const PoissonFit fit = FitRates(PoissonCovariance::kModel);
  // stats_poisson.R, "== rates model"
  CheckWald(fit, {{-2.7084200658604, 0.0248502819481692, 0.428553004483138},
                  {0.399748855529677, 0.0064693504375827, 0.107499620617494},
                  {-6.77530411505914, 3.84123293179565, 3.98655364569164},
                  {1.24144841260658e-11, 0.000122417878645375, 6.70399752629352e-05},
                  {-3.49191342555967, 0.0121705880871387, 0.217857619721131},
                  {-1.92492670616113, 0.0375299758091998, 0.639248389245145}});
  CHECK_THAT(fit.deviance, WithinRel(310.690482053461, kTolerance));
  CHECK_THAT(fit.null_deviance, WithinRel(345.272628093111, kTolerance));
  CHECK_THAT(fit.log_likelihood, WithinRel(-380.248261290956, kTolerance));
  CHECK_THAT(fit.aic, WithinRel(766.496522581911, kTolerance));
  CHECK(fit.convergence.iterations == 5);
  CHECK(fit.convergence.converged);
  CHECK(fit.df_residual == 297);
  CHECK(fit.df_null == 299);
  CHECK_FALSE(fit.binary_outcome);
  CHECK(fit.messages.empty());
  SECTION("rate ratios are exp of the rows") {
    const auto ratios = cohortdb::stats::RateRatios(fit);
    CHECK_THAT(ratios[2].odds_ratio, WithinRel(std::exp(0.428553004483138), kTolerance));
    CHECK_THAT(ratios[2].conf_low, WithinRel(std::exp(0.217857619721131), kTolerance));
  }
}

TEST_CASE("Poisson rate model with HC0 sandwich SEs equals vcovHC", "[poisson]") {
  const PoissonFit fit = FitRates(PoissonCovariance::kRobust);
  // stats_poisson.R, "== rates HC0"
  CheckWald(fit, {{-2.7084200658604, 0.0248502819481692, 0.428553004483138},
                  {0.423584713364528, 0.007080426211304, 0.108998181016431},
                  {-6.39404581989623, 3.50971554628949, 3.93174455286124},
                  {1.61552983123572e-10, 0.000448586308985804, 8.43316491177387e-05},
                  {-3.5386308484566, 0.01097290157882, 0.214920495310555},
                  {-1.87820928326421, 0.0387276623175185, 0.64218551365572}});
  // The model-based covariance is kept beside the robust one.
  CHECK_THAT(std::sqrt(fit.model_covariance(1, 1)), WithinRel(0.0064693504375827, kTolerance));
}

TEST_CASE("Poisson rate model with cluster-robust SEs equals vcovCL", "[poisson]") {
  const PoissonFit fit = FitRates(PoissonCovariance::kCluster);
  // stats_poisson.R, "== rates cluster"
  CheckWald(fit, {{-2.7084200658604, 0.0248502819481692, 0.428553004483138},
                  {0.398353399848276, 0.00674836235384648, 0.0961830756111619},
                  {-6.79903840883993, 3.68241665831784, 4.4555968059874},
                  {1.05319738884811e-11, 0.000231033408041387, 8.36601339347902e-06},
                  {-3.48917838268211, 0.0116237347800042, 0.240037640362967},
                  {-1.9276617490387, 0.0380768291163343, 0.617068368603308}});
  CHECK(fit.clusters == 12);
}

TEST_CASE("modified Poisson risk ratios for a binary outcome equal glm + sandwich", "[poisson]") {
  SECTION("model-based") {
    const PoissonFit fit = FitBinary(PoissonCovariance::kModel);
    // "== binary model"
    CheckWald(fit, {{-2.53327429836658, -0.206521476177313, 0.0399489574326055},
                    {0.625637182469708, 0.194142612164774, 0.0222065238910636},
                    {-4.04911084147278, -1.063761705246, 1.79897392444577},
                    {5.141259217057e-05, 0.287436663321799, 0.0720228055625265},
                    {-3.75950064339632, -0.587034003884799, -0.00357502961570745},
                    {-1.30704795333684, 0.173991051530172, 0.0834729444809184}});
    CHECK_THAT(fit.deviance, WithinRel(325.726150059529, kTolerance));
    CHECK_THAT(fit.null_deviance, WithinRel(329.940762487501, kTolerance));
    CHECK_THAT(fit.aic, WithinRel(545.726150059529, kTolerance));
    CHECK(fit.binary_outcome);
  }
  SECTION("HC0") {
    const PoissonFit fit = FitBinary(PoissonCovariance::kRobust);
    // "== binary HC0"
    CheckWald(fit, {{-2.53327429836658, -0.206521476177313, 0.0399489574326055},
                    {0.534551971755282, 0.171974419038088, 0.0189539383780801},
                    {-4.73906080646974, -1.20088486027433, 2.10768636236602},
                    {2.14711071535109e-06, 0.22979586782392, 0.0350581277188525},
                    {-3.5809769108718, -0.543585143754165, 0.00279992084637692},
                    {-1.48557168586135, 0.130542191399538, 0.077097994018834}});
  }
  SECTION("cluster") {
    const PoissonFit fit = FitBinary(PoissonCovariance::kCluster);
    // "== binary cluster"
    CheckWald(fit, {{-2.53327429836658, -0.206521476177313, 0.0399489574326055},
                    {0.604245157158789, 0.112165021122109, 0.0227036219675625},
                    {-4.19246107040103, -1.84122887965654, 1.75958521022249},
                    {2.75944446111111e-05, 0.065588024905845, 0.0784781609863296},
                    {-3.71757304423055, -0.426360877901822, -0.0045493239424295},
                    {-1.34897555250261, 0.0133179255471951, 0.0844472388076404}});
    CHECK(fit.clusters == 8);
  }
}

TEST_CASE("Poisson fit rejects bad input in words", "[poisson]") {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(3, 1);
  const std::vector<std::string> names{"(Intercept)"};
  REQUIRE_THROWS_WITH(FitPoisson(x, names, Eigen::Vector3d(1, -1, 2)),
                      Contains("y row 2") && Contains("expected a count >= 0"));
  REQUIRE_THROWS_WITH(FitPoisson(x, names, Eigen::Vector3d(1, 0, 2), Eigen::Vector2d(0, 0)),
                      Contains("offset has 2 rows"));
  Eigen::Vector3d offset(0, -INFINITY, 0);
  REQUIRE_THROWS_WITH(FitPoisson(x, names, Eigen::Vector3d(1, 0, 2), offset), Contains("offset row 2 is not finite"));
  PoissonOptions options;
  options.covariance = PoissonCovariance::kCluster;
  REQUIRE_THROWS_WITH(FitPoisson(x, names, Eigen::Vector3d(1, 0, 2), {}, {}, options),
                      Contains("one cluster code per row"));
  REQUIRE_THROWS_WITH(FitPoisson(x, names, Eigen::Vector3d(1, 0, 2), {}, {4, 4, 4}, options),
                      Contains("at least 2 clusters, found 1"));
}
