// --by strata (analysis/sample.h): the overall stratum shares the sample's
// columns instead of copying them, what an analysis does to a stratum's frame
// never reaches the sample the later strata are cut from, each stratum's
// results equal the same analysis of a frame filtered to it, and the
// interaction test's designs.
#include <catch2/catch.hpp>

#include <cmath>

#include "analysis/analysis.h"
#include "analysis/frame.h"
#include "frame_columns.h"
#include "analysis/sample.h"
#include "analysis_fixture.h"
#include "result_helpers.h"

using namespace cohortdb;
using namespace cohortdb::analysis;
using cohortdb::analysis::testing::Categorical;
using cohortdb::analysis::testing::Numeric;
using namespace cohortdb::testing;

namespace {

// Six rows: by variable b (0 1 0 1 0 1), group numbers g, x = 1..6 and
// zx = z(x) still to be standardised.
Frame MakeSample() {
  Frame frame = Frame::FromColumns({Numeric("b", {0, 1, 0, 1, 0, 1}), Numeric("g", {1, 2, 3, 1, 2, 3}),
                                    Numeric("x", {1, 2, 3, 4, 5, 6})},
                                   6);
  ApplyDerive(frame, "zx=z(x)");
  return frame;
}

bool SameNumber(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a));
}

// Every column of "actual" as in "expected": names, kinds, values, codes,
// levels and the z() flag.
void CheckSameColumns(const Frame& actual, const Frame& expected) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.columns().size() == expected.columns().size());
  for (const Column& e : expected.columns()) {
    INFO("column " << e.name);
    REQUIRE(actual.Has(e.name));
    const Column& a = actual.Get(e.name);
    CHECK(a.numeric == e.numeric);
    CHECK(a.values == e.values);
    CHECK(a.codes == e.codes);
    CHECK(a.levels == e.levels);
    CHECK(a.deferred_z == e.deferred_z);
  }
}

bool ReferenceRow(const ResultRow& r) { return r.extra.value("reference_row", false); }

// The rows of stratum "stratum" in "by" (leaving out the interaction test)
// equal the rows of "alone", the same analysis without --by on that
// stratum's rows, in order. Labels and the reference rows they add are left
// out: a --frame is labelled otherwise than --study's pivot.
void CheckStratumEquals(const AnalysisResultSet& by, const std::string& stratum, const AnalysisResultSet& alone) {
  std::vector<const ResultRow*> mine;
  for (const ResultRow& r : by.rows) {
    if (r.stratum == stratum && r.section != "interaction" && !ReferenceRow(r)) mine.push_back(&r);
  }
  std::vector<const ResultRow*> theirs;
  for (const ResultRow& r : alone.rows) {
    if (!ReferenceRow(r)) theirs.push_back(&r);
  }
  INFO("stratum '" << stratum << "'");
  REQUIRE(!theirs.empty());
  REQUIRE(mine.size() == theirs.size());
  for (std::size_t i = 0; i < mine.size(); ++i) {
    const ResultRow& a = *mine[i];
    const ResultRow& b = *theirs[i];
    INFO(stratum << " row " << i << ": " << b.section << " " << b.term << " " << b.extra.dump());
    CHECK(a.section == b.section);
    CHECK(a.term == b.term);
    CHECK(a.extra.value("group", "") == b.extra.value("group", ""));
    CHECK(a.n == b.n);
    CHECK(SameNumber(a.estimate, b.estimate));
    CHECK(SameNumber(a.std_error, b.std_error));
    CHECK(SameNumber(a.statistic, b.statistic));
    CHECK(SameNumber(a.p_value, b.p_value));
    CHECK(SameNumber(a.conf_low, b.conf_low));
    CHECK(SameNumber(a.conf_high, b.conf_high));
  }
}

}  // namespace

TEST_CASE("strata: the overall stratum shares the sample's columns and its changes stay in it",
          "[analysis][strata][by]") {
  Frame sample = MakeSample();
  std::vector<std::string> labels;
  for (Stratum& st : Strata(sample, "b")) {
    labels.push_back(st.label);
    if (st.label.empty()) {
      for (const Column& c : sample.columns()) {
        INFO(c.name);
        CHECK(st.frame.SharesColumn(sample, c.name));  // no copy of the rows
      }
      // What analyses do to a stratum's frame.
      CHECK_FALSE(st.frame.AsCategorical("g", "group").numeric);
      st.frame.Put(Numeric("x", {0, 0, 0, 0, 0, 0}));
      CHECK(st.frame.Get("x>=1", "outcome").values == std::vector<double>(6, 0.0));
      st.frame.StandardiseDeferred();
      CHECK_FALSE(st.frame.Get("zx").deferred_z);
      st.frame.KeepRows({0, 1});
      CHECK(st.frame.rows() == 2);
      CheckSameColumns(sample, MakeSample());
      continue;
    }
    // Later strata are cut from the sample as it was.
    const std::vector<std::size_t> rows =
        st.label == "b=0" ? std::vector<std::size_t>{0, 2, 4} : std::vector<std::size_t>{1, 3, 5};
    CheckSameColumns(st.frame, MakeSample().Subset(rows));
    CHECK(st.frame.Get("g").numeric);
    CHECK_FALSE(st.frame.Has("x>=1"));
    CHECK(st.frame.Get("zx").deferred_z);
  }
  CHECK(labels == std::vector<std::string>{"", "b=0", "b=1"});
  CheckSameColumns(sample, MakeSample());
}

