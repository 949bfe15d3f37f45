// Linear mixed models with several random-effect terms (nested and crossed
// groupings) against lme4::lmer + lmerTest (Satterthwaite) and anova()'s
// likelihood-ratio test. Expected values come from
// tests/reference/stats_lmm_multi.R (which also writes the CSV files read
// here); rerun it and paste its output to refresh them. Tolerances (issue 14):
// fixed effects and SEs 1e-6, REML criterion 1e-8 relative, variance
// components 1e-5, Satterthwaite df and p-values 1e-4.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "lmm_expected.h"
#include "model_csv.h"
#include "stats/lmm_sparse.h"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::stats::FitLmmTerms;
using cohortdb::stats::LmmFit;
using cohortdb::stats::LmmOptions;
using cohortdb::stats::MultiLmmFit;
using cohortdb::stats::RandomEffectTerm;
using cohortdb::stats::testing::CheckLmmFit;
using cohortdb::stats::testing::CheckSameBits;
using cohortdb::stats::testing::ThreadsSetting;
using cohortdb::stats::testing::Expected;
using cohortdb::stats::testing::ModelCsv;
using cohortdb::stats::testing::ReadModelCsv;

namespace {

std::vector<int> Codes(const Eigen::VectorXd& a) {
  std::vector<int> out;
  for (Eigen::Index i = 0; i < a.size(); ++i) out.push_back(static_cast<int>(a(i)));
  return out;
}

// The interaction of two integer factors (b numbered within a).
std::vector<int> Codes(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  std::vector<int> out;
  for (Eigen::Index i = 0; i < a.size(); ++i) out.push_back(static_cast<int>(a(i)) * 1000 + static_cast<int>(b(i)));
  return out;
}

RandomEffectTerm Intercept(const std::vector<int>& group, const std::string& name) {
  return {Eigen::MatrixXd::Ones(static_cast<Eigen::Index>(group.size()), 1), {"(Intercept)"}, group, name};
}

RandomEffectTerm Slope(const std::vector<int>& group, const std::string& name, const Eigen::VectorXd& x,
                       const std::string& x_name) {
  Eigen::MatrixXd z(x.size(), 2);
  z.col(0).setOnes();
  z.col(1) = x;
  return {z, {"(Intercept)", x_name}, group, name};
}

// y ~ arm * visit + (1 | site/participant) on lmm_nested.csv (sites <= max_site).
struct Nested {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  std::vector<RandomEffectTerm> terms;
};

Nested ReadNested(bool interaction, int max_site = 1000) {
  const ModelCsv all = ReadModelCsv("lmm_nested.csv");
  ModelCsv csv;
  csv.names = all.names;
  std::vector<Eigen::Index> keep;
  for (Eigen::Index i = 0; i < all.values.rows(); ++i) {
    if (all.Column("site")(i) <= max_site) keep.push_back(i);
  }
  csv.values.resize(static_cast<Eigen::Index>(keep.size()), all.values.cols());
  for (size_t r = 0; r < keep.size(); ++r) csv.values.row(static_cast<Eigen::Index>(r)) = all.values.row(keep[r]);
  Nested d;
  d.x = csv.Design({"arm", "visit"});
  if (interaction) {
    d.x.conservativeResize(Eigen::NoChange, 4);
    d.x.col(3) = csv.Column("arm").cwiseProduct(csv.Column("visit"));
  }
  d.y = csv.Column("y");
  // As the formula gives them: (1 | site) then (1 | participant:site); the fit reorders.
  d.terms = {Intercept(Codes(csv.Column("site")), "site"),
             Intercept(Codes(csv.Column("site"), csv.Column("participant")), "participant:site")};
  return d;
}

const std::vector<std::string> kNested{"(Intercept)", "arm", "visit", "arm:visit"};

}  // namespace

