// Forest plots: the SVG renderer (layout, escaping, number formats, axis) and
// the plots built from result sets (labelled rows with reference levels, the
// --by subgroup plot, meta with weights, years, favours and the prediction
// interval). Result sets are built by hand with the label contract of
// src/common/result.h set and unset; a few run the real analyses.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <tuple>

#include "analysis/analysis.h"
#include "analysis/forest_plot.h"
#include "analysis/model_plots.h"
#include "analysis/report.h"
#include "analysis_fixture.h"
#include "support/svg_check.h"
#include "common/error.h"
#include "result_helpers.h"

using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using namespace cohortdb;
using namespace cohortdb::analysis;
using namespace cohortdb::testing;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

ResultRow OddsRow(const std::string& term, double estimate, double low, double high, double p) {
  ResultRow r;
  r.section = "odds_ratios";
  r.term = term;
  r.estimate = estimate;
  r.conf_low = low;
  r.conf_high = high;
  r.p_value = p;
  r.n = 500;
  return r;
}

ResultRow Labelled(ResultRow r, const std::string& label, const std::string& variable, const std::string& var_label,
                   const std::string& type) {
  r.label = label;
  r.extra["variable"] = variable;
  r.extra["var_label"] = var_label;
  r.extra["var_type"] = type;
  return r;
}

ModelPlotSpec OddsSpec() {
  ModelPlotSpec spec{"odds_ratios", "Odds ratios for back pain", "Odds ratio (95% CI)", "OR (95% CI)", true};
  spec.events = true;
  return spec;
}

// A logistic result with the label contract filled: a categorical variable
// with its reference row, a continuous one per 2 SD, an interaction and a
// row that could not be estimated.
AnalysisResultSet LabelledLogistic() {
  AnalysisResultSet result;
  result.command = "logistic";
  result.parameters = {{"plot", true}};
  result.rows_used = 2912;
  result.rows_excluded = 9;
  ResultRow ref = Labelled(OddsRow("sexfemale", kNaN, kNaN, kNaN, kNaN), "Female", "sex", "Sex", "dichotomous");
  ref.extra["reference_row"] = true;
  result.rows.push_back(ref);
  result.rows.push_back(Labelled(OddsRow("sexmale", 0.8012, 0.7461, 0.8649, 0.0004), "Male", "sex", "Sex",
                                 "dichotomous"));
  ResultRow lmm = Labelled(OddsRow("lmm", 0.83, 0.66, 1.04, 0.11), "Lean muscle mass", "lmm", "Lean muscle mass",
                           "continuous");
  lmm.extra["per_sd"] = 2;
  lmm.extra["units"] = 7.54;
  lmm.extra["unit"] = "cm3/kg/m";
  result.rows.push_back(lmm);
  ResultRow ref_cat = Labelled(OddsRow("met_cat<500", kNaN, kNaN, kNaN, kNaN), "<500 & idle", "met_cat",
                               "Activity <script>alert(1)</script>", "categorical");
  ref_cat.extra["reference_row"] = true;
  result.rows.push_back(ref_cat);
  result.rows.push_back(Labelled(OddsRow("met_cat500-5000", 0.69, 0.53, 0.90, 0.007), "500\u20135000 MET-min",
                                 "met_cat", "Activity <script>alert(1)</script>", "categorical"));
  ResultRow sparse = Labelled(OddsRow("met_cat>5000", kNaN, kNaN, kNaN, kNaN), ">5000 MET-min", "met_cat",
                              "Activity <script>alert(1)</script>", "categorical");
  sparse.extra["note"] = "no events in this level";
  result.rows.push_back(sparse);
  return result;
}

}  // namespace

