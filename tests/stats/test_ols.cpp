// Expected values: tests/reference/stats_ols.R (R 4.2.2: lm, summary.lm,
// confint, anova).
#include "stats/ols.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "trial_data.h"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using cohortdb::NumericalError;
namespace st = cohortdb::stats;

namespace {

// Design matrix with an intercept column (when intercept) and the named trial columns.
Eigen::MatrixXd Design(const st::testing::TrialData& trial, const std::vector<std::string>& columns,
                       bool intercept) {
  const Eigen::Index n = static_cast<Eigen::Index>(trial["group"].size());
  const Eigen::Index offset = intercept ? 1 : 0;
  Eigen::MatrixXd x(n, static_cast<Eigen::Index>(columns.size()) + offset);
  if (intercept) x.col(0).setOnes();
  for (std::size_t j = 0; j < columns.size(); ++j) {
    const auto& v = trial[columns[j]];
    for (Eigen::Index i = 0; i < n; ++i) x(i, static_cast<Eigen::Index>(j) + offset) = v[static_cast<std::size_t>(i)];
  }
  return x;
}

Eigen::VectorXd Column(const st::testing::TrialData& trial, const std::string& name) {
  const auto& v = trial[name];
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

void CheckTerm(const st::TermEstimate& t, double est, double se, double stat, double p, double low, double high) {
  INFO(t.term);
  CHECK_THAT(t.estimate, WithinRel(est, 1e-8));
  CHECK_THAT(t.std_error, WithinRel(se, 1e-8));
  CHECK_THAT(t.statistic, WithinRel(stat, 1e-8));
  CHECK_THAT(t.p_value, WithinRel(p, 1e-8));
  CHECK_THAT(t.conf_low, WithinRel(low, 1e-8));
  CHECK_THAT(t.conf_high, WithinRel(high, 1e-8));
}

}  // namespace

TEST_CASE("FitOls matches lm + summary.lm / NaN rows dropped", "[stats][ols]") {
  const auto trial = st::testing::LoadTrial();
  const std::vector<std::string> names{"(Intercept)", "group", "il6_change", "age", "sex"};
  const st::OlsFit m = st::FitOls(Design(trial, {"group", "il6_change", "age", "sex"}, true),
                                  Column(trial, "pain_change"), names);
  CHECK(m.n == 38);
  CHECK(m.dropped_rows == 3);
  CHECK(m.rank == 5);
  CHECK(m.has_intercept);
  CHECK(m.aliased_terms.empty());
  CheckTerm(m.terms[0], -0.080461444838280147, 1.0175648266896429, -0.079072549215403326, 0.93745247365383921,
            -2.1507126508847434, 1.9897897612081832);
  CheckTerm(m.terms[1], -0.31936939890826599, 0.41841254197022848, -0.76328830250740964, 0.45071407501903116,
            -1.1706361161913592, 0.53189731837482712);
  CheckTerm(m.terms[2], 0.86697893708004792, 0.31091607619803691, 2.7884660956798797, 0.0087221138083914494,
            0.2344154238322177, 1.499542450327878);
  CheckTerm(m.terms[3], -0.0014980944492893123, 0.021274141360710628, -0.070418562323554618, 0.94428553726204756,
            -0.044780660487754767, 0.041784471589176142);
  CheckTerm(m.terms[4], -0.44508180060319746, 0.37737290136663521, -1.1794217311082968, 0.24666362532204064,
            -1.2128527412764571, 0.32268914007006222);
  CHECK_THAT(m.sigma, WithinRel(1.0799372281774688, 1e-8));
  CHECK_THAT(m.r_squared, WithinRel(0.35657915588572037, 1e-8));
  CHECK_THAT(m.adj_r_squared, WithinRel(0.27858875053853493, 1e-8));
  CHECK_THAT(m.f_statistic, WithinRel(4.5720900449017714, 1e-8));
  CHECK(m.f_df1 == 4);
  CHECK(m.f_df2 == 33);
  CHECK_THAT(m.f_p_value, WithinRel(0.0047641171806167195, 1e-8));
  CHECK_THAT(m.rss, WithinRel(38.486725754519938, 1e-8));
  CHECK(std::isnan(m.standardised_beta[0]));
  CHECK_THAT(m.standardised_beta[1], WithinRel(-0.12727619519308522, 1e-8));
  CHECK_THAT(m.standardised_beta[2], WithinRel(0.46261719946107077, 1e-8));
  CHECK_THAT(m.standardised_beta[3], WithinRel(-0.009989954274199124, 1e-8));
  CHECK_THAT(m.standardised_beta[4], WithinRel(-0.16829910210425392, 1e-8));
}

TEST_CASE("CompareNestedOls matches anova(m0 / m1)", "[stats][ols]") {
  const auto trial = st::testing::LoadTrial();
  Eigen::VectorXd y = Column(trial, "pain_change");
  const Eigen::VectorXd il6 = Column(trial, "il6_change");
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (std::isnan(il6(i))) y(i) = st::kNaN;  // same rows as the large model
  }
  const st::OlsFit small = st::FitOls(Design(trial, {"group", "age"}, true), y, {"(Intercept)", "group", "age"});
  const st::OlsFit large = st::FitOls(Design(trial, {"group", "il6_change", "age", "sex"}, true), y,
                                      {"(Intercept)", "group", "il6_change", "age", "sex"});
  const st::NestedFTest f = st::CompareNestedOls(small, large);
  CHECK(f.df == 2);
  CHECK_THAT(f.statistic, WithinRel(5.0529568050564322, 1e-8));
  CHECK_THAT(f.p_value, WithinRel(0.012179288377747184, 1e-8));
  CHECK_THAT(f.rss_small, WithinRel(50.27289319728613, 1e-8));
  CHECK_THAT(f.rss_large, WithinRel(38.486725754519938, 1e-8));
  REQUIRE_THROWS_AS(st::CompareNestedOls(large, small), NumericalError);
  const st::OlsFit other_rows =
      st::FitOls(Design(trial, {"group"}, true), Column(trial, "pcs_change"), {"(Intercept)", "group"});
  REQUIRE_THROWS_WITH(st::CompareNestedOls(other_rows, large),
                      "CompareNestedOls: the models used different rows (41 vs 38); fit both on the same "
                      "complete rows");
}