TEST_CASE("nested random intercepts / balanced / REML / equals lmer + lmerTest", "[lmm][lmm_multi]") {
  const Nested d = ReadNested(true);
  const MultiLmmFit fit = FitLmmTerms(d.x, kNested, d.y, d.terms);
  // stats_lmm_multi.R, "== nested REML"
  CheckLmmFit(fit, {{4.48097436221672, 0.12377758591834, -0.241255897435866, -0.299693858661699},
              {0.293402110976024, 0.297575543310229, 0.0657529557246847, 0.0918477126290315},
              {14.8204650836605, 119.915981703628, 237.999997337226, 237.999997479958},
              {15.2724680381829, 0.415953490469811, -3.66912627389759, -3.26294308353817},
              {1.79044526069379e-10, 0.678187492976252, 0.000300359126791449, 0.00126442450975246},
              {1.11240388970226, 0.634366019586372},
              0.918190057326817,
              {1.02139819125629, 0.582468571890196, 0.918190057326817},
              1011.73992998357, -505.869964991787, 1025.73992998357, 1052.11817695413});
  // lme4's order: the factor with more levels first, groups named as lme4 prints them.
  REQUIRE(fit.groupings.size() == 2);
  CHECK(fit.groupings[0].group == "participant:site");
  CHECK(fit.groupings[0].levels == 80);
  CHECK(fit.groupings[1].group == "site");
  CHECK(fit.groupings[1].levels == 8);
  CHECK(fit.components[0].group == "participant:site");
  CHECK(fit.components[1].group == "site");
  CHECK(fit.components[2].group == "Residual");
  CHECK(fit.parameters == 7);
  CHECK(fit.convergence.converged);
  CHECK_FALSE(fit.singular);
  CHECK(fit.messages.empty());
}

TEST_CASE("nested random intercepts / ML / equals lmer(REML = FALSE)", "[lmm][lmm_multi]") {
  const Nested d = ReadNested(true);
  LmmOptions ml;
  ml.reml = false;
  // stats_lmm_multi.R, "== nested ML"
  CheckLmmFit(FitLmmTerms(d.x, kNested, d.y, d.terms, ml),
        {{4.48235741753912, 0.121078941386643, -0.241255897435869, -0.299693858661687},
         {0.279463076055845, 0.295123674235812, 0.0654784113434631, 0.0914642124022742},
         {18.2384999110123, 122.992430835109, 240.00000027101, 240.000000085451},
         {16.039175839614, 0.410265092084403, -3.68451055066647, -3.27662427511633},
         {3.35851149370701e-12, 0.682325279437261, 0.000283224742074141, 0.00120590365270629},
         {1.10904573849423, 0.579154114313746},
         0.914356253684765,
         {1.01406290661464, 0.529553186270035, 0.914356253684765},
         1002.55366851468, -501.276834257341, 1016.55366851468, 1042.93191548524});
}

TEST_CASE("likelihood-ratio tests between nested mixed models equal anova()", "[lmm][lmm_multi]") {
  LmmOptions ml;
  ml.reml = false;
  ml.satterthwaite = false;
  const Nested large = ReadNested(true);
  const Nested small = ReadNested(false);
  const MultiLmmFit full = FitLmmTerms(large.x, kNested, large.y, large.terms, ml);
  SECTION("the interaction") {
    const MultiLmmFit m0 = FitLmmTerms(small.x, {"(Intercept)", "arm", "visit"}, small.y, small.terms, ml);
    const auto test = cohortdb::stats::CompareNestedLmm(m0, full);
    // stats_lmm_multi.R, "== lrt interaction"
    CHECK_THAT(test.statistic, WithinRel(10.5030558858404, 1e-6));
    CHECK(test.df == 1);
    CHECK_THAT(test.p_value, WithinRel(0.00119177282602283, 1e-6));
    CHECK_THAT(test.log_likelihood_small, WithinRel(-506.528362200261, 1e-8));
    CHECK_THAT(test.log_likelihood_large, WithinRel(-501.276834257341, 1e-8));
  }
  SECTION("the site term: one grouping against two") {
    const MultiLmmFit m0 = FitLmmTerms(large.x, kNested, large.y, {large.terms[1]}, ml);
    const auto test = cohortdb::stats::CompareNestedLmm(m0, full);
    // stats_lmm_multi.R, "== lrt site"
    CHECK_THAT(test.statistic, WithinRel(6.84414880817337, 1e-6));
    CHECK(test.df == 1);
    CHECK_THAT(test.p_value, WithinRel(0.00889320621597292, 1e-6));
    CHECK_THAT(test.log_likelihood_small, WithinRel(-504.698908661428, 1e-8));
  }
}