TEST_CASE("strata: a by-level frame changed by the analysis leaves the sample as it was", "[analysis][strata][by]") {
  Frame sample = MakeSample();
  for (Stratum& st : Strata(sample, "b")) {
    if (st.label.empty()) continue;
    st.frame.AsCategorical("x", "predictors");
    st.frame.Put(Numeric("g", {9, 9, 9}));
  }
  CheckSameColumns(sample, MakeSample());
}

TEST_CASE("strata without --by: consume takes the sample over and no column is copied", "[analysis][strata]") {
  Frame sample = MakeSample();
  const Column* x = &sample.Get("x");
  int count = 0;
  for (Stratum& st : Strata(sample, "", /*consume=*/true)) {
    ++count;
    CHECK(st.label.empty());
    CHECK(&st.frame.Get("x") == x);
  }
  CHECK(count == 1);
  CHECK(sample.rows() == 0);
}

TEST_CASE("strata under --by: results equal the same analysis of a frame filtered to each stratum",
          "[analysis][strata][by]") {
  auto store = CohortStore();
  struct Case {
    const char* command;
    nlohmann::ordered_json options;
  };
  // The overall stratum converts numeric columns in place (describe's
  // --group and 0/1 variables, glmer's --random grouping), which the by-level
  // strata after it must not see. osteoarthritis has no missing value, so the
  // overall stratum holds the rows of the frame without --by.
  const Case cases[] = {
      {"logistic",
       {{"outcome", "pain_nrs>=4"}, {"predictors", {"lmm", "age_years", "sex"}}, {"random", "site"}}},
      {"logistic", {{"outcome", "cbp"}, {"predictors", {"lmm", "intermat", "diabetes", "sex"}}}},
      {"regress", {{"outcome", "pain_nrs"}, {"predictors", {"lmm", "age_years", "sex", "site"}}}},
      {"describe", {{"vars", {"age_years", "lmm", "cbp", "sex"}}, {"group", "diabetes"}}},
      {"correlate", {{"x", "lmm"}, {"y", "pain_nrs"}}},
  };
  for (const Case& c : cases) {
    INFO(c.command << " " << c.options.dump());
    nlohmann::ordered_json by_options = c.options;
    by_options["study"] = "cohort";
    by_options["by"] = "osteoarthritis";
    const AnalysisResultSet by = RunAnalysis(store, Request(c.command, by_options));
    nlohmann::ordered_json overall_options = c.options;
    overall_options["study"] = "cohort";
    CheckStratumEquals(by, "", RunAnalysis(store, Request(c.command, overall_options)));
    for (const char* level : {"0", "1"}) {
      nlohmann::ordered_json alone = c.options;
      alone["frame"] = fmt::format("SELECT * FROM wide_cohort WHERE osteoarthritis = {}", level);
      CheckStratumEquals(by, fmt::format("osteoarthritis={}", level), RunAnalysis(store, Request(c.command, alone)));
    }
  }
}

TEST_CASE("interaction design of --by: base / the by dummies / the products and its main effects in place",
          "[analysis][by][design]") {
  // A level label holding ':' names a main-effect column with ':' in it.
  Frame frame = Frame::FromColumns({Numeric("x", {1, 2, 3, 4, 5, 6}),
                                    Categorical("c", {0, 1, 0, 1, 1, 0}, {"lo", "hi:1"}),
                                    Categorical("s", {0, 0, 1, 1, 0, 1}, {"f", "m"})},
                                   6);
  InteractionDesign d = WithInteractions(BuildDesign(frame, {"x", "c"}), frame, "s");
  CHECK(d.design.names ==
        std::vector<std::string>{"(Intercept)", "x", "chi:1", "sm", "x:sm", "chi:1:sm"});
  CHECK(d.design.variables == std::vector<std::string>{"", "x", "c", "s", "x:s", "c:s"});
  CHECK(d.main_effects == 4);
  REQUIRE(d.design.x.cols() == 6);
  const Eigen::VectorXd sm = (Eigen::VectorXd(6) << 0, 0, 1, 1, 0, 1).finished();
  CHECK((d.design.x.col(3) == sm));
  CHECK((d.design.x.col(4) == d.design.x.col(1).cwiseProduct(sm)));
  CHECK((d.design.x.col(5) == d.design.x.col(2).cwiseProduct(sm)));
  const Eigen::MatrixXd main = d.design.x.leftCols(4);
  KeepMainEffects(d);
  CHECK(d.design.names == std::vector<std::string>{"(Intercept)", "x", "chi:1", "sm"});
  CHECK(d.design.variables == std::vector<std::string>{"", "x", "c", "s"});
  CHECK((d.design.x == main));

  // "by" among the predictors: no second main effect of it.
  InteractionDesign with_by = WithInteractions(BuildDesign(frame, {"x", "s"}), frame, "s");
  CHECK(with_by.design.names == std::vector<std::string>{"(Intercept)", "x", "sm", "x:sm"});
  CHECK(with_by.main_effects == 3);
}
