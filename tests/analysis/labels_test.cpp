// Labels in results (analysis/labels.h) and the paper-table formatting of
// analysis/report.h: catalog labels and their fallbacks, reference-level
// rows, --codes, Table 1's dichotomous rows, checkbox labels, labels kept by
// the provenance tables, escaping in csv/json/markdown, and edge values.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>

#include "analysis/labels.h"
#include "analysis/report.h"
#include "analysis_fixture.h"
#include "result_helpers.h"
#include "store/provenance.h"

using Catch::Matchers::Contains;
using namespace cohortdb;
using namespace cohortdb::testing;

namespace {

// The cohort of analysis_fixture.h with the labels a REDCap dictionary gives:
// cbp a yesno field (levels No/Yes), osteoarthritis a boolean with level
// labels absent/present, diabetes a label with a comma, quotes and UTF-8,
// intermat an empty label, lmm a label and a unit, and a checkbox choice.
Store LabelledCohort() {
  Store store = CohortStore();
  store.Exec(
      "UPDATE variable SET label = 'Chronic back pain', value_type = 'boolean' WHERE code = 'cbp';"
      "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (6, 0, 'No', '0'), "
      "(6, 1, 'Yes', '1');"
      "UPDATE variable SET label = 'Osteoarthritis (X-ray)', value_type = 'boolean' WHERE code = "
      "'osteoarthritis';"
      "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (2, 0, 'absent', '0'), "
      "(2, 1, 'present', '1');"
      "UPDATE variable SET label = 'Diabetes, \"type 2\" – Zuckerkrankheit (Ärztin)' WHERE code = 'diabetes';"
      "UPDATE variable SET label = '' WHERE code = 'intermat';"
      "UPDATE variable SET label = 'Lean muscle mass', unit = 'cm3/kg/m' WHERE code = 'lmm';");
  store.RefreshPivots("cohort");
  return store;
}

std::string Printed(const AnalysisResultSet& result, OutputFormat format, bool codes = false) {
  std::ostringstream out;
  analysis::ReportStyle style;
  style.codes = codes;
  analysis::WriteReport(out, result, format, style);
  return out.str();
}

const analysis::ReportTable& TableTitled(const std::vector<analysis::ReportTable>& tables, const std::string& title) {
  for (const auto& t : tables) {
    if (t.title == title) return t;
  }
  throw std::runtime_error("no table titled " + title);
}

std::vector<std::string> FirstColumn(const analysis::ReportTable& t) {
  std::vector<std::string> out;
  for (const auto& row : t.table.rows) out.push_back(std::get<std::string>(row.front()));
  return out;
}

AnalysisResultSet LogisticRun(Store& store) {
  return analysis::RunAnalysis(store, Request("logistic", {{"study", "cohort"},
                                                           {"outcome", "pain_nrs>=4"},
                                                           {"predictors", {"lmm", "intermat", "osteoarthritis", "sex"}},
                                                           {"per-sd", 2},
                                                           {"per-sd-vars", {"lmm"}}}));
}

}  // namespace

TEST_CASE("model rows carry labels and the label keys of tidy_plus_plus", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = LogisticRun(store);
  const ResultRow& lmm = FindRow(result, "odds_ratios", "lmm");
  CHECK(lmm.label == "Lean muscle mass");
  CHECK(lmm.extra["variable"] == "lmm");
  CHECK(lmm.extra["var_type"] == "continuous");
  // an empty catalog label falls back to the code
  CHECK(FindRow(result, "odds_ratios", "intermat").label == "intermat");
  const ResultRow& present = FindRow(result, "odds_ratios", "osteoarthritispresent");
  CHECK(present.label == "present");
  CHECK(present.extra["var_label"] == "Osteoarthritis (X-ray)");
  CHECK(present.extra["var_type"] == "dichotomous");
  // a column of the participant table
  const ResultRow& male = FindRow(result, "odds_ratios", "sexmale");
  CHECK(male.label == "male");
  CHECK(male.extra["var_type"] == "dichotomous");
  CHECK(FindRow(result, "coefficients", "(Intercept)").extra["var_type"] == "intercept");
}

