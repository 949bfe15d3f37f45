// Linear mixed models against lme4::lmer + lmerTest (Satterthwaite) and
// anova()'s likelihood-ratio test. Expected values come from
// tests/reference/stats_lmm.R (which also writes the CSV files read here);
// rerun it and paste its output to refresh them. Tolerances (issue 14): fixed
// effects and SEs 1e-6, REML criterion 1e-8 relative, variance components
// 1e-5, Satterthwaite df and p-values 1e-4.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <vector>

#include "common/error.h"
#include "lmm_expected.h"
#include "model_csv.h"
#include "stats/lmm.h"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::stats::FitLmm;
using cohortdb::stats::LmmFit;
using cohortdb::stats::LmmOptions;
using cohortdb::stats::testing::CheckLmmFit;
using cohortdb::stats::testing::CheckSameBits;
using cohortdb::stats::testing::ThreadsSetting;
using cohortdb::stats::testing::Expected;
using cohortdb::stats::testing::ModelCsv;
using cohortdb::stats::testing::ReadModelCsv;

namespace {

struct Visits {
  Eigen::MatrixXd x;
  Eigen::MatrixXd z;
  Eigen::VectorXd y;
  std::vector<int> group;
};

// pain ~ arm * visit_day + age + (1 + visit_day | participant), columns in R's order.
Visits ReadVisits(bool slope, bool interaction = true) {
  const ModelCsv csv = ReadModelCsv("lmm_visits.csv");
  Visits v;
  const Eigen::Index n = csv.values.rows();
  v.x.resize(n, interaction ? 5 : 4);
  v.x.col(0).setOnes();
  v.x.col(1) = csv.Column("arm");
  v.x.col(2) = csv.Column("visit_day");
  v.x.col(3) = csv.Column("age");
  if (interaction) v.x.col(4) = csv.Column("arm").cwiseProduct(csv.Column("visit_day"));
  v.z.resize(n, slope ? 2 : 1);
  v.z.col(0).setOnes();
  if (slope) v.z.col(1) = csv.Column("visit_day");
  v.y = csv.Column("pain");
  const Eigen::VectorXd id = csv.Column("participant");
  for (Eigen::Index i = 0; i < n; ++i) v.group.push_back(static_cast<int>(id(i)));
  return v;
}

// y ~ arm * day + (1 + day | participant) over `participants` x 3 visits,
// the rows tests/reference/stats_lmm_large.R builds from a formula.
Visits ManyGroups(int participants) {
  const auto u = [](double i, double s) {
    const double v = std::abs(std::sin(i * 12.9898 + s * 78.233)) * 43758.5453;
    return v - std::floor(v);
  };
  const auto z = [&](double i, double s) { return u(i, s) + u(i, s + 1) + u(i, s + 2) - 1.5; };
  Visits v;
  const Eigen::Index n = 3 * static_cast<Eigen::Index>(participants);
  v.x.resize(n, 4);
  v.z.resize(n, 2);
  v.y.resize(n);
  Eigen::Index row = 0;
  for (int p = 1; p <= participants; ++p) {
    const double arm = u(p, 1) < 0.5 ? 1.0 : 0.0;
    const double b0 = 2.4 * z(p, 2);
    const double b1 = 0.6 * z(p, 5) + 0.1 * b0;
    for (int visit = 0; visit < 3; ++visit, ++row) {
      const double r = p * 3.0 + visit;
      const double day = visit == 0 ? 0.0 : visit + 0.2 * (u(r, 11) - 0.5);
      v.x.row(row) << 1.0, arm, day, arm * day;
      v.z.row(row) << 1.0, day;
      v.y(row) = 6 + b0 - 0.3 * arm + (-0.2 - 0.15 * arm + b1) * day + 1.6 * z(r, 13);
      v.group.push_back(p);
    }
  }
  return v;
}

// The rows of "v" with its groups in the order "groups" gives (group codes
// kept), each group's rows in their order.
Visits ReorderGroups(const Visits& v, const std::vector<int>& groups) {
  std::map<int, std::vector<Eigen::Index>> rows_of;
  for (Eigen::Index i = 0; i < v.y.size(); ++i) rows_of[v.group[static_cast<std::size_t>(i)]].push_back(i);
  std::vector<Eigen::Index> rows;
  for (int g : groups) rows.insert(rows.end(), rows_of[g].begin(), rows_of[g].end());
  Visits out;
  out.x.resize(static_cast<Eigen::Index>(rows.size()), v.x.cols());
  out.z.resize(static_cast<Eigen::Index>(rows.size()), v.z.cols());
  out.y.resize(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto row = static_cast<Eigen::Index>(r);
    out.x.row(row) = v.x.row(rows[r]);
    out.z.row(row) = v.z.row(rows[r]);
    out.y(row) = v.y(rows[r]);
    out.group.push_back(v.group[static_cast<std::size_t>(rows[r])]);
  }
  return out;
}

const std::vector<std::string> kNames{"(Intercept)", "arm", "visit_day", "age", "arm:visit_day"};
const std::vector<std::string> kSlope{"(Intercept)", "visit_day"};

}  // namespace

