// Expected values: tests/reference/stats_meta.R (R 4.2.2, metafor 3.8-1:
// escalc, rma, predict). Data inline, duplicated from the script
// (metadat::dat.normand1999 and dat.bcg plus one study with a zero cell).
#include <cmath>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "stats/effect_size.h"
#include "stats/meta_analysis.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::NumericalError;
namespace st = cohortdb::stats;

namespace {

struct Arms {
  std::vector<double> n1{155, 31, 75, 18, 8, 57, 34, 110, 60};
  std::vector<double> m1{55, 27, 64, 66, 14, 19, 52, 21, 30};
  std::vector<double> sd1{47, 7, 17, 20, 8, 7, 45, 16, 27};
  std::vector<double> n2{156, 32, 71, 18, 13, 52, 33, 183, 52};
  std::vector<double> m2{75, 29, 119, 137, 18, 18, 41, 31, 23};
  std::vector<double> sd2{64, 4, 29, 48, 11, 4, 34, 27, 20};
};

struct Bcg {
  std::vector<double> tpos{4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27, 0};
  std::vector<double> tneg{119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886, 40};
  std::vector<double> cpos{11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29, 4};
  std::vector<double> cneg{128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825, 37};
  std::vector<double> ablat{44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33, 30};
  std::vector<double> year{1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976, 1990};
};

void HedgesGs(std::vector<double>* yi, std::vector<double>* vi) {
  const Arms a;
  for (std::size_t i = 0; i < a.n1.size(); ++i) {
    const st::EffectSize e = st::HedgesG(a.m1[i], a.sd1[i], a.n1[i], a.m2[i], a.sd2[i], a.n2[i]);
    yi->push_back(e.yi);
    vi->push_back(e.vi);
  }
}

void LogOddsRatios(std::vector<double>* yi, std::vector<double>* vi) {
  const Bcg b;
  for (std::size_t i = 0; i < b.tpos.size(); ++i) {
    const st::EffectSize e = st::LogOddsRatio(b.tpos[i], b.tneg[i], b.cpos[i], b.cneg[i]);
    yi->push_back(e.yi);
    vi->push_back(e.vi);
  }
}

void CheckPooled(const st::MetaResult& m, double est, double se, double z, double p, double low, double high) {
  REQUIRE(m.coefficients.size() == 1);
  const st::TermEstimate& t = m.coefficients[0];
  CHECK(t.term == "intercept");
  CHECK_THAT(t.estimate, WithinRel(est, 1e-8));
  CHECK_THAT(t.std_error, WithinRel(se, 1e-8));
  CHECK_THAT(t.statistic, WithinRel(z, 1e-8));
  CHECK_THAT(t.p_value, WithinRel(p, 1e-8));
  CHECK_THAT(t.conf_low, WithinRel(low, 1e-8));
  CHECK_THAT(t.conf_high, WithinRel(high, 1e-8));
}

}  // namespace