TEST_CASE("a categorical predictor gets its reference row before its levels", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = LogisticRun(store);
  for (const char* section : {"odds_ratios", "coefficients"}) {
    std::size_t ref = result.rows.size(), level = result.rows.size();
    for (std::size_t i = 0; i < result.rows.size(); ++i) {
      if (result.rows[i].section != section) continue;
      if (result.rows[i].term == "osteoarthritisabsent") ref = i;
      if (result.rows[i].term == "osteoarthritispresent") level = i;
    }
    REQUIRE(ref < result.rows.size());
    CHECK(ref + 1 == level);
    const ResultRow& r = result.rows[ref];
    CHECK(r.extra["reference_row"] == true);
    CHECK(r.label == "absent");
    CHECK(r.extra["variable"] == "osteoarthritis");
    CHECK(std::isnan(r.estimate));
    CHECK(std::isnan(r.conf_low));
    CHECK(std::isnan(r.p_value));
  }
  // the participant table's sex: its levels from the study's participants
  CHECK(FindRow(result, "odds_ratios", "sexfemale").extra["reference_row"] == true);
  CHECK(FindRow(result, "odds_ratios", "sexfemale").extra["var_label"] == "Sex");
}

TEST_CASE("option --ref moves the reference row to the named level", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = analysis::RunAnalysis(
      store, Request("logistic", {{"study", "cohort"},
                                  {"outcome", "cbp"},
                                  {"predictors", {"osteoarthritis", "lmm"}},
                                  {"ref", {"osteoarthritis=present"}}}));
  CHECK(FindRow(result, "odds_ratios", "osteoarthritispresent").extra["reference_row"] == true);
  CHECK(FindRow(result, "odds_ratios", "osteoarthritisabsent").label == "absent");
  CHECK_FALSE(FindRow(result, "odds_ratios", "osteoarthritisabsent").extra.contains("reference_row"));
}

TEST_CASE("terminal tables print labels and --codes prints codes", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = LogisticRun(store);
  const auto tables = analysis::PaperTables(result);
  // the outcome is a derived threshold: its label names the source variable's code (pain_nrs has no label)
  const auto& ors = TableTitled(tables, "Odds ratios for pain_nrs >= 4");
  const auto names = FirstColumn(ors);
  CHECK(std::find(names.begin(), names.end(), "Lean muscle mass (per 2 SD)") == names.end());
  CHECK(std::find_if(names.begin(), names.end(), [](const std::string& n) {
          return n.rfind("Lean muscle mass (per 2 SD = ", 0) == 0 && n.find("cm3/kg/m)") != std::string::npos;
        }) != names.end());
  const auto heading = std::find(names.begin(), names.end(), "Osteoarthritis (X-ray)");
  REQUIRE(heading != names.end());
  REQUIRE(heading + 2 < names.end());
  CHECK(*(heading + 1) == "  absent");
  CHECK(*(heading + 2) == "  present");
  const auto row = static_cast<std::size_t>(heading + 1 - names.begin());
  CHECK(std::get<std::string>(ors.table.rows[row][1]) == "reference");

  const auto coded = analysis::PaperTables(result, analysis::ReportStyle{true});
  const auto& coded_ors = TableTitled(coded, "Odds ratios for pain_nrs>=4");
  const auto coded_names = FirstColumn(coded_ors);
  CHECK(std::find(coded_names.begin(), coded_names.end(), "osteoarthritispresent") != coded_names.end());
  CHECK(std::find(coded_names.begin(), coded_names.end(), "Osteoarthritis (X-ray)") == coded_names.end());
  CHECK_THAT(Printed(result, OutputFormat::kTable, true), !Contains("Lean muscle mass"));
}

TEST_CASE("the title names the outcome by its label", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = analysis::RunAnalysis(
      store, Request("logistic", {{"study", "cohort"}, {"outcome", "cbp"}, {"predictors", {"lmm"}}}));
  CHECK(result.diagnostics["outcome_label"] == "Chronic back pain");
  CHECK_THAT(Printed(result, OutputFormat::kTable), Contains("Odds ratios for Chronic back pain"));
  CHECK_THAT(Printed(result, OutputFormat::kTable, true), Contains("Odds ratios for cbp"));
}