TEST_CASE("random intercept and slope / REML / equals lmer + lmerTest", "[lmm]") {
  const Visits v = ReadVisits(true);
  const LmmFit fit = FitLmm(v.x, kNames, v.y, v.z, kSlope, v.group, "participant");
  // stats_lmm.R, "== slope REML"
  CheckLmmFit(fit, {{5.64284504744149, -0.112764743131391, -0.112836091498621, 0.023022308664173, -0.158843620155078},
              {0.814782048625739, 0.283426829738332, 0.0564830265904973, 0.0146396204243398, 0.0861974252507473},
              {76.2162844394623, 76.4676557853275, 81.282069828174, 76.1014140779298, 76.1926809998755},
              {6.9255883299823, -0.397861921665986, -1.9976991020096, 1.57260284056929, -1.84278845560646},
              {1.19826867094672e-09, 0.691840535692962, 0.0490942165145591, 0.119959403120639, 0.0692496083409575},
              {1.44230568704613, 0.134878698160248, 0.350465435815256},
              0.760650039311937,
              {1.09708987755147, 0.285642355837384, 0.359174628556637, 0.760650039311937},
              893.4347214777,
              -446.71736073885,
              911.4347214777,
              944.018329269154});
  CHECK(fit.groups == 80);
  CHECK(fit.parameters == 9);
  CHECK(fit.convergence.converged);
  CHECK_FALSE(fit.singular);
  CHECK(fit.messages.empty());
  CHECK(fit.components[2].var1 == "(Intercept)");
  CHECK(fit.components[2].var2 == "visit_day");
  CHECK(fit.components[3].group == "Residual");
}

TEST_CASE("random intercept and slope / ML / equals lmer(REML = FALSE)", "[lmm]") {
  const Visits v = ReadVisits(true);
  LmmOptions options;
  options.reml = false;
  const LmmFit fit = FitLmm(v.x, kNames, v.y, v.z, kSlope, v.group, "participant", options);
  // stats_lmm.R, "== slope ML"
  CheckLmmFit(fit, {{5.64231822506661, -0.112205045118134, -0.111651577495555, 0.0230101817490933, -0.159395131913924},
              {0.799033812656064, 0.277963094785856, 0.0557629428268665, 0.0143564557162052, 0.0850628528836089},
              {79.1441257541363, 79.4244082009645, 83.2858653858324, 79.0191821396321, 78.0128108749794},
              {7.06142610700167, -0.403668858287024, -2.00225403889124, 1.60277593606338, -1.87385123482778},
              {5.65662589561587e-10, 0.687541010328929, 0.0485114732630884, 0.112974247645943, 0.064695345186699},
              {1.40732085838236, 0.138295387954863, 0.340952667416281},
              0.760310593411369,
              {1.07000095695689, 0.279742988973729, 0.375871612967901, 0.760310593411369},
              876.416811280939,
              -438.20840564047,
              894.416811280939,
              927.000419072394});
}

TEST_CASE("random intercept only equals lmer", "[lmm]") {
  const Visits v = ReadVisits(false);
  const LmmFit fit = FitLmm(v.x, kNames, v.y, v.z, {"(Intercept)"}, v.group, "participant");
  // stats_lmm.R, "== intercept REML"
  CheckLmmFit(fit, {{5.29513944377961, -0.111502440972463, -0.0907499088626793, 0.0290262760192989, -0.164158890605875},
              {0.96318069423617, 0.355255100288618, 0.043064518249465, 0.017255996062697, 0.0642926253632587},
              {78.2468018408377, 98.4071129541096, 199.768297029635, 77.2440376243242, 199.440284637431},
              {5.49755562530123, -0.313865841424588, -2.1073011507288, 1.68209797416715, -2.55330824769347},
              {4.66533480255545e-07, 0.754287302432741, 0.0363390802611385, 0.0965885258088949, 0.0114179770369574},
              {1.36924856885477},
              0.997757424080851,
              {1.36617792498693, 0.997757424080851},
              954.3597644802,
              -477.1798822401,
              968.3597644802,
              993.70257054022});
}