TEST_CASE("Effect sizes match escalc SMD / MD and OR", "[stats][meta]") {
  const std::vector<double> smd_yi{-0.35516964094010689, -0.34794002273909852, -2.3175691601637305,
                                   -1.8879822529368466,  -0.38396414116970129, 0.17214866906959103,
                                   0.2720520738529319,   -0.42459627189426086, 0.28955623008075509};
  const std::vector<double> smd_vi{0.013064675541529683, 0.064468876098856681, 0.045812110280182811,
                                   0.16061773593617348,  0.20543327839222422,  0.036910570000361909,
                                   0.060267125836432664, 0.014863038419332694, 0.036271734158054549};
  const std::vector<double> md_vi{40.50802315963606, 2.0806451612903225, 15.698403755868545,
                                  150.22222222222223, 17.307692307692307, 1.1673414304993253,
                                  94.589126559714799, 6.3108792846497765, 19.842307692307692};
  const Arms a;
  for (std::size_t i = 0; i < a.n1.size(); ++i) {
    const st::EffectSize g = st::HedgesG(a.m1[i], a.sd1[i], a.n1[i], a.m2[i], a.sd2[i], a.n2[i]);
    CHECK_THAT(g.yi, WithinRel(smd_yi[i], 1e-8));
    CHECK_THAT(g.vi, WithinRel(smd_vi[i], 1e-8));
    const st::EffectSize md = st::MeanDifference(a.m1[i], a.sd1[i], a.n1[i], a.m2[i], a.sd2[i], a.n2[i]);
    CHECK(md.yi == a.m1[i] - a.m2[i]);
    CHECK_THAT(md.vi, WithinRel(md_vi[i], 1e-8));
  }
  const std::vector<double> or_yi{-0.93869414087039216, -1.6661907290265496, -1.3862943611198908,
                                  -1.4564435493129846,  -0.21914108567543256, -0.95812204077626739,
                                  -1.633775838228896,   0.012020601452732649, -0.47174603583869601,
                                  -1.401210139283481,   -0.34084964636621073, 0.44663468227444625,
                                  -0.017341873929093587, -2.2741856184723472};
  const std::vector<double> or_vi{0.35712495225362872, 0.208132393657186,    0.43341307814992025,
                                  0.020314412973197363, 0.051951777317120272, 0.0099052655153382407,
                                  0.22700967522349361, 0.0040069620121488307, 0.056977123987762661,
                                  0.075421726314920404, 0.012525133820215518, 0.53416217247471709,
                                  0.071635117295658746, 2.2735802469135806};
  const Bcg b;
  for (std::size_t i = 0; i < b.tpos.size(); ++i) {
    const st::EffectSize e = st::LogOddsRatio(b.tpos[i], b.tneg[i], b.cpos[i], b.cneg[i]);
    CHECK_THAT(e.yi, WithinRel(or_yi[i], 1e-8));
    CHECK_THAT(e.vi, WithinRel(or_vi[i], 1e-8));
    CHECK(e.continuity_corrected == (i == 13));  // only the study with a zero cell
  }
  REQUIRE_THROWS_WITH(st::HedgesG(1, -2, 10, 0, 1, 10), "HedgesG: argument sd1 must be >= 0, found -2.000000");
  REQUIRE_THROWS_AS(st::HedgesG(1, 0, 10, 0, 0, 10), NumericalError);
  REQUIRE_THROWS_AS(st::LogOddsRatio(st::kNaN, 1, 1, 1), NumericalError);
}

TEST_CASE("Fixed-effect and DerSimonian-Laird pooling match rma", "[stats][meta]") {
  std::vector<double> yi, vi;
  HedgesGs(&yi, &vi);
  const st::MetaResult fe = st::PoolEffects(yi, vi, {st::TauSquaredMethod::kFixedEffect});
  CheckPooled(fe, -0.41061141942098134, 0.061602751535678645, -6.6654720639088065, 2.6381599063615513e-11,
              -0.53135059377948102, -0.28987224506248171);
  CHECK(fe.tau2 == 0);
  CHECK(fe.k == 9);
  CHECK_THAT(fe.q, WithinRel(123.72927435971823, 1e-8));
  CHECK(fe.q_df == 8);
  CHECK_THAT(fe.q_p_value, WithinRel(5.6225132320430431e-23, 1e-8));
  CHECK_THAT(fe.i2, WithinRel(93.534270655510682, 1e-8));
  CHECK_THAT(fe.h2, WithinRel(15.466159294964779, 1e-8));
  CHECK_THAT(fe.qm, WithinRel(44.428517834748718, 1e-8));
  CHECK(std::isnan(fe.pi_low));  // predict.rma gives no PI for a fixed-effect model

  const st::MetaResult dl = st::PoolEffects(yi, vi, {st::TauSquaredMethod::kDerSimonianLaird});
  CheckPooled(dl, -0.53073731061597662, 0.2592186056768585, -2.0474506805950221, 0.040613854610900675,
              -1.0387964418653093, -0.022678179366643958);
  CHECK_THAT(dl.tau2, WithinRel(0.53971437482021489, 1e-8));
  CHECK_THAT(dl.tau, WithinRel(std::sqrt(0.53971437482021489), 1e-8));
  CHECK_THAT(dl.i2, WithinRel(93.534270655510682, 1e-8));
  CHECK_THAT(dl.h2, WithinRel(15.466159294964779, 1e-8));
  CHECK_THAT(dl.qm, WithinRel(4.19205428946902, 1e-8));
  CHECK_THAT(dl.qm_p_value, WithinRel(0.040613854610900724, 1e-8));
  CHECK_THAT(dl.pi_low, WithinRel(-2.0576343689189769, 1e-8));
  CHECK_THAT(dl.pi_high, WithinRel(0.99615974768702353, 1e-8));

  std::vector<double> lyi, lvi;
  LogOddsRatios(&lyi, &lvi);
  const st::MetaResult odl = st::PoolEffects(lyi, lvi, {st::TauSquaredMethod::kDerSimonianLaird});
  CheckPooled(odl, -0.76855041902878762, 0.19107379119922832, -4.0222702140632016, 5.7639876950659301e-05,
              -1.1430481681688014, -0.3940526698887738);
  CHECK_THAT(odl.tau2, WithinRel(0.36702457146817502, 1e-8));
  CHECK_THAT(odl.q, WithinRel(164.64969353184918, 1e-8));
  CHECK_THAT(odl.pi_low, WithinRel(-2.0136039687160445, 1e-8));
}