TEST_CASE("labels with commas quotes and UTF-8 survive csv json and markdown", "[labels]") {
  Store store = LabelledCohort();
  store.Exec("UPDATE variable SET label = 'MET | week' WHERE code = 'pa_met'");
  const AnalysisResultSet result = analysis::RunAnalysis(
      store, Request("regress", {{"study", "cohort"}, {"outcome", "pain_nrs"}, {"predictors", {"diabetes", "lmm", "pa_met"}}}));
  const std::string label = "Diabetes, \"type 2\" – Zuckerkrankheit (Ärztin)";
  CHECK(FindRow(result, "coefficients", "diabetes").label == label);
  const std::string csv = Printed(result, OutputFormat::kCsv);
  CHECK_THAT(csv, Contains("coefficients,,diabetes,\"Diabetes, \"\"type 2\"\" – Zuckerkrankheit (Ärztin)\","));
  const auto json = nlohmann::json::parse(Printed(result, OutputFormat::kJson));
  bool found = false;
  for (const auto& row : json["rows"]) {
    if (row["term"] == "diabetes") {
      CHECK(row["label"] == label);
      found = true;
    }
  }
  CHECK(found);
  CHECK_THAT(Printed(result, OutputFormat::kMarkdown), Contains("| " + label + " |"));
  CHECK_THAT(Printed(result, OutputFormat::kMarkdown), Contains("| MET \\| week |"));
  CHECK_THAT(Printed(result, OutputFormat::kTable), Contains("Coefficients for pain_nrs"));
}

TEST_CASE("Table 1 shows group labels and one row per dichotomous variable", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = analysis::RunAnalysis(
      store, Request("describe", {{"study", "cohort"}, {"vars", {"diabetes", "osteoarthritis", "lmm"}}, {"group", "cbp"}}));
  const auto tables = analysis::PaperTables(result);
  const auto& t = TableTitled(tables, "Table 1");
  REQUIRE(t.table.columns.size() >= 3);
  CHECK(t.table.columns[1] == "No");
  CHECK(t.table.columns[2] == "Yes");
  const auto names = FirstColumn(t);
  // diabetes (0/1): one row, the count of 1; osteoarthritis (absent/present): one row, present
  CHECK(std::count(names.begin(), names.end(), "Diabetes, \"type 2\" – Zuckerkrankheit (Ärztin), n (%)") == 1);
  CHECK(std::count(names.begin(), names.end(), "Osteoarthritis (X-ray), n (%)") == 1);
  CHECK(std::count(names.begin(), names.end(), "  absent") == 0);
  CHECK(std::count(names.begin(), names.end(), "  0") == 0);
  CHECK(std::count(names.begin(), names.end(), "Lean muscle mass, mean (SD)") == 1);
  // the row holds the second level's count: present in the No group
  const auto at = static_cast<std::size_t>(
      std::find(names.begin(), names.end(), "Osteoarthritis (X-ray), n (%)") - names.begin());
  const ResultRow& present = FindRow(result, "table1", "osteoarthritis=present", "", "No");
  CHECK_THAT(std::get<std::string>(t.table.rows[at][1]), Contains(std::to_string(*present.n) + " ("));
  // --codes: every level, codes as headings and columns
  const auto coded = analysis::PaperTables(result, analysis::ReportStyle{true});
  const auto coded_names = FirstColumn(TableTitled(coded, "Table 1"));
  CHECK(std::count(coded_names.begin(), coded_names.end(), "  absent") == 1);
  CHECK(std::count(coded_names.begin(), coded_names.end(), "  0") == 1);
  CHECK(TableTitled(coded, "Table 1").table.columns[1] == "No");  // the frame's level names are the catalog's
}

TEST_CASE("a checkbox field reads as its choice label", "[labels]") {
  Store store = CohortStore();
  // as import-dictionary stores a checkbox choice (dictionary.cpp)
  store.Exec(
      "INSERT INTO variable (variable_id, study_id, code, label, record_kind, value_type) VALUES "
      "(8, 1, 'comorb___1', 'Comorbidities: Hypertension', 'covariate', 'boolean');"
      "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (8, 0, 'Unchecked', '0'), "
      "(8, 1, 'Checked', '1');"
      "INSERT INTO covariate (participant_id, visit_id, variable_id, value, source_value, batch_id) "
      "SELECT participant_id, NULL, 8, participant_id % 3 = 0, participant_id % 3 = 0, 1 FROM participant;");
  store.RecomputeCoverage();
  store.RefreshPivots("cohort");
  const AnalysisResultSet result =
      analysis::RunAnalysis(store, Request("describe", {{"study", "cohort"}, {"vars", {"comorb___1"}}}));
  const auto names = FirstColumn(TableTitled(analysis::PaperTables(result), "Table 1"));
  CHECK(std::count(names.begin(), names.end(), "Comorbidities: Hypertension, n (%)") == 1);
  CHECK(std::count(names.begin(), names.end(), "  Unchecked") == 0);
  const AnalysisResultSet model = analysis::RunAnalysis(
      store, Request("logistic", {{"study", "cohort"}, {"outcome", "cbp"}, {"predictors", {"comorb___1"}}}));
  CHECK(FindRow(model, "odds_ratios", "comorb___1Checked").extra["var_label"] == "Comorbidities: Hypertension");
  CHECK(FindRow(model, "odds_ratios", "comorb___1Unchecked").extra["reference_row"] == true);
}