TEST_CASE("nested random intercepts / unbalanced / equals lmer", "[lmm][lmm_multi]") {
  const ModelCsv csv = ReadModelCsv("lmm_nested_unbalanced.csv");
  const Eigen::MatrixXd x = csv.Design({"arm", "visit"});
  const std::vector<int> site = Codes(csv.Column("site"));
  const std::vector<int> participant = Codes(csv.Column("site"), csv.Column("participant"));
  const std::vector<std::string> names{"(Intercept)", "arm", "visit"};
  SECTION("(1 | site/participant)") {
    const MultiLmmFit fit = FitLmmTerms(
        x, names, csv.Column("y"), {Intercept(site, "site"), Intercept(participant, "participant:site")});
    // stats_lmm_multi.R, "== unbalanced REML"
    CheckLmmFit(fit, {{5.13400792934381, -0.244048514857882, -0.181469676046138},
                {0.246520636842883, 0.312953323948699, 0.0455534560043689},
                {16.1662108599238, 66.6291277766119, 184.92196999019},
                {20.8258748439626, -0.779824006272219, -3.98366429165624},
                {4.18799097574191e-13, 0.438255853278422, 9.75046646548888e-05},
                {1.47691915798747, 0.585383634902017},
                0.804904652765104,
                {1.18877910202204, 0.471178011385183, 0.804904652765104},
                755.522801428973, -377.761400714487, 767.522801428973, 788.579131448741});
    CHECK(fit.groupings[0].levels == 73);
    CHECK(fit.groupings[1].levels == 12);
  }
  SECTION("(1 + visit | site:participant) + (1 | site): a correlated slope in one term") {
    const MultiLmmFit fit =
        FitLmmTerms(x, names, csv.Column("y"),
                    {Slope(participant, "site:participant", csv.Column("visit"), "visit"), Intercept(site, "site")});
    // stats_lmm_multi.R, "== unbalanced slope REML"
    CheckLmmFit(fit, {{5.15375469393342, -0.354656731057929, -0.205714675187219},
                {0.196760393776745, 0.28904521229853, 0.0605194744613797},
                {14.8977157308156, 68.3303043197009, 57.1955865617011},
                {26.1930492972135, -1.22699396484601, -3.39914840665868},
                {7.1347829088495e-14, 0.224035750532109, 0.00123740939448068},
                {1.54267810537347, 0.13741807666784, 0.445262276500109, 0.364803445861925},
                0.682768548186609,
                {1.05329209032511, 0.318160050238877, 0.294897931499109, 0.249076319104619, 0.682768548186609},
                724.78633101688, -362.39316550844, 740.78633101688, 768.861437709904});
    CHECK(fit.components[2].var1 == "(Intercept)");
    CHECK(fit.components[2].var2 == "visit");
    CHECK(fit.components[3].group == "site");
    CHECK(fit.parameters == 3 + 4 + 1);
  }
}

