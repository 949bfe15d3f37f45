// Frames, derived variables, validation messages, output formats and plots.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "analysis/analysis.h"
#include "analysis/forest_plot.h"
#include "analysis/frame.h"
#include "analysis/labels.h"
#include "analysis/report.h"
#include "analysis_fixture.h"
#include "support/svg_check.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using namespace cohortdb;
using namespace cohortdb::analysis;
using namespace cohortdb::testing;

TEST_CASE("an unknown variable is named with its close matches", "[analysis][frame]") {
  auto store = TrialStore();
  const auto request = Request("regress", {{"study", "trial"},
                                           {"derive", {"pain_change=change(pain_nrs, baseline, week12)"}},
                                           {"outcome", "pain_change"},
                                           {"predictors", {"arm", "il6_week21"}}});
  REQUIRE_THROWS_WITH(
      ValidateRequest(store, request),
      "regress: --predictors: unknown variable 'il6_week21' in the frame (did you mean il6_week12?)");
  REQUIRE_THROWS_AS(RunAnalysis(store, request), InputError);
}

TEST_CASE("unknown options and wrong option types are refused before running", "[analysis][frame]") {
  auto store = TrialStore();
  REQUIRE_THROWS_WITH(ValidateRequest(store, Request("regress", {{"study", "trial"},
                                                                 {"outcome", "pcs_week12"},
                                                                 {"predictors", "arm"},
                                                                 {"standardise", true}})),
                      "regress: unknown option --standardise (did you mean --standardize?)");
  REQUIRE_THROWS_WITH(
      ValidateRequest(
          store,
          Request("logistic",
                  {{"study", "trial"}, {"outcome", "pcs_week12"}, {"predictors", "arm"}, {"agq", "ten"}})),
      "logistic: --agq expects an integer, found \"ten\"");
  REQUIRE_THROWS_WITH(
      ValidateRequest(store, Request("regress", {{"study", "trial"}, {"outcome", "pcs_week12"}})),
      "regress: --predictors is required (or --formula)");
  REQUIRE_THROWS_WITH(ValidateRequest(store, Request("regres", {})),
                      "unknown analysis 'regres' (did you mean regress?)");
}

TEST_CASE("a frame that writes is refused and the store is unchanged", "[analysis][frame]") {
  auto store = TrialStore();
  const auto before = store.Query("SELECT count(*) FROM participant").rows[0][0];
  for (const char* frame : {"DELETE FROM participant", "SELECT 1; DELETE FROM participant",
                            "WITH x AS (SELECT 1) DELETE FROM participant", "DROP TABLE participant"}) {
    INFO(frame);
    CHECK_THROWS(RunAnalysis(store, Request("describe", {{"frame", frame}, {"vars", {"age_years"}}})));
  }
  CHECK(store.Query("SELECT count(*) FROM participant").rows[0][0] == before);
}

TEST_CASE("frames: a view name / a SELECT / and an unknown name", "[analysis][frame]") {
  auto store = CohortStore();
  const auto view = RunAnalysis(store, Request("describe", {{"frame", "wide_cohort"}, {"vars", {"lmm"}}}));
  CHECK(view.rows_used == 400);
  const auto select = RunAnalysis(
      store, Request("describe",
                     {{"frame", "SELECT * FROM wide_cohort WHERE age_years >= 50;"}, {"vars", {"lmm"}}}));
  CHECK(select.rows_used > 0);
  CHECK(select.rows_used < 400);
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("describe", {{"frame", "wide_cohrt"}, {"vars", {"lmm"}}})),
      "--frame: no view or table named 'wide_cohrt' (pivot views: wide_cohort, wide_cohort_visit)");
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("describe", {{"vars", {"lmm"}}})),
                      "describe: give --study (its pivot is the default frame) or --frame");
  // Errors point into the frame as written, and a second statement is named.
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("describe", {{"frame", "SELECT * FROM wide_cohort WHERE agee > 3"}, {"vars", {"lmm"}}})),
      "SQL error (line 1, column 33): no such column: agee");
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("describe", {{"frame", "\n  SELECT * FROM wide_cohort WHERE agee > 3"}, {"vars", {"lmm"}}})),
      "SQL error (line 2, column 35): no such column: agee");
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("describe", {{"frame", "PRAGMA table_info(participant)"}, {"vars", {"name"}}})),
      "--frame: expected one SELECT statement, found PRAGMA at line 1, column 1");
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("describe", {{"frame", "SELECT * FROM wide_cohort;\n SELECT 1"}, {"vars", {"lmm"}}})),
      "--frame: expected one SELECT statement, found another starting at line 2, column 2");
  REQUIRE_THROWS_WITH(
      RunAnalysis(store, Request("describe", {{"frame", "SELECT * FROM wide_cohort; DELETE FROM participant"},
                                              {"vars", {"lmm"}}})),
      "--frame: refused: DELETE on participant is not allowed: queries are read-only (a frame only reads)");
}