TEST_CASE("FitOls without intercept reports R's uncentred R squared", "[stats][ols]") {
  const auto trial = st::testing::LoadTrial();
  const st::OlsFit m =
      st::FitOls(Design(trial, {"group", "il6_change"}, false), Column(trial, "pcs_change"), {"group", "il6_change"});
  CHECK_FALSE(m.has_intercept);
  CHECK(m.n == 39);
  CheckTerm(m.terms[0], 2.7750315800148839, 0.88796472498358558, 3.1251597072915049, 0.0034490052120576676,
            0.97584414681742748, 4.5742190132123408);
  CheckTerm(m.terms[1], -1.6485215184058912, 0.944942810554805, -1.74457279318099, 0.089361919543146567,
            -3.5631575191455802, 0.26611448233379797);
  CHECK_THAT(m.r_squared, WithinRel(0.39259803647261471, 1e-8));
  CHECK_THAT(m.adj_r_squared, WithinRel(0.35976549790356693, 1e-8));
  CHECK_THAT(m.f_statistic, WithinRel(11.957590048876932, 1e-8));
  CHECK(m.f_df1 == 2);
  CHECK_THAT(m.f_p_value, WithinRel(9.8698270601608974e-05, 1e-8));
}

TEST_CASE("FitOls names aliased terms as lm's NA coefficients", "[stats][ols]") {
  auto trial = st::testing::LoadTrial();
  std::vector<double> female, age2;
  for (double s : trial["sex"]) female.push_back(1 - s);
  for (double a : trial["age"]) age2.push_back(2 * a);
  trial.numeric["female"] = female;
  trial.numeric["age2"] = age2;
  const st::OlsFit m = st::FitOls(Design(trial, {"group", "sex", "female", "age", "age2"}, true),
                                  Column(trial, "pcs_change"), {"(Intercept)", "group", "sex", "female", "age", "age2"});
  REQUIRE(m.aliased_terms == std::vector<std::string>{"female", "age2"});
  CHECK(m.aliased == std::vector<bool>{false, false, false, true, false, true});
  CHECK(m.rank == 4);
  CHECK(std::isnan(m.terms[3].estimate));
  CHECK(std::isnan(m.terms[5].std_error));
  CHECK(std::isnan(m.standardised_beta[3]));
  CheckTerm(m.terms[0], -0.54584077210601756, 3.5129583616800373, -0.15537923194881667, 0.8773669461581316,
            -7.6637705274771948, 6.5720889832651599);
  CheckTerm(m.terms[1], 4.5554837999826061, 1.2238348021848737, 3.7223028727813952, 0.0006542579334444541,
            2.0757589478028948, 7.0352086521623178);
  CheckTerm(m.terms[2], 0.80829112153240379, 1.2449007797048897, 0.64928156099638201, 0.52016682345926224,
            -1.7141174555247045, 3.3306996985895121);
  CheckTerm(m.terms[4], -0.013240528194771783, 0.07268898678921315, -0.18215315386314673, 0.85645687168503626,
            -0.16052240537229792, 0.13404134898275435);
  CHECK_THAT(m.r_squared, WithinRel(0.28912658762997073, 1e-8));
  CHECK_THAT(m.adj_r_squared, WithinRel(0.23148820284321148, 1e-8));
  CHECK_THAT(m.f_statistic, WithinRel(5.0162159939011657, 1e-8));
  CHECK(m.f_df1 == 3);
  CHECK(m.f_df2 == 37);
}