TEST_CASE("strata read as labels under --by", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = analysis::RunAnalysis(
      store,
      Request("logistic", {{"study", "cohort"}, {"outcome", "cbp"}, {"predictors", {"lmm"}}, {"by", "osteoarthritis"}}));
  CHECK(FindRow(result, "odds_ratios", "lmm", "osteoarthritis=present").extra["stratum_label"] ==
        "Osteoarthritis (X-ray) = present");
  CHECK_THAT(Printed(result, OutputFormat::kTable), Contains("Osteoarthritis (X-ray) = present"));
  CHECK_THAT(Printed(result, OutputFormat::kTable, true), Contains("osteoarthritis=present"));
}

TEST_CASE("a recorded run keeps its labels and diffs with a run recorded before labels", "[labels]") {
  Store store = LabelledCohort();
  const AnalysisResultSet result = LogisticRun(store);
  const std::int64_t id = RecordAnalysisRun(store, result, std::nullopt, "", 1.0);
  const auto stored = LoadAnalysisRun(store, id);
  REQUIRE(stored);
  REQUIRE(stored->rows.size() == result.rows.size());
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    CHECK(stored->rows[i].label == result.rows[i].label);
    CHECK_FALSE(stored->rows[i].extra.contains("label"));
  }
  // An old run: no labels, no reference rows, no label keys.
  StoredRun old = *stored;
  old.rows.clear();
  for (ResultRow r : stored->rows) {
    if (r.extra.contains("reference_row")) continue;
    r.label.clear();
    for (const char* key : {"variable", "var_label", "var_type"}) r.extra.erase(key);
    old.rows.push_back(r);
  }
  const RunDiff diff = DiffRuns(old, *stored);
  CHECK(diff.rows.empty());
}

TEST_CASE("numbers format as journals print them", "[labels][format]") {
  using analysis::FormatNumber;
  CHECK(FormatNumber(-0.0, 2) == "0.00");
  CHECK(FormatNumber(-0.004, 2) == "0.00");
  CHECK(FormatNumber(-0.0004, 3) == "0.000");
  CHECK(FormatNumber(-0.006, 2) == "-0.01");
  CHECK(FormatNumber(2.5e9, 2) == "2.50e+09");
  CHECK(FormatNumber(999999.994, 2) == "999999.99");
  CHECK(FormatNumber(std::numeric_limits<double>::infinity(), 2) == "Inf");
  CHECK(FormatNumber(std::nan(""), 2) == "NA");
  CHECK(analysis::FormatEstimateCi(0.8, 0.75, 0.86, 2) == "0.80 (0.75 to 0.86)");
  CHECK(analysis::FormatEstimateCi(-0.48, -0.71, -0.0001, 2) == "-0.48 (-0.71 to 0.00)");
  CHECK(analysis::FormatEstimateCi(3.2e10, 1.5, std::numeric_limits<double>::infinity(), 2) ==
        "3.20e+10 (1.50 to Inf)");
  CHECK(analysis::FormatEstimateCi(1.5, std::nan(""), 2, 2) == "1.50");
  CHECK(analysis::FormatPValue(1e-300) == "<0.001");
  CHECK(analysis::FormatPValue(0) == "<0.001");
  CHECK(analysis::FormatPValue(0.00099) == "<0.001");
  CHECK(analysis::FormatPValue(0.001) == "0.001");
  CHECK(analysis::FormatPValue(0.0999) == "0.100");
  CHECK(analysis::FormatPValue(0.43) == "0.43");
  CHECK(analysis::FormatCount(483230) == "483,230");
  CHECK(analysis::FormatCount(1000) == "1,000");
  CHECK(analysis::FormatCount(999) == "999");
  CHECK(analysis::FormatCount(-1234567) == "-1,234,567");
}