TEST_CASE("a frame column with numbers before its first text is text with the numbers as levels", "[analysis][frame]") {
  // The builder keeps codes only once a column holds text: rows before the
  // first text value get theirs when it comes, numbers become labels.
  QueryResult q;
  q.columns = {"mixed", "number"};
  q.rows = {{SqlValue(2.5), SqlValue(std::int64_t{1})},
            {SqlValue(std::monostate{}), SqlValue(std::monostate{})},
            {SqlValue(std::int64_t{7}), SqlValue(2.0)},
            {SqlValue(std::string("b")), SqlValue(std::int64_t{3})},
            {SqlValue(2.5), SqlValue(std::int64_t{4})}};
  const Frame frame = Frame::FromQuery(q);
  const Column& mixed = frame.Get("mixed");
  REQUIRE_FALSE(mixed.numeric);
  REQUIRE(mixed.codes.size() == 5);
  CHECK(*mixed.Label(0) == "2.5");
  CHECK(mixed.Label(1) == nullptr);
  CHECK(*mixed.Label(2) == "7");
  CHECK(*mixed.Label(3) == "b");
  CHECK(*mixed.Label(4) == "2.5");
  CHECK(mixed.levels.size() == 3);
  const Column& number = frame.Get("number");
  REQUIRE(number.numeric);
  CHECK(number.codes.empty());
  CHECK(number.values[0] == 1.0);
  CHECK(std::isnan(number.values[1]));
  CHECK(number.values[3] == 3.0);
}

TEST_CASE("cut points: a value on an inner cut goes to the interval it closes", "[analysis][derive]") {
  QueryResult q;
  q.columns = {"pa"};
  for (double v : {100.0, 500.0, 499.9, 5000.0, 5000.1, std::nan("")}) {
    std::vector<SqlValue> row(1);  // NULL unless a number
    if (!std::isnan(v)) row[0] = v;
    q.rows.push_back(std::move(row));
  }
  Frame frame = Frame::FromQuery(q);
  ApplyCut(frame, "pa=500,5000");
  const Column& c = frame.Get("pa_cat");
  REQUIRE(c.levels == std::vector<std::string>{"<500", "500-5000", ">5000"});
  CHECK(*c.Label(0) == "<500");
  CHECK(*c.Label(1) == "500-5000");
  CHECK(*c.Label(2) == "<500");
  CHECK(*c.Label(3) == "500-5000");
  CHECK(*c.Label(4) == ">5000");
  CHECK(c.Label(5) == nullptr);
  REQUIRE_THROWS_WITH(ApplyCut(frame, "pa=5000,500"), "--cut pa: cut points must increase");
  REQUIRE_THROWS_WITH(ApplyDerive(frame, "x=mean(pa)"),
                      "--derive x: expected change(VAR, FROM, TO), days(DATE, FROM_DATE), z(VAR) or VAR>=VALUE, found 'mean(pa)'");
}

TEST_CASE("change() names the missing visit column", "[analysis][derive]") {
  auto store = TrialStore();
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("describe", {{"study", "trial"},
                                                              {"derive", {"d=change(il6, baseline, week24)"}},
                                                              {"vars", {"d"}}})),
                      "--derive: unknown variable 'il6_week24' in the frame (did you mean il6_week12?)");
}