TEST_CASE("likelihood-ratio test of the interaction equals anova()", "[lmm]") {
  LmmOptions ml;
  ml.reml = false;
  ml.satterthwaite = false;
  const Visits small = ReadVisits(true, false);
  const Visits large = ReadVisits(true, true);
  const LmmFit m0 = FitLmm(small.x, {"(Intercept)", "arm", "visit_day", "age"}, small.y, small.z, kSlope,
                           small.group, "participant", ml);
  const LmmFit m1 = FitLmm(large.x, kNames, large.y, large.z, kSlope, large.group, "participant", ml);
  const auto test = cohortdb::stats::CompareNestedLmm(m0, m1);
  // stats_lmm.R, "== lrt"
  CHECK_THAT(test.statistic, WithinRel(3.40923332901957, 1e-6));
  CHECK(test.df == 1);
  CHECK_THAT(test.p_value, WithinRel(0.0648325611318839, 1e-6));
  CHECK_THAT(test.log_likelihood_small, WithinRel(-439.91302230498, 1e-8));
  CHECK_THAT(test.log_likelihood_large, WithinRel(-438.20840564047, 1e-8));
  SECTION("REML fits are refused in words") {
    const LmmFit reml = FitLmm(large.x, kNames, large.y, large.z, kSlope, large.group, "participant");
    REQUIRE_THROWS_WITH(cohortdb::stats::CompareNestedLmm(m0, reml), Contains("refit both models by maximum likelihood"));
  }
}

TEST_CASE("a singular fit is reported in words and still equals lmer", "[lmm]") {
  const ModelCsv csv = ReadModelCsv("lmm_singular.csv");
  const Eigen::MatrixXd x = csv.Design({"x"});
  const Eigen::MatrixXd z = Eigen::MatrixXd::Ones(x.rows(), 1);
  std::vector<int> group;
  for (Eigen::Index i = 0; i < x.rows(); ++i) group.push_back(static_cast<int>(csv.Column("group")(i)));
  const LmmFit fit = FitLmm(x, {"(Intercept)", "x"}, csv.Column("y"), z, {"(Intercept)"}, group, "group");
  // stats_lmm.R, "== singular REML" (lmer stops at theta 9.2e-8; the optimum is 0)
  CheckLmmFit(fit, {{1.86659197157052, 0.421284702586776},
              {0.0892534172414677, 0.0852961224298666},
              {117.999999996861, 117.999999997786},
              {20.9133950190457, 4.93908387140542},
              {1.68517971261361e-41, 2.61257562410418e-06},
              {9.20222293551447e-08},
              0.977721861915982,
              {8.99721454227716e-08, 0.977721861915982},
              339.218087635126,
              -169.609043817563,
              347.218087635126,
              358.368054606254});
  CHECK(fit.singular);
  REQUIRE(fit.messages.size() == 1);
  CHECK_THAT(fit.messages[0], Contains("singular fit") && Contains("'group'"));
}

TEST_CASE("linear mixed model rejects what lme4 rejects / in words", "[lmm]") {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(6, 1);
  const Eigen::MatrixXd z = Eigen::MatrixXd::Ones(6, 1);
  const Eigen::VectorXd y = Eigen::VectorXd::LinSpaced(6, 1.0, 6.0);
  REQUIRE_THROWS_WITH(FitLmm(x, {"(Intercept)"}, y, z, {"(Intercept)"}, {3, 3, 3, 3, 3, 3}, "site"),
                      Contains("'site' has 1 level") && Contains("at least 2 groups"));
  REQUIRE_THROWS_WITH(FitLmm(x, {"(Intercept)"}, y, z, {"(Intercept)"}, {0, 1, 2, 3, 4, 5}, "participant"),
                      Contains("6 rows for 6 groups") && Contains("not identifiable"));
  Eigen::MatrixXd x2(6, 2);
  x2.col(0).setOnes();
  x2.col(1).setConstant(2.0);
  REQUIRE_THROWS_WITH(FitLmm(x2, {"(Intercept)", "dose"}, y, z, {"(Intercept)"}, {0, 0, 1, 1, 2, 2}, "site"),
                      Contains("rank deficient") && Contains("'dose'"));
  const LmmFit few = FitLmm(x, {"(Intercept)"}, Eigen::VectorXd((Eigen::VectorXd(6) << 1, 2, 4, 3, 6, 7).finished()),
                            z, {"(Intercept)"}, {0, 0, 1, 1, 2, 2}, "site");
  bool worded = false;
  for (const auto& message : few.messages) worded = worded || message.find("only 3 groups of 'site'") != std::string::npos;
  CHECK(worded);
}