TEST_CASE("forest plot: labelled rows grouped by variable with reference levels and a p column",
          "[analysis][plot]") {
  const AnalysisResultSet result = LabelledLogistic();
  const ForestPlot plot = ModelForestPlot(result, OddsSpec());
  // Sex: heading, Female (reference), Male; lean muscle mass one row; Activity heading and 3 levels
  REQUIRE(plot.rows.size() == 8);
  CHECK(plot.rows[0].header);
  CHECK(plot.rows[0].label == "Sex");
  CHECK(plot.rows[1].reference);
  CHECK(plot.rows[1].label == "Female");
  CHECK(plot.rows[1].indent == 1);
  CHECK(plot.rows[2].label == "Male");
  CHECK(plot.rows[3].label == "Lean muscle mass (per 2 SD = 7.54 cm3/kg/m)");
  CHECK_FALSE(plot.rows[3].header);
  CHECK(plot.rows[4].header);
  CHECK(plot.rows[5].reference);
  CHECK(plot.rows[7].note == "not estimable: no events in this level");

  const std::string svg = RenderForestPlotSvg(plot);
  std::string error;
  CHECK(WellFormedSvg(svg, &error));
  INFO(error);
  CHECK_THAT(svg, Contains(">Reference</text>"));
  CHECK(Count(svg, ">Reference</text>") == 2);
  CHECK_THAT(svg, Contains(">OR (95% CI)</text>"));
  CHECK_THAT(svg, Contains(">p</text>"));
  CHECK_THAT(svg, Contains(">0.80 (0.75 to 0.86)</text>"));
  CHECK_THAT(svg, Contains(">&lt;0.001</text>"));  // p as papers print it
  CHECK_THAT(svg, Contains(">0.007</text>"));
  CHECK_THAT(svg, Contains(">Odds ratio (95% CI), log scale</text>"));
  CHECK_THAT(svg, !Contains("(log scale)"));
  CHECK_THAT(svg, Contains("not estimable: no events in this level"));
  // escaped labels stay text
  CHECK_THAT(svg, Contains("Activity &lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_THAT(svg, !Contains("<script"));
  CHECK_THAT(svg, Contains("&lt;500 &amp; idle"));
  CHECK_THAT(svg, Contains("500\u20135000 MET-min"));  // UTF-8 kept
  CHECK_THAT(svg, Contains("n = 2,912 complete cases; 9 excluded"));
  CHECK(Count(svg, ">1</text>") == 1);  // the reference tick, once
}

TEST_CASE("forest plot: odds-ratio ticks at 0.5, 1, 2 over two decades", "[analysis][plot]") {
  ForestPlot plot;
  plot.log_scale = true;
  plot.reference = 1;
  for (const auto& [est, low, high] : {std::tuple{0.7, 0.45, 1.1}, std::tuple{1.6, 1.1, 2.3}}) {
    ForestRow r;
    r.label = "x";
    r.estimate = est;
    r.low = low;
    r.high = high;
    plot.rows.push_back(r);
  }
  const std::string svg = RenderForestPlotSvg(plot);
  CHECK_THAT(svg, Contains(">0.5</text>") && Contains(">1</text>") && Contains(">2</text>"));
  CHECK_THAT(svg, !Contains(">0.6</text>") && !Contains(">1.5</text>"));
}

TEST_CASE("forest plot: without labels one row per term named by its term", "[analysis][plot]") {
  AnalysisResultSet result;
  result.command = "logistic";
  result.parameters = {{"plot", true}};
  ResultRow intercept = OddsRow("(Intercept)", 0.2, 0.1, 0.3, 0.01);
  result.rows.push_back(intercept);
  result.rows.push_back(OddsRow("sexmale", 0.93, 0.74, 1.17, 0.52));
  ResultRow lmm = OddsRow("lmm", 0.83, 0.66, 1.04, 0.11);
  lmm.extra["per_sd"] = 2;
  lmm.extra["units"] = 9.4321;
  result.rows.push_back(lmm);
  result.rows.push_back(OddsRow("age", 1.0, 0.99, 1.01, 0.71));
  ResultRow other = OddsRow("age", 5, 1, 9, 0.1);
  other.section = "coefficients";  // another section: not plotted
  result.rows.push_back(other);
  const ForestPlot plot = ModelForestPlot(result, OddsSpec());
  REQUIRE(plot.rows.size() == 3);
  CHECK(plot.rows[0].label == "sexmale");
  CHECK(plot.rows[1].label == "lmm (per 2 SD = 9.43)");
  CHECK(plot.rows[2].label == "age");
  for (const ForestRow& r : plot.rows) CHECK_FALSE(r.header);
  const std::string svg = ModelPlotSvg(result, OddsSpec());
  CHECK_THAT(svg, !Contains("(Intercept)"));
  // no plot asked: no SVG
  result.parameters = nlohmann::ordered_json::object();
  CHECK(ModelPlotSvg(result, OddsSpec()).empty());
}

TEST_CASE("forest plot: numbers never read -0.00 and huge or tiny ratios keep their digits", "[analysis][plot]") {
  CHECK(PlotEstimateCi(-0.001, -0.004, 0.002, 2, false) == "0.00 (0.00 to 0.00)");
  CHECK(PlotEstimateCi(0.7981, 0.7461, 0.8649, 2, true) == "0.80 (0.75 to 0.86)");
  CHECK(PlotEstimateCi(2.5e9, 1.2e6, 5e12, 2, true) == "2.50e+09 (1.20e+06 to 5.00e+12)");
  CHECK(PlotEstimateCi(0.0012, 0.00031, 0.02, 2, true) == "0.0012 (0.00031 to 0.02)");
  CHECK(PlotEstimateCi(1.5, kNaN, kNaN, 2, true) == "1.50");
  CHECK(PlotEstimateCi(kNaN, kNaN, kNaN, 2, true) == "NA");
}

TEST_CASE("forest plot: a huge odds ratio and a CI over many decades stay on a readable axis", "[analysis][plot]") {
  ForestPlot plot;
  plot.title = "Edge values";
  plot.x_label = "Odds ratio (95% CI)";
  plot.estimate_header = "OR (95% CI)";
  plot.log_scale = true;
  plot.reference = 1;
  ForestRow huge;
  huge.label = "sparse cell";
  huge.estimate = 3.2e8;
  huge.low = 0.5;
  huge.high = std::numeric_limits<double>::infinity();
  plot.rows.push_back(huge);
  ForestRow wide;
  wide.label = "wide";
  wide.estimate = 2;
  wide.low = 1e-7;
  wide.high = 4e4;
  plot.rows.push_back(wide);
  ForestRow nan;
  nan.label = "aliased";
  nan.note = "not estimable: aliased with age";
  plot.rows.push_back(nan);
  const std::string svg = RenderForestPlotSvg(plot);
  std::string error;
  CHECK(WellFormedSvg(svg, &error));
  INFO(error);
  CHECK_THAT(svg, !Contains("nan") && !Contains("inf"));
  CHECK_THAT(svg, Contains(">3.20e+08 (0.50 to Inf)</text>"));
  CHECK_THAT(svg, Contains("not estimable: aliased with age"));
  // powers of ten on the axis, large ones with a superscript exponent
  CHECK_THAT(svg, Contains("10<tspan"));
  // whiskers leaving the axis end in arrows: the infinite upper limit, and the lower limit of "wide"
  // more than three decades below the smallest estimate (the axis stops there)
  CHECK(Count(svg, "<polygon") == 2);
  // at most ~8 tick labels, never crowded
  CHECK(Count(svg, "text-anchor=\"middle\" font-size=\"12\"") <= 9);
}

TEST_CASE("forest plot: long labels wrap then end with an ellipsis, UTF-8 intact", "[analysis][plot]") {
  const auto lines = WrapText("Moderate to vigorous physical activity in minutes per week measured by accelerometer "
                              "over seven days at baseline",
                              30, 2);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "Moderate to vigorous physical");
  CHECK_THAT(lines[1], EndsWith("\u2026"));
  const auto utf8 = WrapText("\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4", 4, 1);
  REQUIRE(utf8.size() == 1);
  CHECK(utf8[0] == "\u00c4\u00c4\u00c4\u2026");  // cut at a character, not inside one
  CHECK(WrapText("short", 30, 2) == std::vector<std::string>{"short"});
  CHECK(XmlEscape("a\x01" "b\xff") == "a b\xEF\xBF\xBD");  // control and invalid bytes never break the XML

  ForestPlot plot;
  plot.estimate_header = "Beta (95% CI)";
  ForestRow r;
  r.label = std::string(200, 'x');
  r.estimate = 0.5;
  r.low = 0.1;
  r.high = 0.9;
  plot.rows.push_back(r);
  const std::string svg = RenderForestPlotSvg(plot);
  CHECK_THAT(svg, Contains("\u2026</text>"));
  CHECK_THAT(svg, !Contains(std::string(60, 'x')));  // never runs under the plot and numbers
}

namespace {

ResultRow Study(const std::string& label, std::optional<int> year, double yi, double se, double weight) {
  ResultRow r;
  r.section = "studies";
  r.term = label;
  r.estimate = yi;
  r.std_error = se;
  r.conf_low = yi - 1.959964 * se;
  r.conf_high = yi + 1.959964 * se;
  r.extra["weight_percent"] = weight;
  if (year) r.extra["year"] = *year;
  return r;
}

AnalysisResultSet MetaResult() {
  AnalysisResultSet result;
  result.command = "meta";
  result.parameters = {{"study", "exercise"}, {"outcome", "pain"}, {"plot", true}};
  result.summary = {{"outcome", "pain"}, {"measure", "SMD"}, {"method", "REML"}};
  result.rows.push_back(Study("Smith", 2019, -0.5, 0.2, 40));
  result.rows.push_back(Study("Jones 2020", 2020, -0.2, 0.25, 35));
  result.rows.push_back(Study("M\u00fcller & S\u00f8rensen", std::nullopt, 0.1, 0.3, 25));
  ResultRow pooled;
  pooled.section = "pooled";
  pooled.term = "pooled (REML)";
  pooled.estimate = -0.25;
  pooled.conf_low = -0.5;
  pooled.conf_high = 0.0;
  pooled.statistic = -1.96;
  pooled.p_value = 0.05;
  pooled.extra = {{"k", 3},    {"tau2", 0.0123}, {"i2", 45.2},    {"q", 3.65},
                  {"q_df", 2}, {"q_p_value", 0.16}, {"pi_low", -1.1}, {"pi_high", 0.6}};
  result.rows.push_back(pooled);
  return result;
}

}  // namespace

TEST_CASE("meta forest plot: study years, weights, diamond, prediction interval, heterogeneity, favours",
          "[analysis][plot][meta]") {
  AnalysisResultSet result = MetaResult();
  const std::string svg = MetaPlotSvg(result);
  std::string error;
  CHECK(WellFormedSvg(svg, &error));
  INFO(error);
  CHECK_THAT(svg, Contains(">Smith 2019</text>"));
  CHECK_THAT(svg, Contains(">Jones 2020</text>"));  // the year not repeated
  CHECK_THAT(svg, Contains(">M\u00fcller &amp; S\u00f8rensen</text>"));
  CHECK_THAT(svg, Contains(">Weight</text>"));
  CHECK_THAT(svg, Contains(">40.0%</text>"));
  CHECK_THAT(svg, Contains(">SMD (95% CI)</text>"));
  CHECK_THAT(svg, Contains(">-0.50 (-0.89 to -0.11)</text>"));
  CHECK_THAT(svg, Contains(">Pooled (REML)</text>"));
  CHECK_THAT(svg, Contains("-0.25 (-0.50 to 0.00)"));  // no -0.00
  CHECK(Count(svg, "<polygon") == 1);                  // the diamond
  CHECK_THAT(svg, Contains(">Prediction interval</text>"));
  CHECK_THAT(svg, Contains(">(-1.10 to 0.60)</text>"));
  CHECK_THAT(svg, Contains("Heterogeneity: \u03c4\u00b2 = 0.0123; I\u00b2 = 45.2%; Q = 3.65, df = 2, p = 0.16"));
  CHECK_THAT(svg, Contains("Test for overall effect: z = -1.96, p = 0.050"));
  CHECK_THAT(svg, Contains("Favours treatment"));
  CHECK_THAT(svg, Contains("Favours control"));
  CHECK_THAT(svg, !Contains(">p</text>"));  // no p column for studies

  result.parameters["favours"] = {"exercise", "usual care"};
  CHECK_THAT(MetaPlotSvg(result), Contains("Favours exercise") && Contains("Favours usual care"));
  result.parameters["favours"] = "Favours exercise,Favours control";
  CHECK_THAT(MetaPlotSvg(result), Contains(">\u2190 Favours exercise</text>"));
  result.parameters["favours"] = {"a", "b", "c"};
  REQUIRE_THROWS_AS(MetaPlotSvg(result), InputError);
  REQUIRE_THROWS_WITH(MetaPlotSvg(result), Contains("--favours: expected two labels"));
  result.parameters.erase("plot");
  result.parameters["favours"] = {"a", "b"};
  REQUIRE_THROWS_WITH(MetaPlotSvg(result), "--favours labels the forest plot; add --plot");
}

TEST_CASE("meta forest plot: odds ratios on a log axis and subgroups with subtotals", "[analysis][plot][meta]") {
  AnalysisResultSet result = MetaResult();
  result.summary["measure"] = "OR";
  result.parameters["by"] = "setting";
  std::vector<ResultRow> rows = result.rows;
  for (ResultRow r : rows) {
    if (r.section == "pooled") continue;
    r.stratum = r.term == "Smith" ? "setting=clinic" : "setting=community";
    result.rows.push_back(r);
  }
  ResultRow sub = rows.back();
  sub.stratum = "setting=community";
  result.rows.push_back(sub);
  result.summary["strata"]["setting=clinic"] = {{"error", "one trial cannot be pooled"}};
  ResultRow diff;
  diff.section = "subgroup_difference";
  diff.statistic = 1.23;
  diff.p_value = 0.27;
  diff.extra["df"] = 1;
  result.rows.push_back(diff);
  const ForestPlot plot = MetaForestPlot(result);
  CHECK(plot.log_scale);
  CHECK(plot.estimate_header == "OR (95% CI)");
  CHECK_THAT(plot.rows[1].estimate, Catch::Matchers::WithinRel(std::exp(-0.5), 1e-12));
  const std::string svg = RenderForestPlotSvg(plot);
  std::string error;
  CHECK(WellFormedSvg(svg, &error));
  INFO(error);
  CHECK_THAT(svg, Contains(">setting: clinic</text>"));
  CHECK_THAT(svg, Contains(">setting: community</text>"));
  CHECK_THAT(svg, Contains("not pooled: one trial cannot be pooled"));
  CHECK_THAT(svg, Contains(">Subtotal (I\u00b2 = 45%)</text>"));
  CHECK_THAT(svg, Contains(">Overall (REML)</text>"));
  CHECK_THAT(svg, Contains("Test for subgroup differences: Q = 1.23, df = 1, p = 0.27"));
  CHECK_THAT(svg, Contains("Odds ratio (95% CI), log scale"));
}

TEST_CASE("subgroup plot under --by: the exposure per stratum with n, events and the interaction p",
          "[analysis][plot]") {
  auto store = CohortStore();
  const auto result = RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                              {"outcome", "cbp"},
                                                              {"predictors", {"lmm", "intermat", "sex"}},
                                                              {"per-sd", 2},
                                                              {"by", "osteoarthritis"},
                                                              {"plot", true}}));
  const std::string& svg = result.plot_svg;
  std::string error;
  CHECK(WellFormedSvg(svg, &error));
  INFO(error);
  CHECK_THAT(svg, Contains(">Subgroup</text>") && Contains(">n</text>") && Contains(">Events</text>"));
  CHECK_THAT(svg, Contains(">Overall</text>"));
  CHECK_THAT(svg, Contains(">osteoarthritis</text>"));
  CHECK_THAT(svg, Contains("Estimates of lmm (per 2 SD = 9.43) in each subgroup of osteoarthritis"));
  CHECK_THAT(svg, !Contains("intermat"));  // the exposure only, not the whole model per stratum
  // n and events of each stratum, counted here from the store's complete cases
  const auto counts = store.Query(
      "SELECT osteoarthritis, count(*), sum(cbp) FROM wide_cohort WHERE cbp IS NOT NULL AND lmm IS NOT NULL "
      "AND intermat IS NOT NULL AND sex IS NOT NULL AND osteoarthritis IS NOT NULL GROUP BY osteoarthritis");
  REQUIRE(counts.rows.size() == 2);
  for (const auto& row : counts.rows) {
    const auto count = [](const auto& v) {
      return std::holds_alternative<std::int64_t>(v) ? std::get<std::int64_t>(v)
                                                      : static_cast<std::int64_t>(std::llround(std::get<double>(v)));
    };
    const auto n = count(row[1]);
    const auto events = count(row[2]);
    CHECK_THAT(svg, Contains(fmt::format(">{}</text>", n)));
    CHECK_THAT(svg, Contains(fmt::format(">{}</text>", events)));
  }
  const auto& interaction = FindRow(result, "interaction", "predictors x osteoarthritis");
  REQUIRE(std::isfinite(interaction.p_value));
  CHECK_THAT(svg, Contains("p for interaction: " + FormatPValue(interaction.p_value) +
                           " (predictors x osteoarthritis, likelihood ratio test)"));
  // each stratum's exposure row carries the stratum's estimate
  const auto& stratum1 = FindRow(result, "odds_ratios", "lmm", "osteoarthritis=1");
  CHECK_THAT(svg, Contains(PlotEstimateCi(stratum1.estimate, stratum1.conf_low, stratum1.conf_high, 2, true)));
  // With a catalog label the --by variable's heading and the note use it.
  store.Exec("UPDATE variable SET label = 'Osteoarthritis (doctor diagnosed)' WHERE code = 'osteoarthritis'");
  const auto labelled = RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                                {"outcome", "cbp"},
                                                                {"predictors", {"lmm", "intermat", "sex"}},
                                                                {"per-sd", 2},
                                                                {"by", "osteoarthritis"},
                                                                {"plot", true}}));
  CHECK_THAT(labelled.plot_svg, Contains(">Osteoarthritis (doctor diagnosed)</text>") &&
                                    Contains("in each subgroup of Osteoarthritis (doctor diagnosed)") &&
                                    !Contains(">osteoarthritis</text>"));
}