TEST_CASE("output formats: paper table / tidy csv / json document / markdown", "[analysis][report]") {
  auto store = TrialStore();
  const auto result =
      RunAnalysis(store, Request("regress", {{"study", "trial"},
                                             {"derive",
                                              {"pain_change=change(pain_nrs, baseline, week12)",
                                               "il6_change=change(il6, baseline, week12)"}},
                                             {"outcome", "pain_change"},
                                             {"predictors", {"arm", "il6_change"}},
                                             {"standardize", true}}));
  std::ostringstream table, csv, json, markdown;
  WriteReport(table, result, OutputFormat::kTable);
  WriteReport(csv, result, OutputFormat::kCsv);
  WriteReport(json, result, OutputFormat::kJson);
  WriteReport(markdown, result, OutputFormat::kMarkdown);
  CHECK_THAT(table.str(), Contains("Coefficients"));
  CHECK_THAT(table.str(), Contains("  intervention"));
  CHECK_THAT(table.str(), Contains("-0.801"));
  CHECK_THAT(table.str(), Contains("Std. beta"));
  CHECK_THAT(table.str(), Contains("n = 37 rows used (3 excluded: missing il6_change 3)"));
  CHECK(csv.str().substr(0, csv.str().find_first_of("\r\n")) ==
        "section,stratum,term,label,estimate,std_error,statistic,p_value,conf_low,conf_high,n,std_beta,variable,"
        "var_label,var_type,reference_row");
  CHECK_THAT(csv.str(), Contains("coefficients,,armintervention,intervention,-0.80126913065862"));
  const auto parsed = nlohmann::json::parse(json.str());
  CHECK(parsed["command"] == "regress");
  CHECK(parsed["rows_used"] == 37);
  CHECK(parsed["rows"][1]["term"] == "armcontrol");  // the reference row
  CHECK(parsed["rows"][1]["reference_row"] == true);
  CHECK(parsed["rows"][2]["term"] == "armintervention");
  CHECK(parsed["rows"][2]["label"] == "intervention");
  CHECK_THAT(markdown.str(), Contains("### Coefficients"));
  CHECK_THAT(markdown.str(), Contains("|   intervention |"));
}

TEST_CASE("p-values and numbers print as papers print them", "[analysis][report]") {
  CHECK(FormatPValue(0.0004) == "<0.001");
  CHECK(FormatPValue(0.0049) == "0.005");
  CHECK(FormatPValue(0.434) == "0.43");
  CHECK(FormatPValue(std::nan("")) == "NA");
  CHECK(FormatNumber(-0.0001, 2) == "0.00");
  CHECK(FormatNumber(1.2345, 2) == "1.23");
}

TEST_CASE("suppressed counts print as <N in Table 1", "[analysis][report][min-cell]") {
  auto store = TrialStore();
  const auto result = RunAnalysis(
      store,
      Request("describe", {{"study", "trial"}, {"vars", {"sex"}}, {"group", "arm"}, {"min-cell", 10}}));
  CHECK(result.min_cell == 10);
  // Each arm has one sex below 10; the other sex is its arm's n minus it, so
  // it is suppressed as the complement.
  for (const char* arm : {"control", "intervention"}) {
    INFO(arm);
    const auto& female = FindRow(result, "table1", "sex=female", "", arm);
    const auto& male = FindRow(result, "table1", "sex=male", "", arm);
    const auto& small = female.extra.contains("complementary") ? male : female;
    const auto& complement = female.extra.contains("complementary") ? female : male;
    CHECK(small.extra["suppressed"] == true);
    CHECK_FALSE(small.extra.contains("complementary"));
    CHECK(complement.extra["suppressed"] == true);
    CHECK(complement.extra["complementary"] == true);
    CHECK(complement.extra["count"].is_null());
    CHECK(std::isnan(complement.estimate));
  }
  CHECK(result.diagnostics["suppressed_cells"] == 4);
  std::ostringstream out;
  WriteReport(out, result, OutputFormat::kTable);
  // "<10" only for the cells below 10; the complements, which may be 10 or
  // more, say "suppressed" (each arm prints one of each).
  const std::string text = out.str();
  const auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count("<10") == 2);
  CHECK(count("| suppressed") == 2);
  CHECK_THAT(out.str(), !Contains("(55.0)") && !Contains("(45.0)") && !Contains("(60.0)") && !Contains("(40.0)"));
}