TEST_CASE("many groups / parallel passes and a start from a subset of the groups / equal lmer", "[lmm]") {
  // 60,000 groups: the passes over the groups run in pieces on threads
  // (8,192 groups or more) and the search starts from the optimum of a
  // subset of the groups (50,000 or more).
  const Visits v = ManyGroups(60000);
  // stats_lmm_large.R: the same rows.
  CHECK_THAT(v.y(0), WithinRel(5.91818346047075, 1e-13));
  CHECK_THAT(v.y(3), WithinRel(4.46677433006589, 1e-13));
  const std::vector<std::string> names{"(Intercept)", "arm", "day", "arm:day"};
  const LmmFit fit = FitLmm(v.x, names, v.y, v.z, {"(Intercept)", "day"}, v.group, "participant");
  // stats_lmm_large.R, "== many groups REML"
  CheckLmmFit(fit, {{5.99636605257431, -0.285305307973385, -0.197653684542049, -0.160162750597401},
                    {0.00807156001139843, 0.0114153141508531, 0.00372866909231203, 0.00527365678046211},
                    {59997.6237674093, 59994.1286324754, 59832.8545880067, 59844.1381883034},
                    {742.900510447349, -24.9932068625605, -53.0091782479657, -30.3703402145497},
                    {0, 3.66176005469294e-137, 0, 4.59984042778104e-201},
                    {1.50221153305365, 0.148298885693824, 0.371570819493602},
                    0.795464812622163,
                    {1.19495641565937, 0.318243027733103, 0.370680690668412, 0.795464812622163},
                    576455.984857995,
                    -288227.992428998,
                    576471.984857995,
                    576552.790555034});
  CHECK(fit.groups == 60000);
  CHECK(fit.convergence.converged);
}

TEST_CASE("a fit gives the same bits on one thread as on several", "[lmm]") {
  const Visits v = ManyGroups(20000);
  const std::vector<std::string> names{"(Intercept)", "arm", "day", "arm:day"};
  const auto fit_with = [&](const char* threads) {
    const ThreadsSetting setting(threads);
    return FitLmm(v.x, names, v.y, v.z, {"(Intercept)", "day"}, v.group, "participant");
  };
  const LmmFit one = fit_with("1");
  for (const char* threads : {"2", "3", "8"}) {
    INFO("COHORTDB_THREADS=" << threads);
    CheckSameBits(fit_with(threads), one);
  }
}

TEST_CASE("the subset of groups a large fit starts from moves only the start", "[lmm]") {
  // The same rows with the groups in another order: the search starts from a
  // different subset (the first groups), or, when the first 20,000 groups
  // all have arm 0, from lme4's start because the subset cannot be fitted
  // (its arm column is constant). Each ends at the optimum of all rows.
  const Visits v = ManyGroups(60000);
  const std::vector<std::string> names{"(Intercept)", "arm", "day", "arm:day"};
  const auto fit = [&](const Visits& d) {
    return FitLmm(d.x, names, d.y, d.z, {"(Intercept)", "day"}, d.group, "participant");
  };
  const LmmFit first = fit(v);
  std::vector<int> reversed;
  std::vector<int> arm_zero_first;
  for (int p = 60000; p >= 1; --p) reversed.push_back(p);
  for (int arm = 0; arm <= 1; ++arm) {
    for (int p = 1; p <= 60000; ++p) {
      if (v.x(3 * (p - 1), 1) == arm) arm_zero_first.push_back(p);
    }
  }
  REQUIRE(v.x(3 * (arm_zero_first[20000] - 1), 1) == 0.0);  // more than 20,000 groups have arm 0
  for (const auto* order : {&reversed, &arm_zero_first}) {
    const LmmFit other = fit(ReorderGroups(v, *order));
    CHECK(other.convergence.converged);
    CHECK_THAT(other.criterion, WithinRel(first.criterion, 1e-12));
    for (std::size_t j = 0; j < first.terms.size(); ++j) {
      CHECK_THAT(other.terms[j].estimate, WithinRel(first.terms[j].estimate, 1e-7));
      CHECK_THAT(other.terms[j].std_error, WithinRel(first.terms[j].std_error, 1e-7));
      CHECK_THAT(other.df[j], WithinRel(first.df[j], 1e-5));
    }
    for (std::size_t j = 0; j < first.theta.size(); ++j) CHECK_THAT(other.theta[j], WithinAbs(first.theta[j], 1e-6));
  }
}