TEST_CASE("an odds ratio table uses one CI style and one number of decimals", "[labels][format]") {
  AnalysisResultSet result;
  result.command = "logistic";
  auto add = [&](const char* term, double est, double low, double high, double p) {
    ResultRow r;
    r.section = "odds_ratios";
    r.term = term;
    r.estimate = est;
    r.conf_low = low;
    r.conf_high = high;
    r.p_value = p;
    result.rows.push_back(r);
  };
  add("separated", 4.2e12, 3.0, std::numeric_limits<double>::infinity(), 1e-200);
  add("null", 1.0, 0.99999, 1.00001, 1);
  add("small", 0.001, 0.0001, 0.01, 0.0004);
  const auto tables = analysis::PaperTables(result);
  const auto& t = TableTitled(tables, "Odds ratios");
  CHECK(std::get<std::string>(t.table.rows[0][1]) == "4.20e+12 (3.00 to Inf)");
  CHECK(std::get<std::string>(t.table.rows[0][2]) == "<0.001");
  CHECK(std::get<std::string>(t.table.rows[1][1]) == "1.00 (1.00 to 1.00)");
  CHECK(std::get<std::string>(t.table.rows[1][2]) == "1.00");
  CHECK(std::get<std::string>(t.table.rows[2][1]) == "0.00 (0.00 to 0.01)");
}

TEST_CASE("the model summary prints as a footer in words", "[labels][format]") {
  AnalysisResultSet result;
  result.command = "logistic";
  result.rows_used = 483230;
  result.rows_excluded = 1770;
  result.diagnostics["excluded_because"] = {{"missing age", 1770}};
  result.summary["model"] = "mixed logistic (Laplace)";
  result.summary["nobs"] = 483230;
  result.summary["groups"] = 12;
  result.summary["random"] = "site";
  result.summary["log_likelihood"] = -1234.54;
  result.summary["aic"] = 2489.04;
  result.summary["iterations"] = 7;
  result.summary["converged"] = true;
  result.summary["separation"] = "quasi-complete separation of x";
  const auto lines = analysis::SummaryFooter(result);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "n = 483,230 rows used (1,770 excluded: missing age 1,770)");
  // the model's n is the rows-used line's: said once
  CHECK(lines[1] ==
        "mixed logistic (Laplace); 12 groups of site; log-likelihood -1234.5; AIC 2489.0; converged in 7 iterations");
  CHECK(lines[2] == "separation: quasi-complete separation of x");
  result.summary["nobs"] = 483000;
  CHECK_THAT(analysis::SummaryFooter(result)[1], Contains("mixed logistic (Laplace); n = 483,000; 12 groups"));
  result.summary["converged"] = false;
  CHECK_THAT(analysis::SummaryFooter(result)[1], Contains("did NOT converge"));
  // json keeps the summary object as it was
  const auto json = analysis::ResultJson(result);
  CHECK(json["summary"]["aic"] == 2489.04);
  CHECK(json["summary"]["converged"] == false);
}

TEST_CASE("glm prints its risk ratios with labels and the reference level", "[labels]") {
  Store store = CohortStore();
  store.Exec("UPDATE variable SET label = 'Chronic back pain' WHERE code = 'cbp'");
  const AnalysisResultSet result = analysis::RunAnalysis(
      store, Request("glm", {{"study", "cohort"}, {"formula", "cbp ~ sex + lmm"}, {"se", "robust"}}));
  const auto tables = analysis::PaperTables(result);
  const auto& t = TableTitled(tables, "Risk ratios for Chronic back pain");
  const auto names = FirstColumn(t);
  REQUIRE(names.size() == 4);
  CHECK(names[0] == "Sex");
  CHECK(names[1] == "  female");
  CHECK(std::get<std::string>(t.table.rows[1][1]) == "reference");
  CHECK(names[2] == "  male");
  // the printed risk ratio is the row's estimate, two decimals, CI with "to"
  const ResultRow& male = FindRow(result, "risk_ratios", "sexmale");
  CHECK(std::get<std::string>(t.table.rows[2][1]) == analysis::FormatEstimateCi(male.estimate, male.conf_low,
                                                                                male.conf_high, 2));
  CHECK(names[3] == "lmm");
}