TEST_CASE("REML pooling matches rma(method = \"REML\")", "[stats][meta]") {
  // tau^2 to 1e-5 (issue 4; R run with threshold 1e-12, we agree to ~1e-12);
  // the quantities that follow from tau^2 are checked to 1e-8.
  std::vector<double> yi, vi;
  HedgesGs(&yi, &vi);
  const st::MetaResult r = st::PoolEffects(yi, vi);
  CHECK_THAT(r.tau2, WithinRel(0.79084291375077831, 1e-5));
  const st::TermEstimate& t = r.coefficients[0];
  CHECK_THAT(t.estimate, WithinRel(-0.53710825843296062, 1e-8));
  CHECK_THAT(t.std_error, WithinRel(0.308661490278691, 1e-8));
  CHECK_THAT(t.p_value, WithinRel(0.081837820577363607, 1e-8));
  CHECK_THAT(t.conf_low, WithinRel(-1.142073662793655, 1e-8));
  CHECK_THAT(t.conf_high, WithinRel(0.067857145927733731, 1e-8));
  CHECK_THAT(r.q, WithinRel(123.72927435971823, 1e-8));
  CHECK_THAT(r.i2, WithinRel(95.494937073421127, 1e-8));
  CHECK_THAT(r.h2, WithinRel(22.197248213786786, 1e-8));
  CHECK_THAT(r.pi_low, WithinRel(-2.3820943362353564, 1e-8));
  CHECK_THAT(r.pi_high, WithinRel(1.3078778193694354, 1e-8));
  CHECK(r.iterations > 0);

  std::vector<double> lyi, lvi;
  LogOddsRatios(&lyi, &lvi);
  const st::MetaResult o = st::PoolEffects(lyi, lvi);
  CHECK_THAT(o.tau2, WithinRel(0.33854301475927095, 1e-5));
  CHECK_THAT(o.coefficients[0].estimate, WithinRel(-0.76526923246481415, 1e-8));
  CHECK_THAT(o.coefficients[0].std_error, WithinRel(0.18497593274604882, 1e-8));
  CHECK_THAT(o.i2, WithinRel(91.496681592143176, 1e-8));
  CHECK_THAT(o.pi_low, WithinRel(-1.9619056738494538, 1e-8));
  CHECK_THAT(o.pi_high, WithinRel(0.43136720891982561, 1e-8));

  // Homogeneous studies: tau^2 on the boundary.
  const st::MetaResult h = st::PoolEffects({0.1, 0.12, 0.09, 0.11}, {0.04, 0.05, 0.03, 0.06});
  CHECK_THAT(h.tau2, WithinAbs(0.0, 1e-10));
  CHECK_THAT(h.coefficients[0].estimate, WithinRel(0.10245614035087719, 1e-8));
  CHECK_THAT(h.i2, WithinAbs(0.0, 1e-8));
}