TEST_CASE("subgroup plot: --plot-exposure chooses the predictor and is refused where it cannot apply",
          "[analysis][plot]") {
  auto store = CohortStore();
  nlohmann::ordered_json options = {{"study", "cohort"},        {"outcome", "cbp"},   {"predictors", {"lmm", "sex"}},
                                    {"by", "osteoarthritis"}, {"plot", true}, {"plot-exposure", "sex"}};
  const auto result = RunAnalysis(store, Request("logistic", options));
  CHECK_THAT(result.plot_svg, Contains("Estimates of Sex in each subgroup"));
  CHECK_THAT(result.plot_svg, Contains(">Overall</text>") && !Contains("lmm"));
  options["plot-exposure"] = "osteoarthritis";
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("logistic", options)),
                      Contains("--plot-exposure: 'osteoarthritis' is the --by variable"));
  options["plot-exposure"] = "age";
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("logistic", options)),
                      "--plot-exposure: 'age' is not among the predictors (lmm, sex)");
  options["plot-exposure"] = "sex";
  options.erase("by");
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("logistic", options)), Contains("add --by VAR"));
  options["by"] = "osteoarthritis";
  options.erase("plot");
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("logistic", options)), Contains("add --plot"));
  REQUIRE_THROWS_WITH(RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                              {"formula", "cbp ~ lmm + sex"},
                                                              {"plot-exposure", "sex"}})),
                      "logistic: --plot-exposure is not available with --formula");
}