TEST_CASE("FitOls edge cases: constant column / fewer than two rows / all missing", "[stats][ols]") {
  // A constant predictor beside the intercept is aliased, not a crash.
  Eigen::MatrixXd x(4, 3);
  x << 1, 5, 1.0, 1, 5, 2.0, 1, 5, 3.5, 1, 5, 4.0;
  Eigen::VectorXd y(4);
  y << 1.0, 2.1, 2.9, 4.2;
  const st::OlsFit m = st::FitOls(x, y, {"(Intercept)", "dose", "age"});
  CHECK(m.aliased_terms == std::vector<std::string>{"dose"});
  CHECK(std::isfinite(m.terms[2].estimate));

  Eigen::MatrixXd one(1, 2);
  one << 1, 3;
  REQUIRE_THROWS_WITH(st::FitOls(one, Eigen::VectorXd::Ones(1), {"(Intercept)", "age"}),
                      "FitOls: 1 complete rows (no NaN in the outcome or any predictor), at least 2 needed");
  Eigen::MatrixXd missing(3, 2);
  missing << 1, st::kNaN, 1, st::kNaN, 1, st::kNaN;
  REQUIRE_THROWS_WITH(st::FitOls(missing, Eigen::VectorXd::Ones(3), {"(Intercept)", "age"}),
                      "FitOls: 0 complete rows (no NaN in the outcome or any predictor), at least 2 needed");
  REQUIRE_THROWS_AS(st::FitOls(x, y, {"(Intercept)", "dose"}), NumericalError);

  // As many rows as coefficients: estimates, but no residual df (NaN SEs, as R).
  Eigen::MatrixXd square(2, 2);
  square << 1, 0, 1, 1;
  Eigen::VectorXd y2(2);
  y2 << 3, 5;
  const st::OlsFit exact = st::FitOls(square, y2, {"(Intercept)", "x"});
  CHECK_THAT(exact.terms[1].estimate, WithinRel(2.0, 1e-12));
  CHECK(std::isnan(exact.terms[1].std_error));
  CHECK(std::isnan(exact.f_statistic));
}

TEST_CASE("FitOls with a constant outcome gives a perfect fit / not a crash", "[stats][ols]") {
  Eigen::MatrixXd x(4, 2);
  x << 1, 1.0, 1, 2.0, 1, 3.0, 1, 5.0;
  const st::OlsFit m = st::FitOls(x, Eigen::VectorXd::Constant(4, 2.0), {"(Intercept)", "age"});
  CHECK_THAT(m.terms[0].estimate, WithinRel(2.0, 1e-12));
  CHECK_THAT(m.terms[1].estimate, WithinAbs(0.0, 1e-12));
  CHECK_THAT(m.rss, WithinAbs(0.0, 1e-20));
  CHECK(m.aliased_terms.empty());
}

TEST_CASE("FitOls flags an essentially perfect fit where summary.lm warns", "[stats][ols]") {
  // tests/reference/stats_ols.R: TRUE, TRUE, FALSE, FALSE.
  Eigen::MatrixXd x(4, 2);
  x << 1, 1.0, 1, 2.0, 1, 3.0, 1, 5.0;
  const std::vector<std::string> names = {"(Intercept)", "x"};
  CHECK(st::FitOls(x, Eigen::VectorXd::Constant(4, 2.0), names).essentially_perfect_fit);
  Eigen::VectorXd line(4);
  line << 3, 5, 7, 11;
  CHECK(st::FitOls(x, line, names).essentially_perfect_fit);
  Eigen::VectorXd noisy(4);
  noisy << 1.0, 2.1, 2.9, 4.2;
  CHECK_FALSE(st::FitOls(x, noisy, names).essentially_perfect_fit);
  CHECK_FALSE(st::FitOls(x, Eigen::VectorXd::Zero(4), names).essentially_perfect_fit);
}