TEST_CASE("the forest plot of a logistic model is well-formed SVG with its labels", "[analysis][plot]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                              {"outcome", "cbp"},
                                                              {"predictors", {"lmm", "intermat", "sex"}},
                                                              {"per-sd", 2},
                                                              {"plot", true}}));
  const std::string& svg = result.plot_svg;
  std::string error;
  CHECK(WellFormedSvg(svg, &error));
  INFO(error);
  CHECK_THAT(svg, Contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK_THAT(svg, Contains("lmm (per 2 SD = 9.43)"));  // the overall sample's SD
  CHECK_THAT(svg, Contains("intermat (per 2 SD = 5.74)"));
  // sex: a heading with its levels (as the frame names them: no level labels
  // in this store), the reference level first
  CHECK_THAT(svg, Contains(">Sex</text>") && Contains(">female</text>") && Contains(">Reference</text>") &&
                      Contains(">male</text>") && !Contains("sexmale"));
  CHECK_THAT(svg, Contains("Odds ratio (95% CI), log scale"));
  CHECK_THAT(svg, Contains("stroke-dasharray"));  // reference line at 1
  // --codes: the same plot drawn again with the rows named by their terms
  CHECK(PlotSvg(result, false) == svg);
  const std::string coded = PlotSvg(result, true);
  CHECK(WellFormedSvg(coded, &error));
  CHECK_THAT(coded, Contains(">sexmale</text>") && Contains(">sex</text>") && !Contains(">Sex</text>"));
  CHECK_THAT(coded, Contains("Odds ratios for cbp") && Contains("lmm (per 2 SD = 9.43)"));
}

TEST_CASE("forest plot escapes labels", "[analysis][plot]") {
  ForestPlot plot;
  plot.title = "a < b & c";
  ForestRow row;
  row.label = "x<5";
  row.estimate = 0.5;
  row.low = 0.1;
  row.high = 0.9;
  plot.rows.push_back(row);
  const std::string svg = RenderForestPlotSvg(plot);
  CHECK_THAT(svg, Contains("a &lt; b &amp; c"));
  CHECK_THAT(svg, Contains("x&lt;5"));
  std::string error;
  CHECK(WellFormedSvg(svg, &error));
}

TEST_CASE("categorical catalog variables appear with their labels in catalog order", "[analysis][frame]") {
  auto store = TrialStore();
  store.Exec(
      "INSERT INTO variable (variable_id, study_id, code, record_kind, value_type) VALUES "
      "(9, 1, 'smoking', 'covariate', 'categorical');"
      "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (9, 1, 'never', '1'), "
      "(9, 2, 'former', '2'), (9, 3, 'current', '3');"
      "INSERT INTO covariate (participant_id, visit_id, variable_id, value, source_value, batch_id) "
      "SELECT participant_id, 1, 9, 1 + participant_id % 3, 'x', 1 FROM participant;");
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
  const auto result = RunAnalysis(
      store, Request("describe", {{"study", "trial"}, {"vars", {"smoking_baseline"}}, {"group", "arm"}}));
  // participants 1..40: level 1 + id % 3; never = ids divisible by 3 (13 of them)
  const auto& never = FindRow(result, "table1", "smoking_baseline=never", "", "control");
  const auto& current = FindRow(result, "table1", "smoking_baseline=current", "", "intervention");
  CHECK(*never.n + *FindRow(result, "table1", "smoking_baseline=never", "", "intervention").n == 13);
  CHECK(current.extra["level"] == "current");
  std::vector<std::string> order;
  for (const auto& r : result.rows) {
    if (r.section == "table1" && r.extra.contains("level") && r.extra["group"] == "control") {
      order.push_back(r.extra["level"].get<std::string>());
    }
  }
  CHECK(order == std::vector<std::string>{"never", "former", "current"});
}