TEST_CASE("subgroup plot: a stratum that could not be fitted says why", "[analysis][plot]") {
  AnalysisResultSet result;
  result.command = "regress";
  result.parameters = {{"plot", true}, {"by", "site"}, {"predictors", {"arm", "age"}}};
  ResultRow overall;
  overall.section = "coefficients";
  overall.term = "armintervention";
  overall.estimate = -1.2;
  overall.conf_low = -2.0;
  overall.conf_high = -0.4;
  overall.p_value = 0.004;
  overall.n = 80;
  result.rows.push_back(overall);
  ResultRow age = overall;
  age.term = "age";  // not the exposure
  result.rows.push_back(age);
  ResultRow a = overall;
  a.stratum = "site=A";
  a.n = 50;
  result.rows.push_back(a);
  result.summary["strata"]["site=A"] = {{"nobs", 50}};
  result.summary["strata"]["site=B"] = {{"error", "arm has one level in this stratum"}};
  const ForestPlot plot = ModelForestPlot(result, {"coefficients", "t", "Coefficient (95% CI)", "Beta (95% CI)"});
  REQUIRE(plot.rows.size() == 4);  // Overall, site heading, A, B
  CHECK(plot.rows[0].label == "Overall");
  CHECK(plot.rows[0].cells == std::vector<std::string>{"80"});
  CHECK(plot.rows[1].header);
  CHECK(plot.rows[2].label == "A");
  CHECK(plot.rows[2].cells == std::vector<std::string>{"50"});
  CHECK(plot.rows[3].label == "B");
  CHECK(plot.rows[3].note == "not fitted: arm has one level in this stratum");
  CHECK(plot.columns == std::vector<std::string>{"n"});  // no events column for a linear model
}