TEST_CASE("REML meta-regression matches rma(mods = ~ ablat + year)", "[stats][meta]") {
  std::vector<double> yi, vi;
  LogOddsRatios(&yi, &vi);
  const Bcg b;
  Eigen::MatrixXd mods(14, 2);
  for (Eigen::Index i = 0; i < 14; ++i) {
    mods(i, 0) = b.ablat[static_cast<std::size_t>(i)];
    mods(i, 1) = b.year[static_cast<std::size_t>(i)];
  }
  const st::MetaResult m = st::MetaRegression(yi, vi, mods, {"ablat", "year"});
  REQUIRE(m.coefficients.size() == 3);
  CHECK_THAT(m.tau2, WithinRel(0.08894074967800146, 1e-5));
  const double expected[3][6] = {
      {-4.9650298835577518, 26.66760785489798, -0.18618204942014835, 0.85230200032891446, -57.232580832995239,
       47.302521065879731},
      {-0.029921715265904241, 0.0093631004125952974, -3.1957059037467306, 0.0013948921418951512,
       -0.048273054858223141, -0.011570375673585341},
      {0.0026400119337297123, 0.013458643877414824, 0.19615735119939987, 0.84448700831880852,
       -0.023738445346753845, 0.02901846921421327}};
  for (std::size_t j = 0; j < 3; ++j) {
    const st::TermEstimate& t = m.coefficients[j];
    INFO(t.term);
    CHECK_THAT(t.estimate, WithinRel(expected[j][0], 1e-8));
    CHECK_THAT(t.std_error, WithinRel(expected[j][1], 1e-8));
    CHECK_THAT(t.statistic, WithinRel(expected[j][2], 1e-8));
    CHECK_THAT(t.p_value, WithinRel(expected[j][3], 1e-8));
    CHECK_THAT(t.conf_low, WithinRel(expected[j][4], 1e-8));
    CHECK_THAT(t.conf_high, WithinRel(expected[j][5], 1e-8));
  }
  CHECK(m.coefficients[1].term == "ablat");
  CHECK_THAT(m.q, WithinRel(26.190252490310669, 1e-8));  // QE uses 1/vi weights: closed form
  CHECK(m.q_df == 11);
  CHECK_THAT(m.q_p_value, WithinRel(0.0060798007532952541, 1e-8));
  CHECK_THAT(m.qm, WithinRel(16.425130117029997, 1e-8));
  CHECK(m.qm_df == 2);
  CHECK_THAT(m.qm_p_value, WithinRel(0.00027122412251823235, 1e-8));
  CHECK_THAT(m.i2, WithinRel(64.647713206109216, 1e-8));
  CHECK_THAT(m.h2, WithinRel(2.8286713270633732, 1e-8));
  CHECK(std::isnan(m.pi_low));
}

TEST_CASE("Meta-analysis edge cases", "[stats][meta]") {
  REQUIRE_THROWS_WITH(st::PoolEffects({0.3}, {0.1}),
                      "PoolEffects: 1 studies with complete data for 1 coefficients; more studies than "
                      "coefficients (and at least 2) needed");
  REQUIRE_THROWS_WITH(st::PoolEffects({0.3, 0.2, 0.1}, {0.1, 0.0, 0.2}),
                      "PoolEffects: study 2 has sampling variance 0.000000 and effect 0.200000; a finite effect "
                      "and a variance > 0 are needed");
  const st::MetaResult dropped = st::PoolEffects({0.3, st::kNaN, 0.1, 0.2}, {0.1, 0.1, 0.2, 0.1});
  CHECK(dropped.k == 3);
  CHECK(dropped.dropped == 1);
  REQUIRE_THROWS_AS(st::PoolEffects({st::kNaN, st::kNaN}, {0.1, 0.1}), NumericalError);
  Eigen::MatrixXd constant = Eigen::MatrixXd::Constant(4, 1, 2.0);
  REQUIRE_THROWS_WITH(st::MetaRegression({0.1, 0.2, 0.3, 0.4}, {0.1, 0.1, 0.1, 0.1}, constant, {"weeks"}),
                      "MetaRegression: the moderators are collinear with each other or the intercept");
}