TEST_CASE("crossed random intercepts / participant and rater / equals lmer", "[lmm][lmm_multi]") {
  const ModelCsv csv = ReadModelCsv("lmm_crossed.csv");
  const Eigen::MatrixXd x = csv.Design({"x"});
  const std::vector<int> participant = Codes(csv.Column("participant"));
  const std::vector<int> rater = Codes(csv.Column("rater"));
  const std::vector<std::string> names{"(Intercept)", "x"};
  SECTION("REML") {
    // stats_lmm_multi.R, "== crossed REML"; the rater term first in the formula, lme4 order in the fit
    const MultiLmmFit fit = FitLmmTerms(x, names, csv.Column("y"),
                                        {Intercept(rater, "rater"), Intercept(participant, "participant")});
    CheckLmmFit(fit, {{10.3950038183652, 0.344587629635447},
                {0.446774563007189, 0.0864939119223847},
                {13.9009793902307, 135.302865609555},
                {23.2667763097291, 3.98395241904034},
                {1.57267673114338e-12, 0.000110220215671301},
                {1.67268070490464, 0.847774599355872},
                1.0820535615044,
                {1.80993011400176, 0.917337524585987, 1.0820535615044},
                670.573752229875, -335.286876114938, 680.573752229875, 696.538536484327});
    CHECK(fit.groupings[0].group == "participant");
    CHECK(fit.groupings[1].group == "rater");
  }
  SECTION("ML") {
    LmmOptions ml;
    ml.reml = false;
    // stats_lmm_multi.R, "== crossed ML"
    CheckLmmFit(FitLmmTerms(x, names, csv.Column("y"), {Intercept(participant, "participant"), Intercept(rater, "rater")},
                      ml),
          {{10.3951645429091, 0.34427539389862},
           {0.432251884192451, 0.0861643992112991},
           {16.5524118298766, 136.324579681292},
           {24.0488588322286, 3.99556425913631},
           {2.61270912545727e-14, 0.000105138601976087},
           {1.67029154000589, 0.807357913241967},
           1.07811278344085,
           {1.80076266135346, 0.870422887078293, 1.07811278344085},
           667.704907706798, -333.852453853399, 677.704907706798, 693.669691961249});
  }
  SECTION("a correlated random slope per rater") {
    // stats_lmm_multi.R, "== crossed slope REML"
    CheckLmmFit(FitLmmTerms(x, names, csv.Column("y"),
                      {Intercept(participant, "participant"), Slope(rater, "rater", csv.Column("x"), "x")}),
          {{10.3311447259449, 0.27263432978002},
           {0.434759249337222, 0.203652892483898},
           {14.5289342195017, 5.9561628595662},
           {23.7629095682138, 1.33872063615093},
           {4.90573854579679e-13, 0.229492001626782},
           {1.84224661814257, 0.906724854062452, 0.244549414552331, 0.443652698249132},
           0.975023923071513,
           {1.7962345248866, 0.884078424354417, 0.493936122688671, 0.482737582065739, 0.975023923071513},
           651.892670964997, -325.946335482498, 665.892670964997, 688.243368921228});
  }
}

TEST_CASE("a singular nested fit (no site variance) is reported in words and equals lmer", "[lmm][lmm_multi]") {
  const ModelCsv csv = ReadModelCsv("lmm_nested_singular.csv");
  const MultiLmmFit fit =
      FitLmmTerms(csv.Design({"x"}), {"(Intercept)", "x"}, csv.Column("y"),
                  {Intercept(Codes(csv.Column("site")), "site"),
                   Intercept(Codes(csv.Column("site"), csv.Column("part")), "part:site")});
  // stats_lmm_multi.R, "== singular REML" (lmer stops at a site theta of 4.6e-8; the optimum is 0)
  CheckLmmFit(fit, {{1.02910331896149, 0.484625683757462},
              {0.139919055085783, 0.0804031986548651},
              {58.7909128445204, 139.712953697325},
              {7.35499048596747, 6.02744283641927},
              {6.90273683818031e-10, 1.40537610402694e-08},
              {1.01149444326705, 4.60601388278736e-08},
              0.929744723337555,
              {0.940431621312802, 4.28241710314107e-08, 0.929744723337555},
              572.10359046957, -286.051795234785, 582.10359046957, 598.068374724021});
  CHECK(fit.singular);
  REQUIRE(fit.messages.size() == 1);
  CHECK_THAT(fit.messages[0], Contains("singular fit") && Contains("'site'") && !Contains("'part:site'"));
}