TEST_CASE("glm and lmm draw forest plots with --plot", "[analysis][plot][glm]") {
  auto store = TrialStore();
  const auto glm = RunAnalysis(store, Request("glm", {{"study", "trial"},
                                                      {"formula", "pain_nrs_week12 ~ arm + age_years"},
                                                      {"se", "robust"},
                                                      {"plot", true}}));
  std::string error;
  CHECK(WellFormedSvg(glm.plot_svg, &error));
  CHECK_THAT(glm.plot_svg, Contains("Rate ratio (95% CI), log scale") && Contains(">IRR (95% CI)</text>"));
  // analysis_models.R: glm.* (the rate ratio of arm, its CI)
  CHECK_THAT(glm.plot_svg, Contains(">0.81 (0.64 to 1.02)</text>"));
  const auto lmm = RunAnalysis(store, Request("lmm", {{"study", "trial"},
                                                      {"frame", "wide_trial_visit"},
                                                      {"formula", "pain_nrs ~ arm * visit + (1 | participant_id)"},
                                                      {"plot", true}}));
  CHECK(WellFormedSvg(lmm.plot_svg, &error));
  CHECK_THAT(lmm.plot_svg, Contains("Coefficient (95% CI)") && Contains("Linear mixed model of pain_nrs"));
  CHECK_THAT(lmm.plot_svg, !Contains("(Intercept)"));
  const auto plain = RunAnalysis(store, Request("lmm", {{"study", "trial"},
                                                        {"frame", "wide_trial_visit"},
                                                        {"formula", "pain_nrs ~ arm + (1 | participant_id)"}}));
  CHECK(plain.plot_svg.empty());
}