TEST_CASE("a grouping with too few levels / 3 sites are fitted and worded / 1 is refused", "[lmm][lmm_multi]") {
  const Nested d = ReadNested(true, 3);
  const MultiLmmFit fit = FitLmmTerms(d.x, kNested, d.y, d.terms);
  // stats_lmm_multi.R, "== nested 3 sites REML"
  CheckLmmFit(fit, {{4.88535990696955, 0.288999485065217, -0.216107500000004, -0.512606071428565},
              {0.377026150766971, 0.451218787327643, 0.106800642600644, 0.156340132357378},
              {4.62638370413229, 50.3357431716536, 88.0000000308617, 88.000000061808},
              {12.957615531526, 0.640486374197373, -2.0234662895062, -3.2787874981249},
              {8.2165822227651e-05, 0.524761579289254, 0.0460590932965512, 0.00149408893407621},
              {0.91709075220962, 0.40921435489835},
              0.955253987582801,
              {0.87605459802355, 0.390903644292772, 0.955253987582801},
              378.396166515839, -189.198083257919, 392.396166515839, 411.908608715313});
  REQUIRE(fit.messages.size() == 1);
  CHECK_THAT(fit.messages[0], Contains("only 3 groups of 'site'") && Contains("very imprecise"));

  const Nested one = ReadNested(true, 1);
  REQUIRE_THROWS_WITH(FitLmmTerms(one.x, kNested, one.y, one.terms),
                      Contains("'site' has 1 level") && Contains("at least 2 groups"));
}

TEST_CASE("several random terms / inputs lme4 rejects are refused in words", "[lmm][lmm_multi]") {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(6, 1);
  const Eigen::VectorXd y = (Eigen::VectorXd(6) << 1, 2, 4, 3, 6, 7).finished();
  const std::vector<std::string> names{"(Intercept)"};
  REQUIRE_THROWS_WITH(FitLmmTerms(x, names, y, {Intercept({0, 0, 1, 1, 2, 2}, "site"),
                                                Intercept({0, 1, 2, 3, 4, 5}, "participant:site")}),
                      Contains("6 rows for 6 groups of 'participant:site'") && Contains("not identifiable"));
  REQUIRE_THROWS_AS(FitLmmTerms(x, names, y, {}), cohortdb::InputError);
  REQUIRE_THROWS_WITH(FitLmmTerms(x, names, y, {Intercept({0, 0, 1, -1, 2, 2}, "site")}),
                      Contains("row 4 is negative"));
  // Two terms on one factor are named as lme4 names them.
  Eigen::MatrixXd slope(6, 1);
  slope << 0, 1, 0, 1, 0, 1;
  const MultiLmmFit fit = FitLmmTerms(
      x, names, y, {Intercept({0, 0, 1, 1, 2, 2}, "site"), RandomEffectTerm{slope, {"t"}, {0, 0, 1, 1, 2, 2}, "site"}});
  CHECK(fit.components[0].group == "site");
  CHECK(fit.components[1].group == "site.1");
}

TEST_CASE("several random terms / the same bits with any number of threads", "[lmm][lmm_multi]") {
  // The evaluations of a differenced gradient, Hessian or Satterthwaite
  // Jacobian run on several threads, each with its own workspace: the fit
  // must not depend on how many.
  const ModelCsv csv = ReadModelCsv("lmm_nested_unbalanced.csv");
  const Eigen::MatrixXd x = csv.Design({"arm", "visit"});
  const std::vector<int> site = Codes(csv.Column("site"));
  const std::vector<int> participant = Codes(csv.Column("site"), csv.Column("participant"));
  const std::vector<std::string> names{"(Intercept)", "arm", "visit"};
  const auto fit_with = [&](const char* threads) {
    const ThreadsSetting setting(threads);
    return FitLmmTerms(x, names, csv.Column("y"),
                       {Slope(participant, "site:participant", csv.Column("visit"), "visit"), Intercept(site, "site")});
  };
  const MultiLmmFit one = fit_with("1");
  for (const char* threads : {"2", "3", "8"}) {
    INFO("COHORTDB_THREADS=" << threads);
    CheckSameBits(fit_with(threads), one);
  }
}
